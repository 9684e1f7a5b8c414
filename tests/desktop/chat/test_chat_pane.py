"""The chat pane as a view: streaming text, frame chips that seek, Send/Stop, keys, the frame rule, inline errors."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from desktop.chat.bubbles import NoticeBubble
from desktop.chat.model_list import MODEL_FOLDER_ITEM
from videochat.backends.base import GenerationSettings
from videochat.chat import Answer
from videochat.families import get_family
from tests.support.chat_pane import make_answer
from tests.support.clips import read_frame_code
from videochat.video.source import VideoSource


def test_streamed_text_appears_in_the_last_answer_bubble(pane):
    pane.begin_answer("First?")
    pane.append_answer_text("Earlier")
    pane.finish_answer(make_answer(text="Earlier"))
    pane.begin_answer("What happens?")
    pane.append_answer_text("A **red** ")
    pane.append_answer_text("ball")
    first, last = pane.answer_bubbles()
    assert last.text == "A **red** ball" and last.text_label.text() == "A **red** ball"
    assert last.text_label.textFormat() == Qt.TextFormat.MarkdownText
    assert first.text == "Earlier" and pane.last_question == "What happens?"


def test_a_session_files_hostile_model_name_and_engine_stay_one_escaped_line_in_the_meta_line(pane):
    turn = make_answer().to_dict() | {"model": "Intern\u202eVL2\n\n# big", "engine": "http://h\u2066:1/\x1b[2J" + "x" * 5000}
    pane.begin_answer("What happens?")
    pane.finish_answer(Answer.from_dict(turn))
    meta = pane.answer_bubbles()[-1].meta_label.text()
    assert meta.startswith("Intern\\u202eVL2 # big on http://h\\u2066:1/\\x1b[2J") and meta.endswith("… · 3 frames · whole clip")
    assert meta.isprintable() and len(meta) < 300


def test_finishing_an_answer_makes_one_chip_per_frame_time_and_a_chip_seeks(pane, qtbot):
    pane.begin_answer("What happens?")
    pane.finish_answer(make_answer())
    bubble = pane.answer_bubbles()[-1]
    assert [chip.text() for chip in bubble.chips] == ["0:00:00.500", "0:00:01.000", "0:00:01.500"]
    assert bubble.meta_label.text() == "InternVL2-1B · 3 frames · whole clip"
    with qtbot.waitSignal(pane.sig_seek_requested) as seek:
        qtbot.mouseClick(bubble.chips[1], Qt.MouseButton.LeftButton)
    assert seek.args == [1.0, 30]


def test_the_meta_line_names_the_segment_and_a_stop(pane):
    pane.begin_answer("What happens?")
    pane.finish_answer(make_answer(segment=(1.0, 2.5), stopped=True))
    assert pane.answer_bubbles()[-1].meta_label.text() == "InternVL2-1B · 3 frames · 0:00:01.000–0:00:02.500 · stopped"


def test_the_meta_line_counts_the_frames_the_model_saw_and_the_count_asked_for_where_the_rule_took_fewer(pane):
    # Qwen2-VL samples at most 2 frames a second: 8 asked for on a 3 s clip gives 6 chips.
    fewer = make_answer(times=[0.25 + 0.5 * i for i in range(6)], indices=[7 + 15 * i for i in range(6)])
    fewer.frames = 8
    pane.begin_answer("What happens?")
    pane.finish_answer(fewer)
    bubble = pane.answer_bubbles()[-1]
    assert len(bubble.chips) == 6 and bubble.meta_label.text() == "InternVL2-1B · 6 frames (8 asked for) · whole clip"
    one = make_answer(times=[1.0], indices=[30])
    pane.begin_answer("And one?")
    pane.finish_answer(one)
    assert pane.answer_bubbles()[-1].meta_label.text() == "InternVL2-1B · 1 frame · whole clip"


def test_clicking_an_answer_selects_it_and_sends_its_frame_times(pane, qtbot):
    pane.begin_answer("First?")
    with qtbot.waitSignal(pane.sig_answer_selected) as selected:
        pane.finish_answer(make_answer(times=(0.1, 0.2), indices=(3, 6)))
    assert selected.args == [[0.1, 0.2]]  # a new answer is selected as it finishes
    pane.begin_answer("Second?")
    pane.finish_answer(make_answer())
    with qtbot.waitSignal(pane.sig_answer_selected) as selected:
        qtbot.mouseClick(pane.answer_bubbles()[0].text_label, Qt.MouseButton.LeftButton)
    assert selected.args == [[0.1, 0.2]]


def test_send_becomes_stop_while_busy_and_stop_is_requested(pane, qtbot):
    asked = []
    pane.sig_ask_requested.connect(asked.append)
    pane.question_box.setPlainText("What happens?")
    pane.set_busy(True)
    assert pane.send_button.text() == "Stop"
    with qtbot.waitSignal(pane.sig_stop_requested):
        qtbot.mouseClick(pane.send_button, Qt.MouseButton.LeftButton)
    assert asked == []
    pane.set_busy(False)
    assert pane.send_button.text() == "Send"
    qtbot.mouseClick(pane.send_button, Qt.MouseButton.LeftButton)
    assert asked == ["What happens?"]


def test_enter_sends_and_shift_enter_starts_a_new_line(pane, qtbot):
    asked = []
    pane.sig_ask_requested.connect(asked.append)
    box = pane.question_box
    qtbot.keyClicks(box, "What")
    qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(box, "happens?")
    assert asked == [] and box.toPlainText() == "What\nhappens?"
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert asked == ["What\nhappens?"]
    pane.begin_answer("What\nhappens?")
    assert box.toPlainText() == ""  # taken once the question is on its way


def test_enter_sends_nothing_while_an_answer_runs(pane, qtbot):
    asked = []
    pane.sig_ask_requested.connect(asked.append)
    pane.set_busy(True)
    qtbot.keyClicks(pane.question_box, "Next?")
    qtbot.keyClick(pane.question_box, Qt.Key.Key_Return)
    assert asked == [] and pane.question_box.toPlainText() == "Next?"


def test_the_frame_count_keeps_to_the_family_multiple(pane, qtbot):
    pane.set_frame_rule(get_family("internvideo2.5"), 128)
    spin = pane.frames_spin
    assert (spin.value(), spin.singleStep(), spin.minimum(), spin.maximum()) == (128, 4, 4, 512)
    spin.stepBy(1)
    assert pane.frames() == 132
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), "131")
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)
    assert spin.value() == 132 and pane.frames() == 132
    spin.setValue(9)
    assert pane.frames() == 8
    pane.set_frame_rule(get_family("internvl2"), 8)
    spin.setValue(7)
    assert pane.frames() == 7


def notices(pane) -> list[str]:
    return [bubble.label.text() for bubble in pane.bubbles() if isinstance(bubble, NoticeBubble)]


def test_a_frame_count_left_at_the_models_default_follows_the_next_models_default(pane):
    pane.set_frame_rule(get_family("internvl2"), 8)
    pane.set_frame_rule(get_family("internvideo2.5"), 128)
    assert pane.frames() == 128 and notices(pane) == []
    pane.set_frame_rule(get_family("internvl2"), 8)
    assert pane.frames() == 8 and notices(pane) == []


def test_a_chosen_frame_count_stays_where_the_next_family_takes_it_and_is_adjusted_with_a_note_where_not(pane):
    spin = pane.frames_spin
    pane.set_frame_rule(get_family("internvl2"), 8)
    spin.setValue(16)
    pane.set_frame_rule(get_family("internvideo2.5"), 128)
    assert (spin.minimum(), spin.maximum(), spin.singleStep(), pane.frames()) == (4, 512, 4, 16) and notices(pane) == []
    spin.setValue(200)
    pane.set_frame_rule(get_family("internvl2"), 8)
    assert (spin.minimum(), spin.maximum(), spin.singleStep(), pane.frames()) == (1, 64, 1, 64)
    assert notices(pane) == ["InternVL2 takes 1 to 64 frames, not 200. Frames set to 64."]
    spin.setValue(50)
    pane.set_frame_rule(get_family("internvideo2.5"), 128)
    assert pane.frames() == 48
    assert notices(pane)[-1] == "InternVideo2.5 takes frames in groups of 4: use 48 or 52, not 50. Frames set to 48."


def test_failing_an_answer_shows_the_message_inline_and_keeps_the_partial_text(pane):
    pane.begin_answer("What happens?")
    pane.append_answer_text("A ball")
    pane.fail_answer("The model ran out of memory while answering. Ask with fewer frames.")
    bubble = pane.answer_bubbles()[-1]
    assert not bubble.error_label.isHidden() and "fewer frames" in bubble.error_label.text()
    assert bubble.text_label.text() == "A ball"
    pane.show_error("Open a video first.")
    assert pane.bubbles()[-1].label.text() == "Open a video first."
    pane.fail_answer("No answer is running: this one shows on its own.")
    assert "on its own" in pane.bubbles()[-1].label.text()


def test_copy_puts_the_answer_on_the_clipboard_and_regenerate_is_offered_on_the_last_answer(pane, qtbot):
    pane.temperature_spin.setValue(0.7)  # at 0 it would be the same answer (tests/desktop/chat/test_regenerate.py)
    pane.begin_answer("First?")
    pane.finish_answer(make_answer(text="first answer"))
    pane.begin_answer("Second?")
    pane.finish_answer(make_answer(text="second answer"))
    first, second = pane.answer_bubbles()
    qtbot.mouseClick(first.copy_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == "first answer"
    assert not first.regenerate_button.isEnabled() and second.regenerate_button.isEnabled()
    with qtbot.waitSignal(pane.sig_regenerate_requested):
        qtbot.mouseClick(second.regenerate_button, Qt.MouseButton.LeftButton)
    pane.set_busy(True)
    assert not second.regenerate_button.isEnabled()


def test_settings_and_the_model_choice(pane, qtbot, monkeypatch, tmp_path):
    pane.tokens_spin.setValue(40)
    pane.temperature_spin.setValue(0.7)
    assert pane.settings() == GenerationSettings(max_new_tokens=40, temperature=0.7)
    pane.set_models([("InternVL2-1B", "OpenGVLab/InternVL2-1B")])
    combo = pane.model_combo
    assert combo.itemText(combo.count() - 1) == MODEL_FOLDER_ITEM
    with qtbot.waitSignal(pane.sig_model_chosen) as chosen:
        combo.activated.emit(0)
    assert chosen.args == ["OpenGVLab/InternVL2-1B"]
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args: str(tmp_path))
    with qtbot.waitSignal(pane.sig_model_chosen) as chosen:
        combo.activated.emit(combo.count() - 1)
    assert chosen.args == [str(tmp_path)] and combo.currentData() == str(tmp_path)
    pane.set_model_status("InternVL2-1B ready")
    assert pane.status_label.text() == "InternVL2-1B ready"
    pane.set_hd_available(False)
    assert not pane.hd_check.isEnabled()


def test_chip_thumbnails_show_the_answer_frames_and_are_decoded_off_the_gui_thread(pane, qtbot, clips, monkeypatch):
    decoding_threads = []
    original = VideoSource.iter_frames

    def recording(source, indices, *args, **kwargs):
        decoding_threads.append(threading.current_thread())
        return original(source, indices, *args, **kwargs)

    monkeypatch.setattr(VideoSource, "iter_frames", recording)
    pane.begin_answer("What happens?")
    with qtbot.waitSignal(pane.thumbnails.sig_ready, timeout=30_000) as ready:
        pane.finish_answer(make_answer(times=(0.0, 1.0, 2.0), indices=(0, 30, 60)), video_path=clips("plain.mp4"))
    images = ready.args[1]
    assert decoding_threads and threading.main_thread() not in decoding_threads
    codes = []
    for image in images:
        image = image.convertToFormat(QImage.Format.Format_RGB888)
        pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
        codes.append(read_frame_code(pixels[:, : image.width() * 3].reshape(image.height(), image.width(), 3)))
    assert codes == [0, 30, 60]
    chips = pane.answer_bubbles()[-1].chips
    assert all(not chip.icon().isNull() for chip in chips)
    assert images[0].height() == 54


def test_clear_empties_the_conversation(pane):
    pane.begin_answer("What happens?")
    pane.finish_answer(make_answer())
    pane.show_error("An error.")
    pane.clear()
    assert pane.answer_bubbles() == [] and pane.last_question is None


def test_thumbnails_probe_a_file_once_until_it_changes(pane, qtbot, clips, tmp_path, monkeypatch):
    import shutil

    import videochat.video

    clip = shutil.copy(clips("plain.mp4"), tmp_path / "clip.mp4")
    probed = []
    original = videochat.video.info.probe

    def counting(path, *args, **kwargs):
        probed.append(path)
        return original(path, *args, **kwargs)

    monkeypatch.setattr(videochat.video.info, "probe", counting)
    for _ in range(2):
        pane.begin_answer("What happens?")
        with qtbot.waitSignal(pane.thumbnails.sig_ready, timeout=30_000):
            pane.finish_answer(make_answer(), video_path=clip)
    assert len(probed) == 1
    shutil.copy(clips("short.mp4"), clip)  # another video under the same name
    pane.begin_answer("And now?")
    with qtbot.waitSignal(pane.thumbnails.sig_ready, timeout=30_000):
        pane.finish_answer(make_answer(times=(0.0,), indices=(0,)), video_path=clip)
    assert len(probed) == 2


def settle_layout() -> None:
    # A layout change is posted, then the scroll area resizes its widget: a few turns of the loop.
    for _ in range(3):
        QApplication.processEvents()


@pytest.mark.parametrize("text", ["x" * 500, "See https://example.org/" + "a" * 480, "/home/annotator/" + "very_long_folder_name_" * 22])
def test_a_long_unbroken_answer_wraps_within_the_pane_and_copies_as_it_was_given(pane, qtbot, text):
    pane.begin_answer("Where is it?")
    pane.finish_answer(make_answer(text=text))
    bubble = pane.answer_bubbles()[-1]
    viewport = pane.scroll.viewport()
    # The messages widget is never narrower than its minimum: the text's longest unbreakable piece sets it.
    assert pane.messages.minimumSizeHint().width() <= viewport.width()
    settle_layout()
    right_edge = bubble.mapTo(viewport, bubble.rect().topRight()).x()
    assert pane.messages.width() <= viewport.width() and right_edge <= viewport.width()
    assert bubble.text_label.text() == text
    bubble.copy_button.click()
    assert QApplication.clipboard().text() == text
    bubble.text_label.setSelection(0, len(text) * 2)
    bubble.text_label.copy_selection()
    assert QApplication.clipboard().text() == text


def test_a_long_unbroken_question_wraps_within_the_pane(pane, qtbot):
    question = "q" * 500
    pane.begin_answer(question)
    viewport = pane.scroll.viewport()
    assert pane.messages.minimumSizeHint().width() <= viewport.width()
    settle_layout()
    assert pane.messages.width() <= viewport.width()
    assert pane.last_question == question


def test_a_long_model_folder_in_the_status_line_wraps_within_the_pane(pane):
    folder = "/models/" + "a_very_long_model_folder_name_" * 15
    pane.set_model_status(f"Loading {folder}…")
    assert pane.status_label.minimumSizeHint().width() <= pane.width()
    assert pane.status_label.text() == f"Loading {folder}…"


def test_the_model_list_shows_labels_with_the_repo_id_as_tooltip_and_selects_by_repo_id(pane):
    pane.set_models([("InternVideo2-Chat-8B-HD", "OpenGVLab/InternVideo2_chat_8B_HD"), ("InternVL2-1B", "OpenGVLab/InternVL2-1B")])
    combo = pane.model_combo
    assert [combo.itemText(i) for i in range(2)] == ["InternVideo2-Chat-8B-HD", "InternVL2-1B"]
    assert combo.itemData(0, Qt.ItemDataRole.ToolTipRole) == "OpenGVLab/InternVideo2_chat_8B_HD"
    count = combo.count()
    for spelling in ("InternVideo2_chat_8B_HD", "opengvlab/internvideo2_chat_8b_hd", "InternVideo2-Chat-8B-HD"):
        combo.setCurrentIndex(1)
        pane.set_current_model(spelling, "whatever the caller shows")
        assert combo.currentIndex() == 0 and combo.count() == count, spelling


def test_a_model_not_in_the_list_is_added_with_its_label_and_a_plain_tooltip(pane, tmp_path):
    folder = tmp_path / "<b>InternVL2-1B<!--"
    pane.set_models([("InternVL2-1B", "OpenGVLab/InternVL2-1B")])
    pane.set_current_model(str(folder), "InternVL2-1B (folder)")
    combo = pane.model_combo
    assert combo.currentIndex() == 0 and combo.currentText() == "InternVL2-1B (folder)" and combo.currentData() == str(folder)
    assert "&lt;b&gt;" in combo.itemData(0, Qt.ItemDataRole.ToolTipRole)


def test_a_model_folder_whose_name_reverses_or_breaks_text_is_listed_escaped_on_one_line(pane, tmp_path):
    folder = tmp_path / "model\u202e\nlmth.exe"
    pane.set_current_model(str(folder))
    combo = pane.model_combo
    assert combo.currentText() == "model\\u202e lmth.exe" and combo.currentData() == str(folder)


def test_an_older_answer_shows_its_model_by_the_catalog_label_and_keeps_the_stored_name(pane):
    older = make_answer(stopped=False)
    older.model = "InternVideo2_chat_8B_HD"  # what answers carried before labels
    pane.begin_answer(older.question)
    pane.finish_answer(older)
    assert pane.answer_bubbles()[-1].meta_label.text() == "InternVideo2-Chat-8B-HD · 3 frames · whole clip"
    assert older.model == "InternVideo2_chat_8B_HD"


def test_an_answer_from_an_unknown_model_shows_its_name_as_stored_in_plain_text(pane):
    answer = make_answer()
    answer.model = "<b>mine<!--"
    pane.begin_answer(answer.question)
    pane.finish_answer(answer)
    meta = pane.answer_bubbles()[-1].meta_label
    assert meta.text().startswith("<b>mine<!-- · ") and meta.textFormat() == Qt.TextFormat.PlainText
