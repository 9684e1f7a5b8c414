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


def test_an_inline_error_text_blanks_secrets_and_escapes_controls():
    safe_text.register_secret(KEY)
    assert error_text(OSError(f"{KEY} \u202efdp.exe")) == "*** \\u202efdp.exe"
