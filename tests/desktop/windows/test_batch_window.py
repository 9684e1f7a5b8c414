"""Tools ▸ Batch: a folder with a corrupt clip finishes, shows the bad clip, and a second run does no work."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop.windows.main_window import MainWindow
from tests.support.main_window import WAIT_MS, bubble_text
from videochat.settings import Settings
from tests.support.clips import write_clip

QUESTIONS = "What is shown?\n# a comment line\nWhat colour is it?\n"


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from tests.support.tiny_native import build_llava_onevision

    return build_llava_onevision(tmp_path_factory.mktemp("llava-tiny"))


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("batch-clips")
    write_clip(folder / "a.mp4", frames=12, width=64, height=64)
    write_clip(folder / "b.mp4", frames=12, width=64, height=64)
    (folder / "broken.mp4").write_bytes(b"\x00\x01not a video at all" * 50)
    return folder


@pytest.fixture
def window(qtbot, tmp_path, tiny_model):
    window = MainWindow(Settings(), settings_path=tmp_path / "settings.json")
    qtbot.addWidget(window)
    window.show()
    window.worker.start()
    with qtbot.waitSignal(window.worker.sig_loaded, timeout=WAIT_MS):
        window.load_model(str(tiny_model))
    window.chat.tokens_spin.setValue(4)
    yield window
    window.shutdown()


def batch_window(window, clip_folder, out):
    window.show_batch_window()
    batch = window.batch_window
    batch.set_source(clip_folder)
    batch.out_edit.setText(str(out))
    batch.questions_edit.setPlainText(QUESTIONS)
    batch.frames_spin.setValue(2)
    return batch


def run(qtbot, batch):
    with qtbot.waitSignal(batch.sig_finished, timeout=60_000):
        QTest.mouseClick(batch.start_button, Qt.MouseButton.LeftButton)


def lines(out):
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def statuses(batch) -> dict[str, tuple[str, str]]:
    table = batch.queue
    return {table.item(row, 0).text(): (table.item(row, 1).text(), table.item(row, 2).text()) for row in range(table.rowCount())}


def test_a_batch_with_a_corrupt_clip_finishes_shows_it_and_a_second_run_does_no_work(qtbot, window, clip_folder, tmp_path):
    out = tmp_path / "results.jsonl"
    batch = batch_window(window, clip_folder, out)
    run(qtbot, batch)

    shown = statuses(batch)
    assert shown["a.mp4"] == ("done", "2/2") and shown["b.mp4"] == ("done", "2/2")
    assert shown["broken.mp4"][0].startswith("could not be read")
    written = lines(out)
    answers = [line for line in written if line["status"] == "ok"]
    assert sorted((line["clip"].rsplit("/", 1)[1], line["question"]) for line in answers) == [
        ("a.mp4", "What colour is it?"), ("a.mp4", "What is shown?"), ("b.mp4", "What colour is it?"), ("b.mp4", "What is shown?"),
    ]  # fmt: skip
    assert [line["clip"].rsplit("/", 1)[1] for line in written if line["status"] == "error"] == ["broken.mp4"]
    assert "1 clip(s) could not be read" in batch.message.text()

    before = out.read_bytes()
    started = []
    window.worker.sig_busy_changed.connect(lambda busy: busy and started.append(busy))
    QTest.mouseClick(batch.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Nothing to do" in batch.message.text(), timeout=WAIT_MS)
    assert out.read_bytes() == before and started == []
    assert statuses(batch)["a.mp4"] == ("done", "2/2")


def test_cancel_stops_within_an_answer_and_the_next_start_goes_on_from_there(qtbot, window, clip_folder, tmp_path):
    out = tmp_path / "results.jsonl"
    batch = batch_window(window, clip_folder, out)
    window.worker.sig_batch_event.connect(lambda event: type(event).__name__ == "QuestionAnswered" and batch.cancel())
    run(qtbot, batch)
    assert "Stopped after" in batch.message.text()
    assert 1 <= len([line for line in lines(out) if line["status"] == "ok"]) < 4

    window.worker.sig_batch_event.disconnect()
    run(qtbot, batch)
    pairs = [(line["clip"], line["question"]) for line in lines(out) if line["status"] == "ok"]
    assert len(pairs) == 4 and len(set(pairs)) == 4


def test_the_chat_says_why_it_waits_while_a_batch_runs(qtbot, window, clip_folder, tmp_path, clips):
    with qtbot.waitSignal(window.player.sig_opened, timeout=WAIT_MS):
        window.open_video(clips("short.mp4"))
    batch = batch_window(window, clip_folder, tmp_path / "results.jsonl")
    window.chat.tokens_spin.setValue(30)
    with qtbot.waitSignal(batch.sig_finished, timeout=60_000):
        QTest.mouseClick(batch.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.worker.batch_running, timeout=WAIT_MS)
        window.chat.sig_ask_requested.emit("Can I ask now?")
        assert any("answering a batch" in bubble_text(b) for b in window.chat.bubbles())
    assert window.chat.answer_bubbles() == []


def test_the_frame_box_takes_what_the_loaded_models_family_takes_as_the_chat_does(qtbot, window, tmp_path_factory):
    from tests.support.standins import build_internvideo25

    window.show_batch_window()
    spin = window.batch_window.frames_spin
    assert (spin.minimum(), spin.maximum(), spin.singleStep()) == (0, 64, 1)  # LLaVA-OneVision; 0 is the model's default
    spin.setValue(50)
    with qtbot.waitSignal(window.worker.sig_loaded, timeout=WAIT_MS):
        window.load_model(str(build_internvideo25(tmp_path_factory.mktemp("internvideo25-tiny"))), trust_remote_code=True)
    assert (spin.minimum(), spin.maximum(), spin.singleStep(), spin.value()) == (0, 512, 4, 48)
    assert window.batch_window.message.text() == "InternVideo2.5 takes frames in groups of 4: use 48 or 52, not 50. Frames set to 48."
    spin.setValue(49)
    assert spin.value() == 48
    spin.setValue(0)
    assert spin.value() == 0 and spin.text() == "the model's default"


def test_a_frame_count_the_model_does_not_take_is_refused_with_its_range_before_any_work(qtbot, window, clip_folder, tmp_path, monkeypatch):
    batch = batch_window(window, clip_folder, tmp_path / "results.jsonl")
    planned = []
    monkeypatch.setattr("desktop.windows.batch_window.run_job", lambda *args, **kwargs: planned.append(args))
    monkeypatch.setattr(batch.frames_spin, "value", lambda: 80)  # a count the box let through
    QTest.mouseClick(batch.start_button, Qt.MouseButton.LeftButton)
    assert planned == [] and batch.message.text() == "A transformers video model takes 1 to 64 frames, not 80."
    assert batch.start_button.isEnabled() and not (tmp_path / "results.jsonl").exists()


def test_a_question_the_model_cannot_take_refuses_the_batch_before_any_answer_and_names_it(qtbot, window, clip_folder, tmp_path):
    out = tmp_path / "results.jsonl"
    batch = batch_window(window, clip_folder, out)
    batch.questions_edit.setPlainText("What is shown?\nIs <video> the same clip?\n")
    with qtbot.waitSignal(window.worker.sig_batch_failed, timeout=60_000):
        QTest.mouseClick(batch.start_button, Qt.MouseButton.LeftButton)
    assert 'the question "Is <video> the same clip?" cannot be asked' in batch.message.text()
    assert "control mark" in batch.message.text() and "The batch stopped" not in batch.message.text()
    assert not out.exists() or lines(out) == []  # not even the first clip's first question was answered
    qtbot.waitUntil(batch.start_button.isEnabled, timeout=WAIT_MS)
