"""Where the keyboard focus goes (Esc leaves a text field for the player, Send hands the focus back), and the status bar."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop.windows.main_window import MainWindow
from tests.support.main_window import ask, open_clip
from videochat.settings import Settings


@pytest.fixture
def bare_window(qtbot, tmp_path):
    window = MainWindow(Settings(), settings_path=tmp_path / "settings.json")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    yield window
    window.shutdown()


def player_has_focus(window) -> bool:
    focused = window.focusWidget()
    return focused is window.player or window.player.isAncestorOf(focused)


@pytest.mark.parametrize("field", ["question_box", "tokens_spin", "temperature_spin", "frames_spin"])
def test_esc_in_a_text_field_gives_the_focus_back_to_the_player(qtbot, bare_window, field):
    widget = getattr(bare_window.chat, field)
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus)
    QTest.keyClick(widget, Qt.Key.Key_Escape)
    assert player_has_focus(bare_window)


def test_esc_in_a_text_field_leaves_the_segment_and_esc_in_the_player_clears_it(qtbot, bare_window, clips):
    open_clip(qtbot, bare_window, clips("plain.mp4"))
    bare_window.player.set_in_point(0.5)
    bare_window.player.set_out_point(1.5)
    bare_window.chat.question_box.setFocus()
    qtbot.waitUntil(bare_window.chat.question_box.hasFocus)
    QTest.keyClick(bare_window.chat.question_box, Qt.Key.Key_Escape)
    assert bare_window.player.segment() is not None and player_has_focus(bare_window)
    QTest.keyClick(bare_window.focusWidget(), Qt.Key.Key_Escape)
    assert bare_window.player.segment() is None


def test_after_send_the_focus_is_back_on_the_player_whose_keys_work(qtbot, window, clips):
    open_clip(qtbot, window, clips("plain.mp4"))
    window.chat.question_box.setFocus()
    qtbot.waitUntil(window.chat.question_box.hasFocus)
    ask(qtbot, window, "What happens?")
    assert player_has_focus(window)
    QTest.keyClick(window.focusWidget(), Qt.Key.Key_I)
    assert window.chat.question_box.toPlainText() == "" and window.player.segment() is not None


def test_the_status_bar_is_there_from_the_start_and_a_message_does_not_move_the_panes(qtbot, bare_window):
    from PySide6.QtWidgets import QApplication, QStatusBar

    [bar] = bare_window.findChildren(QStatusBar)  # looked up, not made: statusBar() would make one
    assert bar.isVisible()
    before = bare_window.centralWidget().geometry()
    bare_window.statusBar().showMessage("Exported to report.md", 5000)
    QApplication.processEvents()
    assert bare_window.centralWidget().geometry() == before
