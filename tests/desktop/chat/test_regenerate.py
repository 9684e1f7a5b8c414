"""Regenerate: a new answer to the same question with the same turns before it, shown in place of
the old one in the same turn (not a new turn, not a follow-up), the old one a click away (‹ 1/2 ›);
at temperature 0 the button says the answer would be the same instead of asking."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop.threads.process_chat import ProcessChat
from tests.support.chat_pane import make_answer
from tests.support.main_window import WAIT_MS, ask, open_and_wait_for_session
from tests.support.sessions import saved
from videochat.engines.client import StreamEnd
from videochat.generation import GenerationSettings


class FakeClient:
    """The model process's client: records each request body and answers with the next text."""

    def __init__(self, texts):
        self.bodies, self._texts = [], iter(texts)

    def reset_stop(self) -> None:
        pass

    def stream(self, body, end: StreamEnd):
        self.bodies.append(body)
        end.video_frames = {"indices": [0, 10], "times": [0.0, 0.4]}
        yield next(self._texts)


class FakeProcess:
    def __init__(self, texts):
        self.client = FakeClient(texts)

    def grant(self, path) -> None:
        pass


def conversation(body) -> list[tuple[str, str]]:
    """The (role, text) of a request body's messages, the video left out."""
    return [(m["role"], m["content"] if isinstance(m["content"], str) else m["content"][-1]["text"]) for m in body["messages"]]


def test_a_regenerated_turn_is_asked_with_exactly_the_turns_before_it_and_is_not_a_follow_up_of_its_old_answer(tmp_path):
    process = FakeProcess(["A1", "A2", "A3", "A2 again", "A4", "A5"])
    chat = ProcessChat(tmp_path / "clip.mp4", 8)
    settings = GenerationSettings(max_new_tokens=8)

    def ask(question, turns_before=None):
        return chat.ask(process, question, 8, None, settings, on_frames=lambda n: None, on_piece=lambda p: None, turns_before=turns_before)

    ask("Q1"), ask("Q2"), ask("Q3")
    again = ask("Q2", turns_before=[("Q1", "A1")])  # turn 2 regenerated: Q3 and A2 are not before it
    assert conversation(process.client.bodies[-1]) == [("user", "Q1"), ("assistant", "A1"), ("user", "Q2")]
    assert again.text == "A2 again" and again.follow_up
    first_again = ask("Q1", turns_before=[])
    assert conversation(process.client.bodies[-1]) == [("user", "Q1")] and not first_again.follow_up
    ask("Q5")  # the next question follows up on what the model was last given
    assert conversation(process.client.bodies[-1]) == [("user", "Q1"), ("assistant", "A4"), ("user", "Q5")]


# -- the chat pane ----------------------------------------------------------------------------


@pytest.fixture
def pane(pane):
    pane.temperature_spin.setValue(0.7)
    return pane


def answered(pane, question="What happens?", text="A red ball rolls.", times=(0.5, 1.0)):
    pane.begin_answer(question)
    pane.finish_answer(dataclasses.replace(make_answer(times=times, indices=[int(t * 30) for t in times], text=text), question=question), turn_index=len(pane.answer_bubbles()) - 1)
    return pane.answer_bubbles()[-1]


def test_a_regenerated_answer_streams_into_the_bubble_it_replaces_and_the_arrows_switch_between_them(pane, qtbot):
    bubble = answered(pane, text="A red ball rolls.", times=(0.5, 1.0))
    assert not bubble.place_label.isVisibleTo(bubble)
    chosen = []
    pane.sig_alternative_chosen.connect(lambda turn, choice: chosen.append((turn, choice)))
    selected = []
    pane.sig_answer_selected.connect(selected.append)

    pane.begin_regenerate(bubble)
    pane.append_answer_text("A blue")
    assert bubble.open and bubble.text == "A blue" and bubble.chips == []
    pane.finish_answer(make_answer(times=(2.0,), indices=(60,), text="A blue cube falls."), turn_index=0)
    assert pane.answer_bubbles() == [bubble] and len([b for b in pane.bubbles() if b.objectName() == "question"]) == 1
    assert bubble.text == "A blue cube falls." and [chip.text() for chip in bubble.chips] == ["0:00:02.000"]
    assert bubble.place_label.isVisibleTo(bubble) and bubble.place_label.text() == "2/2" and not bubble.next_button.isEnabled()

    qtbot.mouseClick(bubble.previous_button, Qt.MouseButton.LeftButton)
    assert bubble.text == "A red ball rolls." and bubble.place_label.text() == "1/2"
    assert [chip.text() for chip in bubble.chips] == ["0:00:00.500", "0:00:01.000"] and selected[-1] == [0.5, 1.0]
    assert not bubble.previous_button.isEnabled() and bubble.next_button.isEnabled()
    qtbot.mouseClick(bubble.next_button, Qt.MouseButton.LeftButton)
    assert bubble.text == "A blue cube falls." and selected[-1] == [2.0]
    assert chosen == [(0, 0), (0, 1)]


def test_a_regenerate_that_fails_keeps_the_answer_it_was_to_replace(pane):
    bubble = answered(pane, text="A red ball rolls.")
    pane.begin_regenerate(bubble)
    pane.append_answer_text("Half")
    pane.fail_answer("The model process ended.")
    assert not bubble.open and bubble.text == "A red ball rolls." and len(bubble.chips) == 2
    assert bubble.error_label.isVisibleTo(bubble) and "Regenerating failed: The model process ended." == bubble.error_label.text()
    assert bubble.regenerate_button.isEnabled()


def test_at_temperature_0_regenerate_is_off_and_says_the_answer_would_be_the_same(pane):
    bubble = answered(pane)
    assert bubble.regenerate_button.isEnabled() and "same question again" in bubble.regenerate_button.toolTip()
    pane.temperature_spin.setValue(0.0)
    assert not bubble.regenerate_button.isEnabled()
    assert "would give this same answer again" in bubble.regenerate_button.toolTip() and "raise the temperature" in bubble.regenerate_button.toolTip()
    pane.temperature_spin.setValue(0.3)
    assert bubble.regenerate_button.isEnabled()


# -- in the window, on a tiny real model ----------------------------------------------------------


def test_in_the_window_regenerate_replaces_the_last_turn_asked_with_the_turns_before_it_and_a_follow_up_sees_the_answer_shown(qtbot, window, clips, monkeypatch):
    clip = clips("plain.mp4")
    open_and_wait_for_session(qtbot, window, clip)
    first = ask(qtbot, window, "One?")
    second = ask(qtbot, window, "Two?")
    sent, send = [], window.worker.ask
    monkeypatch.setattr(window.worker, "ask", lambda request: (sent.append(request), send(request)))
    window.chat.temperature_spin.setValue(1.5)
    bubble = window.chat.answer_bubbles()[-1]
    with qtbot.waitSignal(window.worker.sig_answer_finished, timeout=WAIT_MS) as finished:
        QTest.mouseClick(bubble.regenerate_button, Qt.MouseButton.LeftButton)
    again = finished.args[0]
    assert (sent[-1].question, sent[-1].turns_before, sent[-1].frames, sent[-1].segment) == ("Two?", (("One?", first.text),), second.frames, second.segment)
    assert again.follow_up and len(window.chat.answer_bubbles()) == 2 and bubble.place_label.text() == "2/2"
    assert window.sessions.flush(5.0)
    on_disk = saved(clip)
    assert [turn.question for turn in on_disk.turns] == ["One?", "Two?"] and on_disk.turns[1].id == second.id
    assert [answer.text for answer in on_disk.answers_of(1).answers] == [second.text, again.text] and on_disk.turns[1].text == again.text

    QTest.mouseClick(bubble.previous_button, Qt.MouseButton.LeftButton)
    assert window.sessions.flush(5.0) and saved(clip).answers_of(1).shown == 0
    ask(qtbot, window, "Three?")
    assert sent[-1].turns_before == (("One?", first.text), ("Two?", second.text))  # what the chat shows, not the model's last answer
    assert window.sessions.flush(5.0) and [turn.question for turn in saved(clip).turns] == ["One?", "Two?", "Three?"]
