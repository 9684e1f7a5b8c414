"""Model backends behind the interface in `base.py`, one module per kind of checkpoint code.

Which backend runs which model is declared by the families (`videochat.families`): a backend's
"module:Class" is imported only when it is asked for, so that importing the core stays free of
torch and transformers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from videochat.models.resolve import ModelRef


def backend_class(name: str):
    from videochat.families import all_backends

    backends = all_backends()
    try:
        module_name, class_name = backends[name].target.split(":")
    except KeyError:
        raise KeyError(f"no backend named {name!r}; known: {', '.join(backends)}") from None
    return getattr(importlib.import_module(module_name), class_name)


def create_backend(ref: ModelRef, options=None):
    from videochat.backends.base import LoadOptions

    return backend_class(ref.backend)(ref, options or LoadOptions())
