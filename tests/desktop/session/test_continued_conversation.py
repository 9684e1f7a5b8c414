"""Reopening a video with a saved conversation: the next question goes to the model process with the saved
turns and the saved frames' indices and times; another scope or a changed video says a new conversation starts."""

from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QLabel

import desktop.threads.process_chat as process_chat
from tests.support.main_window import WAIT_MS, ask, make_window, open_and_wait_for_session
from tests.support.sessions import saved
from videochat.sessions.store import SessionStore


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from tests.support.tiny_native import build_llava_onevision

    return build_llava_onevision(tmp_path_factory.mktemp("llava-tiny"))


@pytest.fixture
def sent(monkeypatch) -> list[dict]:
    """The request bodies the window's model client sends to the model process."""
    bodies, original = [], process_chat.request_body

    def recorded(*args, **kwargs):
        bodies.append(original(*args, **kwargs))
        return bodies[-1]

    monkeypatch.setattr(process_chat, "request_body", recorded)
    return bodies


@pytest.fixture
def conversation(qtbot, tmp_path, tiny_model, clips):
    """A video with two saved turns, asked in a window that is then closed; and a new window."""
    clip = clips("plain.mp4")
    first = make_window(qtbot, tmp_path / "first", tiny_model)
    try:
        open_and_wait_for_session(qtbot, first, clip)
        turns = [ask(qtbot, first, "What is shown?"), ask(qtbot, first, "And then?")]
        assert first.sessions.flush(5.0)
    finally:
        first.shutdown()
    again = make_window(qtbot, tmp_path / "again", tiny_model)
    yield clip, turns, again
    again.shutdown()


def notes(window) -> list[str]:
    return [label.text() for label in window.chat.findChildren(QLabel) if label.objectName() == "conversationNote"]


def test_the_first_question_after_reopening_sends_the_saved_history_and_frames_to_the_model_process(qtbot, conversation, sent):
    clip, turns, window = conversation
    open_and_wait_for_session(qtbot, window, clip)
    answer = ask(qtbot, window, "Who is there?")
    body = sent[-1]
    said = [(m["role"], m["content"] if isinstance(m["content"], str) else m["content"][-1]["text"]) for m in body["messages"]]
    assert said == [("user", "What is shown?"), ("assistant", turns[0].text), ("user", "And then?"), ("assistant", turns[1].text), ("user", "Who is there?")]
    assert body["frame_indices"] == turns[0].indices and body["frame_times"] == turns[0].times
    assert answer.follow_up and (answer.indices, answer.times) == (turns[0].indices, turns[0].times)
    assert notes(window) == []
    follow_up = ask(qtbot, window, "Anything else?")  # the conversation goes on, on the same frames
    assert sent[-1]["frame_indices"] == turns[0].indices and len(sent[-1]["messages"]) == 7 and follow_up.follow_up
    assert window.sessions.flush(5.0)
    assert [turn.question for turn in saved(clip).turns] == ["What is shown?", "And then?", "Who is there?", "Anything else?"]


def test_another_frame_count_says_a_new_conversation_starts_and_asks_afresh(qtbot, conversation, sent):
    clip, turns, window = conversation
    open_and_wait_for_session(qtbot, window, clip)
    window.chat.frames_spin.setValue(4)
    answer = ask(qtbot, window, "Who is there?")
    assert notes(window) == ["A new conversation starts: the saved conversation was about 8 frames, and this question asks for 4."]
    assert "frame_indices" not in sent[-1] and len(sent[-1]["messages"]) == 1 and not answer.follow_up


def test_a_video_whose_frames_moved_since_it_was_saved_says_why_and_asks_afresh(qtbot, conversation, sent):
    clip, turns, window = conversation
    path = SessionStore().path_for(clip)
    data = json.loads(path.read_text())
    for turn in data["turns"]:
        turn["times"] = [time + 1.0 for time in turn["times"]]  # as if another clip of the same size replaced it
    path.write_text(json.dumps(data))
    open_and_wait_for_session(qtbot, window, clip)
    answer = ask(qtbot, window, "Who is there?")
    [note] = notes(window)
    assert note.startswith(f"A new conversation starts: the video changed since it was saved: frame {turns[0].indices[0]} was at ")
    assert "frame_indices" not in sent[-1] and not answer.follow_up


def test_the_model_process_refusing_the_saved_frames_fails_that_answer_with_why_and_the_next_starts_afresh(qtbot, conversation, sent, monkeypatch):
    clip, turns, window = conversation
    open_and_wait_for_session(qtbot, window, clip)
    original = process_chat.request_body

    def moved(*args, **kwargs):  # the file changed after the window probed it: the process sees other times
        body = original(*args, **kwargs)
        if "frame_times" in body:
            body["frame_times"] = [time + 1.0 for time in body["frame_times"]]
        return body

    monkeypatch.setattr(process_chat, "request_body", moved)
    with qtbot.waitSignal(window.worker.sig_answer_failed, timeout=WAIT_MS) as failed:
        window.chat.sig_ask_requested.emit("Who is there?")
    assert str(failed.args[0]).startswith("The saved conversation cannot go on: the video changed since it was saved")
    assert not ask(qtbot, window, "Who is there now?").follow_up
