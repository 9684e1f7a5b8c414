"""Loading large native libraries on a worker thread without stalling the GUI thread.

An import on another thread still stops the GUI thread wherever the importing thread holds the
GIL for long: Qt's multimedia modules and its FFmpeg plugin are therefore loaded first through
ctypes (`dlopen` without the GIL). Best effort: where it does not apply (Windows) the import
simply happens as usual. (torch, which needed the same and more, no longer loads in the window's
process: the model runs in its own, `desktop.threads.model_process`.) Measurements: docs/architecture.md.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
from pathlib import Path

SHARED_LIBRARY_SUFFIX = ".dylib" if sys.platform == "darwin" else ".so"


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
