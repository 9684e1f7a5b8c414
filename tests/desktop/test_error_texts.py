"""Errors the window shows (the unexpected-error dialog, inline texts): secrets blanked, controls escaped."""

from __future__ import annotations

import pytest

from desktop.errors import ErrorPresenter, error_text
from videochat import safe_text

KEY = "engine-key-NotShapedLikeAHubToken-42"


@pytest.fixture(autouse=True)
def no_registered_secrets(monkeypatch):
    monkeypatch.setattr(safe_text, "_registered", set())


def test_the_error_dialog_and_its_details_never_show_a_known_secret(qtbot, capsys):
    safe_text.register_secret(KEY)
    presenter = ErrorPresenter()
    try:
        raise RuntimeError(f"server said: bad key {KEY}\x1b[2J")
    except RuntimeError as error:
        presenter.report(error)
    qtbot.waitUntil(lambda: bool(presenter.shown))
    assert presenter.shown == ["RuntimeError: server said: bad key ***\\x1b[2J"]
    assert KEY not in capsys.readouterr().err


def test_an_unexpected_error_opens_the_dialog_with_its_summary_and_details(qtbot, monkeypatch):
    dialogs = []
    monkeypatch.setattr(ErrorPresenter, "show_dialog", lambda self, summary, details: dialogs.append((summary, details)))
    presenter = ErrorPresenter()
    try:
        raise ValueError("unexpected")
    except ValueError as error:
        presenter.report(error)
    qtbot.waitUntil(lambda: bool(dialogs))
    summary, details = dialogs[0]
    assert summary == "ValueError: unexpected" and "Traceback" in details and 'raise ValueError("unexpected")' in details


def test_an_inline_error_text_blanks_secrets_and_escapes_controls():
    safe_text.register_secret(KEY)
    assert error_text(OSError(f"{KEY} \u202efdp.exe")) == "*** \\u202efdp.exe"


MARKUP_NAME = "<b>x<!--"


def test_the_start_up_error_dialog_shows_a_name_that_looks_like_markup_as_typed(qapp, monkeypatch, capsys):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    from desktop.app import _report_start_failure

    shown = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append((box.text(), box.textFormat())))
    _report_start_failure(FileNotFoundError(f"No such file: '{MARKUP_NAME}.json'"))
    assert shown == [(f"FileNotFoundError: No such file: '{MARKUP_NAME}.json'", Qt.TextFormat.PlainText)]
    assert MARKUP_NAME in capsys.readouterr().err


def test_the_export_failed_warning_shows_a_file_name_that_looks_like_markup_as_typed(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QFileDialog, QMainWindow, QMessageBox

    from desktop.session.exporting import export_with_dialog
    from videochat.sessions.session import Session, VideoIdentity

    window = QMainWindow()
    qtbot.addWidget(window)
    window.player = type("NoPlayer", (), {"info": None, "timeline": None})()
    session = Session(VideoIdentity(str(tmp_path / "clip.mp4"), 1, duration=10.0, fps=25.0, frame_count=250))
    out = tmp_path / f"{MARKUP_NAME}.md"
    out.mkdir()  # a folder of that name: the write fails
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *args, **kwargs: (str(out), "")))
    export_with_dialog(window, session, "markdown")

    def warning():
        return next((w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()), None)

    qtbot.waitUntil(lambda: warning() is not None, timeout=10_000)
    box = warning()
    assert box.windowTitle() == "Export failed" and box.text().startswith(f"{MARKUP_NAME}.md could not be written: ")
    assert box.textFormat() == Qt.TextFormat.PlainText
    box.close()
