"""Native libraries loaded off the GUI thread: best effort, never an error, only the library the import itself loads."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import threading
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


def _hooked(monkeypatch, packages: tuple[str, ...]) -> list[Path]:
    """The hook installed for `packages`, for this test only (the class's method is put back after
    it); what it loads before an import, in order."""
    loader = importlib.machinery.ExtensionFileLoader
    monkeypatch.setattr(loader, "create_module", loader.create_module)
    if getattr(loader.create_module, "loads_without_gil", False):  # the app, run earlier in this process, installed it
        monkeypatch.setattr(loader, "create_module", loader.create_module.__wrapped__)
    loaded: list[Path] = []
    real = heavy_imports.dlopen_without_gil
    monkeypatch.setattr(heavy_imports, "dlopen_without_gil", lambda library, flags=None: loaded.append(library) or real(library, flags))
    assert heavy_imports.load_extension_modules_without_gil(packages) is True
    return loaded


def _on_a_thread(function):
    """`function()` on a thread of its own (the hook leaves the main thread alone): its result, or its exception raised here."""
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = function()
        except BaseException as error:  # noqa: BLE001 (raised again on the test's thread)
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


@pytest.fixture
def fake_package(tmp_path, monkeypatch):
    """A package folder on sys.path, to put extension files in."""
    (tmp_path / "fakepkg").mkdir()
    (tmp_path / "fakepkg" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path / "fakepkg"


posix_only = pytest.mark.skipif(os.name != "posix", reason="dlopen")


@posix_only
def test_an_extension_module_of_a_listed_package_is_loaded_without_the_gil_before_its_import(monkeypatch):
    loaded = _hooked(monkeypatch, ("numpy",))
    spec = importlib.util.find_spec("numpy._core._multiarray_umath")
    module = _on_a_thread(lambda: importlib.util.module_from_spec(spec))
    assert loaded == [Path(spec.origin)] and module.__name__ == spec.name
    assert heavy_imports.load_extension_modules_without_gil(("numpy",)) is False  # once per process


@posix_only
def test_the_main_thread_and_other_packages_import_as_before(monkeypatch):
    # Other packages' libraries may be C++ whose constructors touch Python: those run under the GIL.
    loaded = _hooked(monkeypatch, ("numpy",))
    importlib.util.module_from_spec(importlib.util.find_spec("numpy._core._multiarray_umath"))
    for name in ("_json", "_bisect", "_heapq", "_csv", "_decimal"):
        spec = importlib.util.find_spec(name)
        if spec is not None and isinstance(spec.loader, importlib.machinery.ExtensionFileLoader):
            _on_a_thread(lambda spec=spec: importlib.util.module_from_spec(spec))
    assert loaded == []


@posix_only
def test_a_library_that_cannot_load_still_fails_its_import_as_before(monkeypatch, fake_package):
    broken = fake_package / "broken.so"
    broken.write_bytes(b"\x7fELF not really")
    loaded = _hooked(monkeypatch, ("fakepkg",))
    spec = importlib.util.spec_from_file_location("fakepkg.broken", broken, loader=importlib.machinery.ExtensionFileLoader("fakepkg.broken", str(broken)))
    with pytest.raises(ImportError):
        _on_a_thread(lambda: importlib.util.module_from_spec(spec))
    assert loaded == [broken]


@posix_only
def test_a_relative_path_is_left_to_the_import(monkeypatch, fake_package):
    # dlopen would search the library path for a bare name: Python's import never does.
    loaded = _hooked(monkeypatch, ("fakepkg",))
    spec = importlib.util.spec_from_loader("fakepkg.nowhere", importlib.machinery.ExtensionFileLoader("fakepkg.nowhere", "nowhere.so"))
    with pytest.raises(ImportError):
        _on_a_thread(lambda: importlib.util.module_from_spec(spec))
    assert loaded == []


def test_a_path_the_system_refuses_to_look_at_is_no_error(tmp_path):
    # Path.is_file() lets an error other than "missing" through (here: a name too long; an unreadable
    # folder does the same): it would have become the import's error.
    assert dlopen_without_gil(tmp_path / ("x" * 300) / "inside.so") is False
