"""The window asks before a model's own code runs, once per version of that code, and a no leaves nothing loaded.

The folder's only code is a tokenizer module named in tokenizer_config.json; importing it writes
a marker file, so whether it ran is read from the disk. The dialog is answered by a stand-in
that records what it was shown.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop.windows.main_window import MainWindow
from desktop.windows.remote_code_dialog import remote_code_box, remote_code_question
from tests.support.standins import build_marker_folder, isolate_hf_caches
from tests.support.standins.builders import MARKER_ENV
from videochat.settings import Settings

WAIT_MS = 60_000


@pytest.fixture
def marker(tmp_path, monkeypatch):
    path = tmp_path / "ran.txt"
    monkeypatch.setenv(MARKER_ENV, str(path))
    with isolate_hf_caches(tmp_path / "hf-root"):
        yield path


@pytest.fixture
def window(qtbot, tmp_path, marker):
    window = MainWindow(Settings(), settings_path=tmp_path / "settings.json")
    qtbot.addWidget(window)
    window.worker.start()
    yield window
    window.shutdown()


class Answers:
    """The consent dialog's stand-in: answers as told, keeps what it was asked."""

    def __init__(self, window, answer: bool):
        self.answer, self.asked = answer, []
        window.model_loading._ask_remote_code_consent = self

    def __call__(self, error) -> bool:
        self.asked.append(error.code)
        return self.answer


def load_and_settle(qtbot, window, model: str) -> None:
    """Load `model` and wait until the worker has nothing left to do (a yes loads again)."""
    window.load_model(model)
    qtbot.waitUntil(lambda: not window.worker.is_busy and not window.chat.status_label.text().startswith("Loading"), timeout=WAIT_MS)


def test_no_to_a_tokenizer_module_runs_nothing_and_leaves_the_app_with_no_model(qtbot, window, marker, tmp_path):
    folder = build_marker_folder(tmp_path / "Someones-model")
    dialog = Answers(window, answer=False)
    load_and_settle(qtbot, window, str(folder))
    assert [code.files for code in dialog.asked] == [("tokenization_marker.py",)]
    assert not marker.exists()
    assert window.worker.loaded_ref is None and "not run" in window.chat.status_label.text()


def test_yes_runs_the_code_and_is_not_asked_again_until_a_code_file_changes(qtbot, window, marker, tmp_path):
    folder = build_marker_folder(tmp_path / "Someones-model")
    dialog = Answers(window, answer=True)
    load_and_settle(qtbot, window, str(folder))
    assert len(dialog.asked) == 1 and marker.exists()  # it ran (the placeholder weights then fail)
    load_and_settle(qtbot, window, str(folder))
    assert len(dialog.asked) == 1  # the same files: the yes stands
    with (folder / "tokenization_marker.py").open("a") as stream:
        stream.write("# changed\n")
    dialog.answer = False
    marker.unlink()
    load_and_settle(qtbot, window, str(folder))
    assert len(dialog.asked) == 2 and dialog.asked[1].digest != dialog.asked[0].digest
    assert not marker.exists()


def test_the_saved_last_model_by_name_is_the_catalog_one_and_never_a_folder_of_the_current_directory(qtbot, window, marker, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    build_marker_folder(tmp_path / "InternVL2-1B")
    dialog = Answers(window, answer=True)
    window.settings.last_model = "InternVL2-1B"
    window.start_models()
    qtbot.waitUntil(lambda: "not downloaded" in window.chat.status_label.text(), timeout=WAIT_MS)
    assert "./InternVL2-1B" in window.chat.status_label.text()
    assert dialog.asked == [] and not marker.exists()


def test_the_question_says_which_files_run_from_which_folder_and_that_they_can_do_anything(tmp_path):
    from videochat.backends.consent import model_code

    folder = build_marker_folder(tmp_path / "Someones-model")
    title, text, details = remote_code_question(model_code(folder), str(folder))
    assert "tokenization_marker.py" in text and str(folder) in text and "Someones-model" in text
    assert "anything you can do" in details and "asked again" in details
    assert "?" in title


@pytest.mark.parametrize("button,expected", [("cancel", False), ("run", True)])
def test_the_real_dialog_shows_the_files_and_only_its_run_button_is_a_yes(qtbot, window, tmp_path, button, expected):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from videochat.backends.consent import model_code
    from videochat.errors import RemoteCodeRefused

    code = model_code(build_marker_folder(tmp_path / "Someones-model"))
    shown = []

    def answer():
        box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
        shown.append(box.text())
        chosen = box.button(QMessageBox.StandardButton.Cancel) if button == "cancel" else next(
            b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole
        )
        chosen.click()

    QTimer.singleShot(50, answer)
    assert window.model_loading._ask_remote_code_consent(RemoteCodeRefused("refused", code=code)) is expected
    assert "tokenization_marker.py" in shown[0]


def test_the_consent_dialog_shows_a_folder_named_like_markup_as_typed(qtbot):
    """A folder named `<!--` would, as markup, hide the list of files the dialog is asking about."""
    from types import SimpleNamespace

    from PySide6.QtGui import Qt as GuiQt, QTextDocument

    code = SimpleNamespace(files=("modeling_x.py",), folder="/tmp/<!--")
    box = remote_code_box(code, "/tmp/<b>InternVL2-1B<!--", None)
    qtbot.addWidget(box)
    shown = QTextDocument()
    if box.textFormat() == Qt.TextFormat.PlainText or not GuiQt.mightBeRichText(box.text()):
        shown.setPlainText(box.text())
    else:
        shown.setHtml(box.text())
    assert "modeling_x.py" in shown.toPlainText() and "<b>InternVL2-1B<!--" in shown.toPlainText()
