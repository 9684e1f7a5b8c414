"""A video's conversation survives the app: saved after every turn, restored on reopening, kept aside when damaged.

Also its timeline notes (made from an answer, edited, shown on the scrub bar) and its export
from the File menu.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel

from tests.support.main_window import WAIT_MS, ask, bubble_text, make_window, open_and_wait_for_session, open_clip
from tests.support.player_pane import frame_interval
from tests.support.sessions import saved
from videochat.sessions.sentences import first_sentence
from videochat.sessions.store import SessionStore


def test_every_answer_is_on_disk_when_it_finishes_and_reopening_restores_it_with_chips_that_seek(qtbot, window, clips, tmp_path):
    clip = clips("plain.mp4")
    open_and_wait_for_session(qtbot, window, clip)
    first = ask(qtbot, window, "What is shown?")
    second = ask(qtbot, window, "And then?")
    assert window.sessions.flush(5.0)
    on_disk = saved(clip)
    assert [turn.question for turn in on_disk.turns] == ["What is shown?", "And then?"]
    assert on_disk.turns[1].text == second.text and on_disk.turns[0].indices == first.indices
    assert on_disk.interrupted is None
    assert all(turn.asked_at <= turn.answered_at for turn in on_disk.turns)
    window.shutdown()

    again = make_window(qtbot, tmp_path / "again")
    try:
        info, _session = open_and_wait_for_session(qtbot, again, clip)
        bubbles = again.chat.answer_bubbles()
        assert [b.text for b in bubbles] == [first.text, second.text]
        assert len(bubbles[1].chips) == len(second.times)
        assert again.player.answer_ticks == pytest.approx(second.times)
        chip = 3
        QTest.mouseClick(bubbles[0].chips[chip], Qt.MouseButton.LeftButton)
        index = first.indices[chip]
        start, end = frame_interval(info, index)
        qtbot.waitUntil(lambda: again.player.current_frame_index() == index, timeout=WAIT_MS)
        assert start <= again.player.position_seconds() < end
    finally:
        again.shutdown()


KILLED_MID_ANSWER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from desktop.windows.main_window import MainWindow
    from videochat.settings import Settings
    model, clip, settings = sys.argv[1:4]
    window = MainWindow(Settings(), settings_path=Path(settings))
    window.show()
    window.worker.start()
    answers = []
    def ask(question, tokens):
        window.chat.tokens_spin.setValue(tokens)
        window.chat.sig_ask_requested.emit(question)
    def on_finished(answer):
        answers.append(answer)
        if len(answers) == 1:
            ask("Now talk for a very long time.", 4000)
    def on_text(_text):
        if len(answers) == 1:  # the second answer is streaming: the test kills us now
            window.sessions.flush(5.0)  # the question was asked a moment ago: let its save land first
            print("STREAMING", flush=True)
            window.worker.sig_text.disconnect(on_text)
    window.worker.sig_answer_finished.connect(on_finished)
    window.worker.sig_text.connect(on_text)
    window.worker.sig_loaded.connect(lambda ref: ask("What is shown first?", 6))
    window.player.sig_opened.connect(lambda info: window.load_model(model))
    window.open_video(clip)
    app.exec()
    """
)


def test_killed_in_the_middle_of_an_answer_every_finished_turn_is_there_on_reopening(qtbot, tiny_model, clips, tmp_path):
    clip = clips("short.mp4")
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_MID_ANSWER, str(tiny_model), str(clip), str(tmp_path / "settings.json")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_DATA_HOME": os.environ["XDG_DATA_HOME"]},
    )
    try:
        line = process.stdout.readline()
        assert line.strip() == "STREAMING", process.stderr.read()
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=60)
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL

    on_disk = saved(clip)
    assert [turn.question for turn in on_disk.turns] == ["What is shown first?"]
    assert on_disk.interrupted["question"] == "Now talk for a very long time."

    window = make_window(qtbot, tmp_path)
    try:
        open_and_wait_for_session(qtbot, window, clip)
        bubbles = window.chat.answer_bubbles()
        assert len(bubbles) == 1 and bubbles[0].text == on_disk.turns[0].text and len(bubbles[0].chips) == len(on_disk.turns[0].times)
        texts = [bubble_text(bubble) for bubble in window.chat.bubbles()]
        assert any("Now talk for a very long time." in text for text in texts)
        assert any("stopped before this answer was finished" in text for text in texts)
        assert window.chat.question_box.toPlainText() == "Now talk for a very long time."
    finally:
        window.shutdown()


def test_a_damaged_session_file_is_kept_aside_with_a_message_and_never_written_over(qtbot, window, clips):
    clip = clips("plain.mp4")
    path = SessionStore().path_for(clip)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"schema_version": 1, "turns": [ {"question": "half a fi', encoding="utf-8")
    open_and_wait_for_session(qtbot, window, clip)
    notices = [bubble_text(bubble) for bubble in window.chat.bubbles()]
    assert len(notices) == 1 and "damaged" in notices[0]
    kept = list(path.parent.glob(path.stem + ".damaged-*.json"))
    assert len(kept) == 1 and str(kept[0]) in notices[0]
    assert kept[0].read_text(encoding="utf-8").endswith("half a fi")

    ask(qtbot, window, "Still working?")
    assert window.sessions.flush(5.0)
    assert len(saved(clip).turns) == 1
    assert kept[0].read_text(encoding="utf-8").endswith("half a fi")


def test_an_answer_becomes_a_timeline_note_that_can_be_edited_deleted_and_is_drawn_on_the_scrub_bar(qtbot, window, clips):
    clip = clips("plain.mp4")
    info, _ = open_and_wait_for_session(qtbot, window, clip)
    answer = ask(qtbot, window, "What happens?")
    bubble = window.chat.answer_bubbles()[-1]
    QTest.mouseClick(bubble.note_button, Qt.MouseButton.LeftButton)

    [note] = window.notes.notes()
    frame = 1 / info.fps
    assert note.start == pytest.approx(min(answer.times), abs=1e-3)
    assert note.end == pytest.approx(min(max(answer.times) + frame, info.duration), abs=1e-3)
    assert note.text == first_sentence(answer.text)
    assert window.player._scrub.note_spans() == [(note.start, note.end)]

    table = window.notes.table
    table.item(0, 2).setText("A person waves.")
    qtbot.waitUntil(lambda: window.notes.notes()[0].text == "A person waves.", timeout=WAIT_MS)
    table.item(0, 0).setText("0:00:00.500")
    qtbot.waitUntil(lambda: window.notes.notes()[0].start == 0.5, timeout=WAIT_MS)
    assert window.sessions.flush(5.0)
    [stored] = saved(clip).notes
    assert (stored.start, stored.text, stored.edited_at is not None) == (0.5, "A person waves.", True)
    assert window.player._scrub.note_spans() == [(0.5, stored.end)]

    table.item(0, 1).setText("later")
    qtbot.waitUntil(lambda: "not a time" in window.notes.status.text(), timeout=WAIT_MS)
    assert table.item(0, 1).text() != "later" and saved(clip).notes[0].end == stored.end

    table.selectRow(0)
    QTest.mouseClick(window.notes.remove_button, Qt.MouseButton.LeftButton)
    assert window.notes.notes() == [] and window.player._scrub.note_spans() == []
    assert window.sessions.flush(5.0) and saved(clip).notes == []


def test_a_note_click_seeks_and_add_makes_a_note_over_the_marked_segment(qtbot, window, clips):
    info, _ = open_and_wait_for_session(qtbot, window, clips("long_gop.mp4"))
    window.player.set_in_point(1.0)
    window.player.set_out_point(2.0)
    QTest.mouseClick(window.notes.add_button, Qt.MouseButton.LeftButton)
    [note] = window.notes.notes()
    assert (note.start, note.end, note.text) == (1.0, 2.0, "")
    window.notes.table.cellClicked.emit(0, 1)
    qtbot.waitUntil(lambda: abs(window.player.position_seconds() - 2.0) < 1 / info.fps + 1e-3, timeout=WAIT_MS)


def test_the_conversation_exports_from_the_file_menu(qtbot, window, clips, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    clip = clips("plain.mp4")
    open_and_wait_for_session(qtbot, window, clip)
    answer = ask(qtbot, window, "Export me?")
    target = tmp_path / "report.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(target), ""))
    [json_action] = [a for a in window.export_menu.actions() if "JSON" in a.text()]
    assert window.export_menu.isEnabled()
    json_action.trigger()
    qtbot.waitUntil(target.exists, timeout=WAIT_MS)
    exported = json.loads(target.read_text(encoding="utf-8"))
    assert exported["turns"][0]["answer"] == answer.text and exported["turns"][0]["times"] == pytest.approx(answer.times)


def test_a_conversation_that_cannot_be_saved_says_so_in_the_chat_and_the_answer_stays(qtbot, window, clips):
    import shutil

    clip = clips("short.mp4")
    open_and_wait_for_session(qtbot, window, clip)
    folder = SessionStore().folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("a file where the sessions folder should be", encoding="utf-8")
    answer = ask(qtbot, window, "Saved?")
    qtbot.waitUntil(lambda: any("could not be saved" in bubble_text(b) for b in window.chat.bubbles()), timeout=WAIT_MS)
    assert window.chat.answer_bubbles()[-1].text == answer.text


def test_an_in_point_after_the_out_point_is_refused_with_a_message(qtbot, window, clips):
    clip = clips("long_gop.mp4")
    open_and_wait_for_session(qtbot, window, clip)
    window.player.set_in_point(1.0)
    window.player.set_out_point(2.0)
    QTest.mouseClick(window.notes.add_button, Qt.MouseButton.LeftButton)
    window.notes.table.item(0, 0).setText("0:08")
    qtbot.waitUntil(lambda: "must come before the out point" in window.notes.status.text(), timeout=WAIT_MS)
    [note] = window.notes.notes()
    assert (note.start, note.end) == (1.0, 2.0) and window.notes.table.item(0, 0).text() == "0:00:01.000"


def test_a_conversation_restored_while_a_question_is_answered_goes_above_it(qtbot, window, clips, monkeypatch):
    """Reopening the video being asked about: the saved turns go above, the live answer keeps streaming into its bubble."""
    clip = clips("plain.mp4")
    open_and_wait_for_session(qtbot, window, clip)
    first = ask(qtbot, window, "First question?")
    window.chat.tokens_spin.setValue(60)
    with qtbot.waitSignal(window.worker.sig_answer_finished, timeout=WAIT_MS) as finished:
        window.chat.sig_ask_requested.emit("Second question?")
        qtbot.waitUntil(lambda: window.chat.answer_bubbles()[-1].text != "", timeout=WAIT_MS)
        open_and_wait_for_session(qtbot, window, clip)  # the same video again, mid-answer
    second = finished.args[0]
    bubbles = window.chat.answer_bubbles()
    assert [b.text for b in bubbles] == [first.text, second.text]
    texts = [bubble_text(b) for b in window.chat.bubbles()]
    assert not any("stopped before this answer was finished" in text for text in texts)
    assert window.sessions.flush(5.0)
    assert [turn.question for turn in saved(clip).turns] == ["First question?", "Second question?"]


def test_an_answer_that_finishes_while_its_video_s_conversation_is_read_is_shown_once(qtbot, window, clips, monkeypatch):
    """Asked at once after reopening the video: the answer is drawn as it streams, the saved turns above it when they come."""
    import threading

    from desktop.session import keeper

    clip = clips("plain.mp4")
    open_and_wait_for_session(qtbot, window, clip)
    first = ask(qtbot, window, "First question?")
    answered = threading.Event()
    read = keeper._open_job

    def read_after_the_answer(*args):  # as a read slowed by a loaded disk: it ends after the answer
        assert answered.wait(WAIT_MS / 1000)
        return read(*args)

    monkeypatch.setattr(keeper, "_open_job", read_after_the_answer)
    window.worker.sig_answer_finished.connect(lambda _answer: answered.set())
    with qtbot.waitSignal(window.sessions.sig_opened, timeout=WAIT_MS):
        open_clip(qtbot, window, clip)
        second = ask(qtbot, window, "Second question?")
    assert [b.text for b in window.chat.answer_bubbles()] == [first.text, second.text]
    assert not any("stopped before this answer was finished" in bubble_text(b) for b in window.chat.bubbles())
    assert window.sessions.flush(5.0)
    assert [turn.question for turn in saved(clip).turns] == ["First question?", "Second question?"]


def test_regenerate_on_a_restored_answer_gives_its_turn_a_new_answer_about_this_video(qtbot, window, clips):
    clip, other = clips("plain.mp4"), clips("short.mp4")
    window.chat.temperature_spin.setValue(0.7)  # at 0 the answer would be the same: Regenerate is off
    open_and_wait_for_session(qtbot, window, clip)
    ask(qtbot, window, "About plain?")
    open_and_wait_for_session(qtbot, window, other)
    ask(qtbot, window, "About short?")
    open_and_wait_for_session(qtbot, window, clip)
    bubble = window.chat.answer_bubbles()[-1]
    assert bubble.regenerate_button.isEnabled()
    with qtbot.waitSignal(window.worker.sig_answer_finished, timeout=WAIT_MS) as finished:
        QTest.mouseClick(bubble.regenerate_button, Qt.MouseButton.LeftButton)
    assert finished.args[0].question == "About plain?"
    assert window.sessions.flush(5.0)
    assert [t.question for t in saved(clip).turns] == ["About plain?"] and len(saved(clip).answers_of(0).answers) == 2
    assert [t.question for t in saved(other).turns] == ["About short?"]


def test_the_first_question_after_a_video_opens_continues_its_saved_conversation_and_the_next_follows_up(qtbot, window, clips):
    clip = clips("plain.mp4")
    open_and_wait_for_session(qtbot, window, clip)
    one = ask(qtbot, window, "One?")
    assert not one.follow_up
    assert ask(qtbot, window, "Two?").follow_up
    open_and_wait_for_session(qtbot, window, clip)
    three = ask(qtbot, window, "Three?")  # as the restored chat says: the model sees the saved turns
    assert three.follow_up and three.indices == one.indices
    assert any("The next question continues it" in label.text() for label in window.chat.findChildren(QLabel))


def test_a_turn_asked_from_the_command_line_while_the_window_has_the_video_open_is_kept(qtbot, window, clips, tiny_model, capsys):
    from videochat.cli.commands import main

    clip = clips("plain.mp4")
    open_and_wait_for_session(qtbot, window, clip)
    ask(qtbot, window, "From the window?")
    assert window.sessions.flush(5.0)
    argv = ["ask", str(clip), "From the terminal?", "--model", str(tiny_model), "--frames", "4", "--max-new-tokens", "2", "--json"]
    assert main(argv) == 0, capsys.readouterr().err
    ask(qtbot, window, "From the window again?")  # the window never read the terminal's turn: its save merges it in
    assert window.sessions.flush(5.0)
    questions = [turn.question for turn in saved(clip).turns]
    assert questions == ["From the window?", "From the terminal?", "From the window again?"]
    assert len({turn.id for turn in saved(clip).turns}) == 3


def test_a_saved_turn_with_provenance_of_the_wrong_type_still_shows(qtbot, window, clips):
    from tests.support.sessions import answer
    from videochat.sessions.recorder import SessionRecorder
    from videochat.sessions.session import VideoIdentity
    from videochat.video.info import probe

    clip = clips("short.mp4")
    store = SessionStore()
    SessionRecorder(store, store.open(VideoIdentity.of(probe(clip)))).add_answer(answer("Typed?"))
    path = store.path_for(clip)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["turns"][0].update(model=7, frames="8", device=3, precision=None, revision=5)
    path.write_text(json.dumps(data), encoding="utf-8")
    open_and_wait_for_session(qtbot, window, clip)  # an exception in a slot fails the test
    [bubble] = window.chat.answer_bubbles()
    assert bubble.text == "A dog runs." and not list(path.parent.glob("*.damaged-*"))


def test_the_in_and_out_frames_kept_with_the_conversation_come_back_on_reopening(qtbot, window, clips):
    from videochat.sessions.session import Mark

    clip = clips("plain.mp4")
    open_and_wait_for_session(qtbot, window, clip)
    window.sessions.set_in_out(clip, Mark(25, 1.0), Mark(50, 2.0))
    assert window.sessions.flush(5.0)
    assert saved(clip).in_out() == (Mark(25, 1.0), Mark(50, 2.0))
    _info, session = open_and_wait_for_session(qtbot, window, clip)
    assert session.in_out() == (Mark(25, 1.0), Mark(50, 2.0))


def test_in_and_out_marked_in_the_player_are_kept_and_come_back_when_the_video_is_opened_again(qtbot, window, clips):
    from videochat.sessions.session import Mark

    clip, other = clips("plain.mp4"), clips("short.mp4")
    open_and_wait_for_session(qtbot, window, clip)
    window.player.set_in_frame(12)
    window.player.set_out_frame(40)
    timeline = window.player.timeline
    assert window.sessions.flush(5.0)
    assert saved(clip).in_out() == (Mark(12, timeline.time_of(12)), Mark(40, timeline.time_of(40)))

    open_and_wait_for_session(qtbot, window, other)  # another video: no marks, and the first one's stay on disk
    assert window.player.marks() == (None, None)
    assert window.sessions.flush(5.0)
    assert saved(clip).in_out()[0] == Mark(12, timeline.time_of(12))

    open_and_wait_for_session(qtbot, window, clip)
    assert window.player.marks() == (12, 40)
    assert window.player.segment() == timeline.span(12, 40)

    window.player.clear_segment()  # cleared is kept too
    assert window.sessions.flush(5.0)
    assert saved(clip).in_out() == (None, None)
