"""The current runtime from the window: the model manager offers to install it for the models that need it,
the dialog shows the install's progress and cancels it, and a load without it fails with the typed error."""

from __future__ import annotations

import threading
import time

import pytest

from desktop.threads.model_worker import ModelWorker
from desktop.windows.model_manager import ModelManager
from desktop.windows.runtime_dialog import RuntimeInstallDialog
from tests.runtimes.stand_in import make_runtime
from tests.support.hub_server import serving_this_process
from videochat import errors
from videochat.runtimes import install as installing

WAIT_MS = 20_000


@pytest.fixture(autouse=True)
def data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture
def manager(qtbot, tmp_path, monkeypatch):
    with serving_this_process(tmp_path, monkeypatch):
        window = ModelManager()
        qtbot.addWidget(window)
        window.show()
        yield window
        window.worker.shutdown()


def test_the_model_manager_offers_the_current_runtime_for_its_models_until_it_is_installed(manager, qtbot):
    manager.select("InternVL3-1B-hf")
    assert manager.runtime_button.isVisible()
    manager.select("InternVL2-1B")
    assert not manager.runtime_button.isVisible()  # a seed model runs in the app's own runtime
    make_runtime()
    manager.select("Qwen3-VL-8B-Instruct")
    assert not manager.runtime_button.isVisible()
    assert manager._runtime_dialog is None


def a_slow_install(monkeypatch, finish: threading.Event):
    """The install's progress, then a wait for a cancel (or for `finish`), as pip downloading would."""

    def install(name, progress, should_stop, **_options):
        progress("Installing torch 2.13.0 and torchvision 0.28.0", 1 / 6)
        while not finish.is_set():
            if should_stop():
                raise errors.Cancelled("The runtime install was cancelled; nothing was kept.")
            time.sleep(0.02)
        return None

    monkeypatch.setattr(installing, "install", install)


def test_the_install_dialog_shows_progress_and_cancel_keeps_nothing(qtbot, monkeypatch):
    a_slow_install(monkeypatch, threading.Event())
    dialog = RuntimeInstallDialog("current")
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.worker.sig_progress, timeout=WAIT_MS):
        dialog.install_button.click()
    qtbot.waitUntil(lambda: "torch" in dialog.status_label.text(), timeout=WAIT_MS)
    assert dialog.cancel_button.isEnabled() and not dialog.install_button.isEnabled()
    with qtbot.waitSignal(dialog.worker.sig_cancelled, timeout=WAIT_MS):
        dialog.cancel_button.click()
    assert "nothing was kept" in dialog.status_label.text() and dialog.install_button.isEnabled()
    assert dialog.worker.shutdown(2.0)


def test_a_finished_install_is_announced_and_closing_a_running_one_cancels_it(qtbot, monkeypatch):
    finish = threading.Event()
    a_slow_install(monkeypatch, finish)
    dialog = RuntimeInstallDialog("current")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.install_button.click()
    with qtbot.waitSignal(dialog.worker.sig_cancelled, timeout=WAIT_MS):
        dialog.close()
    dialog.show()
    dialog.install_button.click()
    with qtbot.waitSignal(dialog.sig_installed, timeout=WAIT_MS) as installed:
        finish.set()
    assert installed.args == ["current"] and "installed" in dialog.status_label.text()


def test_loading_a_model_whose_runtime_is_not_installed_fails_with_how_to_install_it(qtbot):
    worker = ModelWorker()
    worker.start()
    try:
        with qtbot.waitSignal(worker.sig_load_failed, timeout=WAIT_MS) as failed:
            worker.load("InternVL3-1B")
        error = failed.args[0]
        assert isinstance(error, errors.RuntimeNotInstalled) and "`videochat runtime install current`" in str(error)
        assert worker.loaded_ref is None
    finally:
        assert worker.shutdown(timeout_s=2.0)
