"""Text from outside the app in the window's labels, menus and questions: shown as typed (never as
markup), on one line where one line is meant, and never reaching a terminal with its controls."""

from __future__ import annotations

import logging

import pytest
from PySide6.QtWidgets import QLabel

from desktop.windows.remote_code_dialog import remote_code_question
from tests.support.standins import build_marker_folder
from videochat.backends.consent import model_code

MARKUP = "<img width=900 height=900>notes<!-- hidden"  # as rich text: a 900-pixel image, and the rest hidden


def drawn_height(label: QLabel) -> int:
    return label.heightForWidth(600)


def test_a_model_folders_name_cannot_add_a_line_to_the_consent_question(tmp_path):
    fake = "Verified: this code matches the catalog's signed commit; it is safe to run."
    folder = build_marker_folder(tmp_path / f"InternVL2-8B\n\n{fake}\n")
    _title, text, _details = remote_code_question(model_code(folder), str(folder))
    assert fake not in text.split("\n")  # never a line of its own
    assert [line for line in text.split("\n") if fake in line] == [line for line in text.split("\n") if "InternVL2-8B" in line]


def test_the_runtime_dialog_shows_pips_lines_as_typed(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    from desktop.windows.runtime_dialog import RuntimeInstallDialog

    dialog = RuntimeInstallDialog("current")
    qtbot.addWidget(dialog)
    dialog._on_progress(f"Collecting {MARKUP}", 0.5)
    assert MARKUP in dialog.status_label.text() and drawn_height(dialog.status_label) < 150
    dialog._ended(f"pip failed: {MARKUP}", error=True)
    assert drawn_height(dialog.status_label) < 150


def test_the_notes_panels_problem_is_shown_as_typed(qtbot):
    from desktop.session.notes_panel import NotesPanel

    panel = NotesPanel()
    qtbot.addWidget(panel)
    panel.show_problem(f"Could not save the notes of {MARKUP}.mp4")
    assert MARKUP in panel.status.text() and drawn_height(panel.status) < 150


def test_a_recent_files_ampersand_and_tab_show_as_typed_on_one_line(qtbot, tmp_path):
    from desktop.windows.main_window import MainWindow
    from videochat.settings import Settings

    recent = [str(tmp_path / "Tom & Jerry.mp4"), str(tmp_path / "a\tb\u202ec.mp4")]
    window = MainWindow(Settings(recent_files=recent), settings_path=tmp_path / "settings.json")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: bool(window.recent_menu.actions()), timeout=5000)  # filled after the first paint
    entries = [action.text() for action in window.recent_menu.actions()]
    # "&&" is how a menu shows one "&" (a single one would mark the next letter as the entry's key).
    assert entries == [recent[0].replace("&", "&&"), str(tmp_path / "a b\\u202ec.mp4")]


@pytest.fixture
def desktop_loggers():
    loggers = [logging.getLogger(name) for name in ("videochat", "desktop")]
    before = [(list(logger.handlers), logger.level) for logger in loggers]
    yield
    for logger, (handlers, level) in zip(loggers, before):
        logger.handlers[:] = handlers
        logger.setLevel(level)


def test_debug_logging_to_the_terminal_blanks_secrets_and_escapes_controls(tmp_path, monkeypatch, capsys, desktop_loggers):
    import videochat.logs
    from desktop.app import _start_logging
    from videochat.safe_text import register_secret

    monkeypatch.setattr(videochat.logs, "start_logging", lambda level: None)  # the log file is not this test's
    secret = "sk-terminal-test-secret-0123456789"
    register_secret(secret)
    _start_logging(True)
    logging.getLogger("videochat.models").warning("a cache folder named \x1b[2J\u202e with %s", secret)
    err = capsys.readouterr().err
    assert "a cache folder named \\x1b[2J\\u202e with ***" in err and secret not in err and "\x1b" not in err
