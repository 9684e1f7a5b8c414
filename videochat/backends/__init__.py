"""Model backends: one module per family behind the interface in `base.py`, chosen by registry.

Modules are imported only when their backend is asked for, so that importing the core stays
free of torch and transformers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from videochat.models.catalog import ModelRef

# backend name -> "module:Class"
BACKENDS = {
    "internvl": "videochat.backends.internvl:InternVLBackend",
    "internvideo2": "videochat.backends.internvideo2:InternVideo2Backend",
    "llava-onevision": "videochat.backends.native:LlavaOneVisionBackend",
    "qwen2-vl": "videochat.backends.native:Qwen2VLBackend",
}

# The backends that load with trust_remote_code=True (the others never run a folder's code).
RUNS_MODEL_CODE = frozenset({"internvl", "internvideo2"})


def backend_class(name: str):
    try:
        module_name, class_name = BACKENDS[name].split(":")
    except KeyError:
        raise KeyError(f"no backend named {name!r}; known: {', '.join(BACKENDS)}") from None
    return getattr(importlib.import_module(module_name), class_name)


def create_backend(ref: ModelRef, options=None):
    from videochat.backends.base import LoadOptions

    return backend_class(ref.backend)(ref, options or LoadOptions())
