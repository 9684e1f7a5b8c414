"""The main window with models on servers, as the server tests drive it: made on the test's own folders (the
`homes` fixture, tests/desktop/windows/conftest.py), "Add a server…" filled as a user fills it, a served model
chosen and loaded, a question asked, the chat's notices read, and the stored key used everywhere it could leak.

The server is the loopback stand-in (tests/support/engine_standin.py). `ask` here waits for the answer with
the window's own token limit; tests/support/main_window.py's `ask` sets a small one for a local tiny model.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop.chat.model_list import ADD_SERVER_ITEM
from desktop.windows.add_server_dialog import AddServerDialog
from desktop.windows.main_window import MainWindow
from videochat.settings import Settings

WAIT_MS = 20_000
MODEL = "OpenGVLab/InternVL2-8B"
KEY = "sk-window-standin-key-5550123"


def make_window(qtbot, homes, servers=()) -> MainWindow:
    path = homes / "config" / "videochat" / "settings.json"
    settings = Settings.load(path)
    for address in servers:
        settings.add_server(address)
    window = MainWindow(settings, settings_path=path)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def rows(window) -> list[tuple[str, object, bool]]:
    combo = window.chat.model_combo
    return [(combo.itemText(i), combo.itemData(i), combo.model().item(i).isEnabled()) for i in range(combo.count()) if combo.itemText(i)]


def add_server(qtbot, window, monkeypatch, url: str, key: str = "") -> None:
    """Choose "Add a server…" and fill the dialog as a user would."""

    def filled(dialog: AddServerDialog) -> int:
        dialog.url_edit.setText(url)
        dialog.key_edit.setText(key)
        dialog.accept()
        return dialog.result()

    monkeypatch.setattr(AddServerDialog, "exec", filled)
    combo = window.chat.model_combo
    combo.activated.emit(combo.findText(ADD_SERVER_ITEM))


def choose_and_load(qtbot, window, label: str):
    combo = window.chat.model_combo
    index = combo.findText(label)
    assert index >= 0, rows(window)
    with qtbot.waitSignal(window.worker.sig_loaded, timeout=WAIT_MS) as loaded:
        combo.setCurrentIndex(index)
        combo.activated.emit(index)
        assert window.chat.status_label.text() == f"Loading {label}…"
    return loaded.args[0]


def ask(qtbot, window, question: str):
    with qtbot.waitSignal(window.worker.sig_answer_finished, timeout=WAIT_MS) as finished:
        window.chat.question_box.setPlainText(question)
        QTest.keyClick(window.chat.question_box, Qt.Key.Key_Return)
    return finished.args[0]


def notices(window) -> list[str]:
    from desktop.chat.bubbles import NoticeBubble

    return [widget.label.text() for widget in window.chat.bubbles() if isinstance(widget, NoticeBubble)]


def label_of(standin) -> str:
    return f"InternVL2-8B @ {standin.url.removeprefix('http://')}"


def load_served_model_on_a_clip(qtbot, window, monkeypatch, standin, clips):
    """Add the stand-in with KEY, load its model, open plain.mp4: the `EngineRef` loaded."""
    window.start_models()
    add_server(qtbot, window, monkeypatch, standin.url, KEY)
    qtbot.waitUntil(lambda: window.chat.model_combo.findText(label_of(standin)) >= 0, timeout=WAIT_MS)
    ref = choose_and_load(qtbot, window, label_of(standin))
    with qtbot.waitSignal(window.player.sig_opened, timeout=WAIT_MS):
        window.open_video(clips("plain.mp4"))
    return ref


def export_every_format(qtbot, window, monkeypatch, folder) -> None:
    from PySide6.QtWidgets import QFileDialog

    from videochat.sessions.formats import FORMATS

    folder.mkdir()
    for name, chosen in FORMATS.items():
        target = folder / f"conversation.{chosen.extension.lstrip('.')}"
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, t=str(target): (t, ""))
        window.export_conversation(name)
        qtbot.waitUntil(target.exists, timeout=WAIT_MS)


@contextmanager
def app_log(monkeypatch):
    """The app's log file, started afresh for this test (and closed after it): its path."""
    import videochat.logs as logs

    monkeypatch.setattr(logs, "_handler", None)
    log_path = logs.start_logging()
    try:
        yield log_path
    finally:
        for name in ("videochat", "huggingface_hub", "urllib3"):
            logging.getLogger(name).removeHandler(logs._handler)
        logs._handler.close()


def use_the_key_everywhere(qtbot, window, monkeypatch, standin, clips, homes) -> None:
    """With `standin`'s key: load its model on a clip, ask, log the key as a server's error might echo it,
    wait for the turn to be saved, and export every format (under `homes`)."""
    load_served_model_on_a_clip(qtbot, window, monkeypatch, standin, clips)
    ask(qtbot, window, "What happens?")
    logging.getLogger("videochat.test").warning("the server echoed %s", KEY)
    qtbot.waitUntil(lambda: window.sessions.current() is not None and bool(window.sessions.current().turns), timeout=WAIT_MS)
    export_every_format(qtbot, window, monkeypatch, homes / "exports")
