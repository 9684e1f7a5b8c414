"""One frame, one time across the window: chips, the player's readout, in/out, notes; the key help."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel

from desktop import keys
from tests.support.main_window import WAIT_MS, ask, open_clip
from tests.support.player_pane import readout, shown_frame
from videochat.video.timecode import format_time, milliseconds
from videochat.video.timeline import Timeline


def ms(seconds: float) -> float:
    return milliseconds(seconds) / 1000


def test_a_chips_time_is_the_readout_after_it_seeks_there(qtbot, window, clips):
    open_clip(qtbot, window, clips("vfr.mp4"))
    answer = ask(qtbot, window, "What happens?")
    bubble = window.chat.answer_bubbles()[-1]
    for chip, index in list(zip(bubble.chips, answer.indices))[1::2]:
        QTest.mouseClick(chip, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: shown_frame(window.player) == index, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: readout(window.player) == (chip.text(), f"frame {index}"), timeout=WAIT_MS)


def test_in_and_out_frames_become_a_note_from_the_in_frames_time_to_the_time_of_the_frame_after_the_out_frame(qtbot, window, clips):
    info = open_clip(qtbot, window, clips("vfr.mp4"))
    window.player.setFocus()
    for index, key in ((38, Qt.Key.Key_I), (46, Qt.Key.Key_O)):
        window.player.seek_to_frame(index)
        qtbot.waitUntil(lambda: readout(window.player) == (format_time(info.times[index]), f"frame {index}"), timeout=WAIT_MS)
        QTest.keyClick(window, key)
    qtbot.waitUntil(lambda: window.sessions.current() is not None, timeout=WAIT_MS)
    QTest.mouseClick(window.notes.add_button, Qt.MouseButton.LeftButton)
    [note] = window.notes.notes()
    assert (note.start, note.end) == (ms(info.times[38]), ms(info.times[47]))


def test_a_note_added_with_no_segment_spans_the_frame_on_screen(qtbot, window, clips):
    info = open_clip(qtbot, window, clips("vfr.mp4"))
    window.player.seek_to_frame(42)
    qtbot.waitUntil(lambda: window.player.current_frame_index() == 42, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.sessions.current() is not None, timeout=WAIT_MS)
    QTest.mouseClick(window.notes.add_button, Qt.MouseButton.LeftButton)
    [note] = window.notes.notes()
    assert (note.start, note.end) == (ms(info.times[42]), ms(info.times[43]))


def test_on_vfr_the_player_the_sampler_and_the_note_agree(qtbot, window, clips):
    info = open_clip(qtbot, window, clips("vfr.mp4"))
    timeline = Timeline.of(info)
    qtbot.waitUntil(lambda: window.sessions.current() is not None, timeout=WAIT_MS)
    window.player.set_in_frame(38)
    window.player.set_out_frame(46)
    scoped = ask(qtbot, window, "What happens here?")
    assert scoped.segment == window.player.segment() == (info.times[38], info.times[47])
    assert min(scoped.indices) >= 38 and max(scoped.indices) <= 46

    window.player.clear_segment()
    whole = ask(qtbot, window, "And in the whole clip?")
    for bubble in window.chat.answer_bubbles():
        QTest.mouseClick(bubble.note_button, Qt.MouseButton.LeftButton)
    scoped_note, whole_note = sorted(window.notes.notes(), key=lambda note: note.end - note.start)
    assert timeline.frames_in(scoped_note.start, scoped_note.end) == (38, 46)
    last = max(whole.indices)
    assert (whole_note.start, whole_note.end) == (ms(info.times[min(whole.indices)]), ms(timeline.frame_end(last)))
    assert timeline.frames_in(whole_note.start, whole_note.end) == (min(whole.indices), last)


def test_the_shortcut_help_lists_every_key_in_the_table_and_opens_with_the_question_mark(qtbot, window):
    QTest.keyClick(window.player, Qt.Key.Key_Question, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: window.shortcuts_dialog is not None and window.shortcuts_dialog.isVisible(), timeout=WAIT_MS)
    text = window.shortcuts_dialog.findChild(QLabel, "shortcutsTable").text()
    for key, command in keys.BINDINGS:
        assert f"<b>{key}</b></td><td>{keys.COMMANDS[command]}" in text.replace("&lt;", "<")
    window.shortcuts_dialog.close()
    assert [a for a in window.menuBar().actions() if a.text() == "&Help"][0].menu().actions()[0].text() == "&Keyboard shortcuts"


def test_a_question_mark_typed_in_the_question_box_stays_there(qtbot, window):
    window.chat.question_box.setFocus()
    qtbot.waitUntil(window.chat.question_box.hasFocus, timeout=WAIT_MS)
    QTest.keyClicks(window.chat.question_box, "Why?")
    assert window.chat.question_box.toPlainText() == "Why?"
    assert window.shortcuts_dialog is None


def test_every_command_in_the_key_table_has_a_handler_and_a_description(qtbot, window):
    handled = set(window.player.commands()) | {"show-shortcuts"}
    assert {command for _key, command in keys.BINDINGS} <= handled
    assert {command for _key, command in keys.BINDINGS} == set(keys.COMMANDS)
    assert len({key for key, _command in keys.BINDINGS}) == len(keys.BINDINGS)


@pytest.mark.parametrize("clip", ["plain.mp4"])
def test_edited_note_times_are_kept_within_the_video(qtbot, window, clips, clip):
    info = open_clip(qtbot, window, clips(clip))
    qtbot.waitUntil(lambda: window.sessions.current() is not None, timeout=WAIT_MS)
    window.player.set_in_frame(10)
    window.player.set_out_frame(20)
    QTest.mouseClick(window.notes.add_button, Qt.MouseButton.LeftButton)
    [note] = window.notes.notes()
    window.notes.sig_note_edited.emit(note.id, -4.0, 99.0, "all of it")
    qtbot.waitUntil(lambda: window.notes.notes()[0].text == "all of it", timeout=WAIT_MS)
    edited = window.notes.notes()[0]
    assert (edited.start, edited.end) == (ms(info.times[0]), ms(info.times[0] + info.duration))
