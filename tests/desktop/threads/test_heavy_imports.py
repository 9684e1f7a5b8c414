"""Native libraries loaded off the GUI thread: best effort, never an error, never a different library."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
from pathlib import Path

import pytest

from desktop.threads import heavy_imports
from desktop.threads.heavy_imports import dlopen_without_gil, preload_opengl_libraries


def test_preloading_opengl_never_raises_and_skips_what_is_not_a_regular_file(tmp_path, monkeypatch):
    os.mkfifo(tmp_path / "swrast_dri.so")  # opening a FIFO would wait for a writer forever
    monkeypatch.setenv("LIBGL_DRIVERS_PATH", str(tmp_path))
    assert preload_opengl_libraries() in (True, False)


def test_a_missing_library_is_not_loaded(tmp_path):
    assert dlopen_without_gil(tmp_path / "missing.so") is False
    assert dlopen_without_gil(tmp_path) is False  # a folder


@pytest.fixture
def extensions_hooked(monkeypatch):
    """The hook installed for this test only (the class's method is put back after it)."""
    loader = importlib.machinery.ExtensionFileLoader
    monkeypatch.setattr(loader, "create_module", loader.create_module)
    loaded = []
    real = heavy_imports.dlopen_without_gil
    monkeypatch.setattr(heavy_imports, "dlopen_without_gil", lambda library, flags=None: loaded.append(library) or real(library, flags))
    if getattr(loader.create_module, "loads_without_gil", False):  # the app, run earlier in this process, installed it
        monkeypatch.setattr(loader, "create_module", loader.create_module.__wrapped__)
    assert heavy_imports.load_extension_modules_without_gil() is True
    return loaded


def _standard_extension_spec():
    for name in ("_json", "_bisect", "_heapq", "_csv", "_decimal", "_ctypes"):
        spec = importlib.util.find_spec(name)
        if spec is not None and isinstance(spec.loader, importlib.machinery.ExtensionFileLoader):
            return spec
    pytest.skip("this Python has no shared-library extension modules to try")


@pytest.mark.skipif(os.name != "posix", reason="dlopen")
def test_an_extension_module_is_loaded_without_the_gil_before_its_import(extensions_hooked):
    spec = _standard_extension_spec()
    module = importlib.util.module_from_spec(spec)
    assert extensions_hooked == [Path(spec.origin)] and module.__name__ == spec.name
    assert heavy_imports.load_extension_modules_without_gil() is False  # once per process


@pytest.mark.skipif(os.name != "posix", reason="dlopen")
def test_a_library_that_cannot_load_still_fails_its_import_as_before(extensions_hooked, tmp_path):
    broken = tmp_path / "broken.so"
    broken.write_bytes(b"\x7fELF not really")
    spec = importlib.util.spec_from_file_location("broken", broken, loader=importlib.machinery.ExtensionFileLoader("broken", str(broken)))
    with pytest.raises(ImportError):
        importlib.util.module_from_spec(spec)
    assert extensions_hooked == [broken]


@pytest.mark.skipif(os.name != "posix", reason="dlopen")
def test_a_relative_path_is_left_to_the_import(extensions_hooked):
    # dlopen would search the library path for a bare name: Python's import never does.
    spec = importlib.util.spec_from_loader("nowhere", importlib.machinery.ExtensionFileLoader("nowhere", "nowhere.so"))
    with pytest.raises(ImportError):
        importlib.util.module_from_spec(spec)
    assert extensions_hooked == []
