"""Native libraries loaded off the GUI thread: best effort, never an error."""

from __future__ import annotations

import os

from desktop.threads.heavy_imports import dlopen_without_gil, preload_opengl_libraries


def test_preloading_opengl_never_raises_and_skips_what_is_not_a_regular_file(tmp_path, monkeypatch):
    os.mkfifo(tmp_path / "swrast_dri.so")  # opening a FIFO would wait for a writer forever
    monkeypatch.setenv("LIBGL_DRIVERS_PATH", str(tmp_path))
    assert preload_opengl_libraries() in (True, False)


def test_a_missing_library_is_not_loaded(tmp_path):
    assert dlopen_without_gil(tmp_path / "missing.so") is False
    assert dlopen_without_gil(tmp_path) is False  # a folder
