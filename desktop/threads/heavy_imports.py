"""Loading large native libraries on a worker thread without stalling the GUI thread.

An import on another thread still stops the GUI thread wherever the importing thread holds the
GIL for long: Qt's multimedia modules and its FFmpeg plugin are therefore loaded first through
ctypes (`dlopen` without the GIL). Best effort: where it does not apply (Windows) the import
simply happens as usual. (torch, which needed the same and more, no longer loads in the window's
process: the model runs in its own, `desktop.threads.model_process`.) On X11 the same goes for
Mesa's OpenGL driver, which the video widget's first native window loads (with LLVM) otherwise.
And once the window is painted, the extension modules of PyAV and numpy that the window's threads
import (PyAV's ~50 at the first probe, numpy's on the model thread) have their libraries loaded the
same way first (`load_extension_modules_without_gil`). Measurements: docs/architecture.md.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.machinery
import importlib.util
import os
import sys
import threading
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
    if os.name != "posix":
        return False
    try:
        if library.is_absolute() and not library.is_file():  # a bare name is looked up by the dynamic loader
            return False
        # Python's own flags for extension modules: the import then finds the same copy.
        return bool(_dlopen()(os.fsencode(library), sys.getdlopenflags() if flags is None else flags))
    except (OSError, AttributeError, ValueError):  # an unreadable folder too: the import says what it says
        return False


@functools.cache
def _dlopen():
    dlopen = ctypes.CDLL(None).dlopen
    dlopen.restype = ctypes.c_void_p
    dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
    return dlopen


# Whose extension modules may load without the GIL: C and Cython, whose libraries' constructors never
# touch Python (a C++ extension's static objects may, as Boost.Python's do, and must run under the GIL
# as the import runs them). The window's threads import these: PyAV at the first probe, numpy on the
# model thread.
PACKAGES_LOADED_WITHOUT_GIL = ("av", "numpy")


def load_extension_modules_without_gil(packages: tuple[str, ...] = PACKAGES_LOADED_WITHOUT_GIL) -> bool:
    """From now on, each extension module of `packages` imported on a thread other than the main one
    has its library loaded without the GIL first (Python's import loads it holding the GIL: 13 ms for
    PyAV's first module, which links FFmpeg, and ~1 ms for each of its ~50 others, during which the GUI
    thread cannot run a line of Python). The import itself then finds the library loaded and only
    runs the module's init; one that cannot load is left to the import, which raises as it would
    have. On the main thread nothing changes (letting go of the GIL there would only make it wait to
    take it back). Process-wide, once; False where it does not apply (not POSIX, or installed already)."""
    loader = importlib.machinery.ExtensionFileLoader
    if os.name != "posix" or getattr(loader.create_module, "loads_without_gil", False):
        return False
    try:
        _dlopen()  # made here, not at the first import (ctypes' own modules are imported by then)
    except (OSError, AttributeError):
        return False
    folders = tuple(folder + os.sep for folder in _package_folders(packages))
    create_module = loader.create_module

    @functools.wraps(create_module)
    def create_module_after_loading(self, spec):
        origin = spec.origin or ""  # what the import loads (`self.path` may say otherwise)
        if os.path.isabs(origin) and origin.startswith(folders) and threading.current_thread() is not threading.main_thread():
            dlopen_without_gil(Path(origin))
        return create_module(self, spec)

    create_module_after_loading.loads_without_gil = True
    loader.create_module = create_module_after_loading
    return True


def _package_folders(packages: tuple[str, ...]) -> list[str]:
    """Where these top-level packages live (found, not imported)."""
    folders = []
    for name in packages:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        folders += list(spec.submodule_search_locations or []) if spec else []  # as its modules' origins will say
    return folders


def preload_opengl_libraries() -> bool:
    """On a worker thread, under Qt's X11 platform: Mesa's GLX library and its DRI driver, which the
    video widget's first native window (an OpenGL surface) loads otherwise on the GUI thread, LLVM
    and its static initialisers included (about 60 ms measured under Xvfb). Mesa builds its DRI
    drivers as one file under many names (hard links), so loading the software one loads the one a
    GPU uses too. Under another vendor's GLX (NVIDIA's) this only costs the worker's time. Never raises."""
    if not sys.platform.startswith("linux"):
        return False
    if not dlopen_without_gil(Path("libGLX_mesa.so.0"), os.RTLD_LAZY):  # as libglvnd opens a vendor
        return False
    folders = os.environ.get("LIBGL_DRIVERS_PATH", "").split(os.pathsep) if os.environ.get("LIBGL_DRIVERS_PATH") else []
    glx = _loaded_library_path("libGLX_mesa.so.0")
    if glx is not None:
        folders.append(str(glx.parent / "dri"))
    for folder in folders:
        driver = Path(folder) / "swrast_dri.so"
        if driver.is_file():
            return dlopen_without_gil(driver, os.RTLD_NOW | os.RTLD_GLOBAL)  # Mesa's loader's flags
    return False


def _loaded_library_path(name: str) -> Path | None:
    """Where the loaded library `name` lives, from this process's memory map."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                path = line.rstrip("\n").split(maxsplit=5)[-1]
                if path.startswith("/") and Path(path).name.startswith(name):
                    return Path(path)
    except OSError:
        pass
    return None
