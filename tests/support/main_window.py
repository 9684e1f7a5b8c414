"""The main window as the desktop tests drive it: made and shown, a clip opened, a question asked as a user asks it, a bubble's text read."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel

from desktop.windows.main_window import MainWindow
from videochat.settings import Settings

WAIT_MS = 20_000  # a bound for a loaded machine, not a timing claim: each wait ends as soon as its condition holds


def make_window(qtbot, tmp_path, tiny_model=None) -> MainWindow:
    """A main window on screen (its settings in `tmp_path`), its model thread started, `tiny_model` loaded if given."""
    window = MainWindow(Settings(), settings_path=tmp_path / "settings.json")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.worker.start()
    if tiny_model is not None:
        with qtbot.waitSignal(window.worker.sig_loaded, timeout=WAIT_MS):
            window.load_model(str(tiny_model))
    return window


def open_clip(qtbot, window, path):
    """Open `path` in the window's player and wait for it: its `VideoInfo`."""
    with qtbot.waitSignal(window.player.sig_opened, timeout=WAIT_MS) as blocker:
        window.open_video(path)
    return blocker.args[0]


def open_and_wait_for_session(qtbot, window, path):
    """Open `path` and wait for its conversation to be read: its `VideoInfo` and its `Session`."""
    with qtbot.waitSignal(window.sessions.sig_opened, timeout=WAIT_MS) as blocker:
        info = open_clip(qtbot, window, path)
    return info, blocker.args[0]


def ask(qtbot, window, question: str, tokens: int = 6):
    """Type `question`, press Return and wait for the answer (at most `tokens` new tokens): the `Answer`."""
    window.chat.tokens_spin.setValue(tokens)
    with qtbot.waitSignal(window.worker.sig_answer_finished, timeout=WAIT_MS) as blocker:
        window.chat.question_box.setPlainText(question)
        QTest.keyClick(window.chat.question_box, Qt.Key.Key_Return)
    return blocker.args[0]


def bubble_text(bubble) -> str:
    return " ".join(label.text() for label in bubble.findChildren(QLabel))
