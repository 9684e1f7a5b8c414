"""Qt tests run offscreen: without a display and without this, the whole run aborts.

Also the fixtures the desktop tests share: a tiny model (built once per module) and the main window with it loaded.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Qt's multimedia backend looks for PipeWire and PulseAudio; their absence is not an error here.
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false;qt.qpa.*=false")


import pytest  # noqa: E402 (after the environment is set for Qt)


@pytest.fixture(autouse=True)
def fresh_probe_cache():
    """Each test probes its files anew: counting and slowed probes see every call."""
    from desktop.player.probes import probes

    probes.clear()
    yield
    probes.clear()


@pytest.fixture(autouse=True)
def no_error_dialog(monkeypatch):
    """An unexpected error is recorded in `ErrorPresenter.shown`; its modal dialog would block the run."""
    from desktop.errors import ErrorPresenter

    monkeypatch.setattr(ErrorPresenter, "show_dialog", lambda self, summary, details: None)


@pytest.fixture(autouse=True)
def own_app_data(tmp_path, monkeypatch):
    """Each test has its own sessions (and download records): a clip asked about in one test is new in the next."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "app-data"))


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A tiny LLaVA-OneVision checkpoint, built once per test module."""
    from tests.support.tiny_native import build_llava_onevision

    return build_llava_onevision(tmp_path_factory.mktemp("llava-tiny"))


@pytest.fixture
def window(qtbot, tmp_path, tiny_model):
    """The main window on screen with `tiny_model` loaded in its model process; shut down after the test."""
    from tests.support.main_window import make_window

    window = make_window(qtbot, tmp_path, tiny_model)
    yield window
    window.shutdown()
