"""Importing torch and transformers on the model thread without stalling the GUI thread.

An import on another thread still stops the GUI thread wherever the importing thread holds the
GIL for long: torch's native libraries are therefore loaded first through ctypes (`dlopen`
without the GIL), and automatic garbage collection is off during the imports, whose objects are
then frozen (`gc.freeze`: they live as long as the process; the model, loaded afterwards, is not
frozen, so that unloading frees it). Both steps are best effort: where they do not apply
(Windows, torch already imported) the import simply happens as usual. Qt's multimedia module
gets the first step too (`preload_multimedia_libraries`). Measurements: docs/architecture.md, Threads.
"""

from __future__ import annotations

import ctypes
import gc
import importlib.util
import os
import sys
from contextlib import contextmanager
from pathlib import Path

SHARED_LIBRARY_SUFFIX = ".dylib" if sys.platform == "darwin" else ".so"
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
    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return False
    if spec is None or spec.origin is None:
        return False
    # The dynamic loader's lock stays held for the whole load, static initializers included; a
    # thread importing an extension module meanwhile would wait for it with the GIL held, stopping
    # every thread. With Python's import lock held for the load, such an import waits without the
    # GIL. The GUI thread's first imports wait too, so `MainWindow.start_models` imports what a
    # first open needs before any load can begin.
    with _import_lock():
        return dlopen_without_gil(Path(spec.origin).parent / "lib" / f"libtorch_python{SHARED_LIBRARY_SUFFIX}")


def preload_multimedia_libraries(plugins_folder: str) -> bool:
    """On a worker thread: the extension modules of PySide6.QtMultimedia(Widgets) and Qt's FFmpeg
    media plugin (`plugins_folder` is Qt's plugin path), with the libraries they link. Never raises."""
    if os.name != "posix":
        return False
    loaded = True
    for module in ("PySide6.QtMultimedia", "PySide6.QtMultimediaWidgets"):
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            return False
        loaded &= spec is not None and spec.origin is not None and dlopen_without_gil(Path(spec.origin))
    # Qt later loads the plugin itself (lazily bound, as QLibrary does) and finds this copy.
    return loaded and dlopen_without_gil(Path(plugins_folder) / "multimedia" / f"libffmpegmediaplugin{SHARED_LIBRARY_SUFFIX}", os.RTLD_LAZY)


def dlopen_without_gil(library: Path, flags: int | None = None) -> bool:
    """Load a shared library as Python's import would (its flags by default), while other threads run.

    `ctypes.CDLL` holds the GIL while it loads; a foreign function call through ctypes releases it.
    """
    if os.name != "posix" or not library.is_file():
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.dlopen.restype = ctypes.c_void_p
        libc.dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
        # Python's own flags for extension modules: the import then finds the same copy.
        return bool(libc.dlopen(os.fsencode(library), sys.getdlopenflags() if flags is None else flags))
    except (OSError, AttributeError, ValueError):
        return False


@contextmanager
def _import_lock():
    """Python's global import lock: a thread that starts an import waits for it, without the GIL."""
    import _imp

    _imp.acquire_lock()
    try:
        yield
    finally:
        _imp.release_lock()
