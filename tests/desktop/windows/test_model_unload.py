"""Model ▸ Unload in the window: afterwards nothing says a model is loaded (the status line, the HD
switch), asking says how to load it again, and choosing it again loads it; loading another model
never shows "no model" on the way. A served model (the loopback stand-in) stands in for any model:
the window's unload is the same for both, and it needs no model process.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.support.engine_standin import EngineStandIn
from tests.support.window_with_servers import MODEL, WAIT_MS, choose_and_load, make_window, notices
from videochat.settings import Settings


def unload_action(window):
    for menu_action in window.menuBar().actions():
        for action in menu_action.menu().actions():
            if action.text().replace("&", "") == "Unload the model":
                return action
    raise AssertionError("no Model ▸ Unload the model")


def loaded_window(qtbot, homes, standin):
    window = make_window(qtbot, homes, [standin.url])
    window.start_models()
    label = f"InternVL2-8B @ {standin.url.removeprefix('http://')}"
    qtbot.waitUntil(lambda: window.chat.model_combo.findText(label) >= 0, timeout=WAIT_MS)
    choose_and_load(qtbot, window, label)
    assert window.chat.status_label.text().startswith(f"{label} ready")
    return window, label


def test_after_unload_the_status_says_no_model_is_loaded_and_asking_says_how_to_load_it_again(qtbot, homes, clips):
    with EngineStandIn(models=(MODEL,)) as standin:
        window, label = loaded_window(qtbot, homes, standin)
        try:
            with qtbot.waitSignal(window.worker.sig_unloaded, timeout=WAIT_MS):
                unload_action(window).trigger()
            qtbot.waitUntil(lambda: not window.worker.is_busy, timeout=WAIT_MS)
            status = window.chat.status_label.text()
            assert "ready" not in status and status.startswith("No model loaded") and label in status
            assert not window.chat.hd_check.isEnabled()

            with qtbot.waitSignal(window.player.sig_opened, timeout=WAIT_MS):
                window.open_video(clips("plain.mp4"))
            asked = len(standin.received)
            window.chat.question_box.setPlainText("What happens?")
            QTest.keyClick(window.chat.question_box, Qt.Key.Key_Return)
            said = notices(window)[-1]
            assert said.startswith("No model loaded") and f"choose {label}" in said
            assert window.chat.question_box.toPlainText() == "What happens?"  # kept, to send once loaded
            assert len(standin.received) == asked and window.worker.loaded_ref is None

            choose_and_load(qtbot, window, label)  # choosing it again loads it again
            assert window.chat.status_label.text().startswith(f"{label} ready")
        finally:
            window.shutdown()


def test_loading_another_model_shows_loading_not_no_model_while_the_first_is_dropped(qtbot, homes):
    with EngineStandIn(models=(MODEL,)) as standin:
        window, label = loaded_window(qtbot, homes, standin)
        try:
            seen = []
            window.worker.sig_unloaded.connect(lambda: seen.append(window.chat.status_label.text()))
            choose_and_load(qtbot, window, label)
            assert seen and all(text == f"Loading {label}…" for text in seen)
            assert window.chat.status_label.text().startswith(f"{label} ready")
        finally:
            window.shutdown()


def test_an_unloaded_model_is_not_loaded_again_at_the_next_start(qtbot, homes):
    """An unload is asked for to free the memory: the settings stop naming the model, on disk too."""
    with EngineStandIn(models=(MODEL,)) as standin:
        window, label = loaded_window(qtbot, homes, standin)
        try:
            assert window.settings.last_model.startswith("engine:")
            with qtbot.waitSignal(window.worker.sig_unloaded, timeout=WAIT_MS):
                unload_action(window).trigger()
            qtbot.waitUntil(lambda: not window.worker.is_busy, timeout=WAIT_MS)
            assert window.settings.last_model is None
        finally:
            window.shutdown()
    assert Settings.load(homes / "config" / "videochat" / "settings.json").last_model is None


def test_a_model_dropped_for_another_leaves_the_new_one_as_the_model_of_the_next_start(qtbot, homes):
    with EngineStandIn(models=(MODEL,)) as standin:
        window, label = loaded_window(qtbot, homes, standin)
        try:
            choose_and_load(qtbot, window, label)  # the first is dropped on the way: an unload, then a load
            assert window.settings.last_model.startswith("engine:")
        finally:
            window.shutdown()
    assert Settings.load(homes / "config" / "videochat" / "settings.json").last_model.startswith("engine:")
