"""Importing torch and transformers on the model thread without stalling the GUI thread.

An import on another thread still stops the GUI thread wherever the importing thread holds
the GIL for long. Measured here (fresh process, a 2-core machine, the GUI thread ticking every
few ms while the model thread imported torch and transformers and loaded a tiny model): the
GUI thread stood still for up to 280 ms, for two reasons, each handled below.

- Loading torch's native libraries (`import torch._C` runs `dlopen` of libtorch_cpu, hundreds
  of MB, with the GIL held): about 250 ms. `dlopen` called through ctypes releases the GIL, so
  the libraries are loaded that way first; the import then finds them in place.
- Full garbage collections while the imports create hundreds of thousands of objects: four
  pauses of 30 to 135 ms. Automatic collection is off during the imports, and what they created
  is then frozen (`gc.freeze`): those objects live as long as the process anyway, and later
  collections no longer walk them. The model itself is loaded afterwards, unfrozen, so that its
  memory is freed again on unload.

With both, the longest stall measured was about 35 ms. Both steps are best effort: where they
do not apply (Windows, torch already imported) the import simply happens as usual.
"""

from __future__ import annotations

import ctypes
import gc
import importlib.util
import os
import sys
from pathlib import Path

_done = False


def import_model_libraries(backend: str | None = None) -> None:
    """Import torch, transformers and the module of `backend` (a videochat.backends name), keeping the GUI thread's stalls short."""
    global _done
    from videochat.backends import backend_class

    if _done:
        if backend:
            backend_class(backend)
        return
    if "torch" not in sys.modules:
        preload_torch_libraries()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
        # transformers imports its parts on first use: these are the ones every load uses.
        from transformers import AutoConfig, AutoProcessor, AutoTokenizer, TextIteratorStreamer  # noqa: F401

        if backend:
            backend_class(backend)
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
    _done = True


def preload_torch_libraries() -> bool:
    """`dlopen` torch's Python binding library (and with it libtorch) without holding the GIL."""
    if os.name != "posix":
        return False
    try:
        spec = importlib.util.find_spec("torch")
        if spec is None or spec.origin is None:
            return False
        suffix = ".dylib" if sys.platform == "darwin" else ".so"
        library = Path(spec.origin).parent / "lib" / f"libtorch_python{suffix}"
        if not library.is_file():
            return False
        libc = ctypes.CDLL(None)
        libc.dlopen.restype = ctypes.c_void_p
        libc.dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
        # The flags Python itself uses for extension modules: torch._C then finds the same copy.
        return bool(libc.dlopen(os.fsencode(library), sys.getdlopenflags()))
    except (OSError, AttributeError, ValueError):
        return False
