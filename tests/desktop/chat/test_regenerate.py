"""Regenerate: a new answer to the same question with the same turns before it, shown in place of
the old one in the same turn (not a new turn, not a follow-up), the old one a click away (‹ 1/2 ›);
at temperature 0 the button says the answer would be the same instead of asking."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop.chat.pane import ChatPane
from desktop.threads.process_chat import ProcessChat
from tests.desktop.chat.test_chat_pane import make_answer
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

    def ask(question, history=None):
        return chat.ask(process, question, 8, None, settings, on_frames=lambda n: None, on_piece=lambda p: None, history=history)

    ask("Q1"), ask("Q2"), ask("Q3")
    again = ask("Q2", history=[("Q1", "A1")])  # turn 2 regenerated: Q3 and A2 are not before it
    assert conversation(process.client.bodies[-1]) == [("user", "Q1"), ("assistant", "A1"), ("user", "Q2")]
    assert again.text == "A2 again" and again.follow_up
    first_again = ask("Q1", history=[])
    assert conversation(process.client.bodies[-1]) == [("user", "Q1")] and not first_again.follow_up
    ask("Q5")  # the next question follows up on what the model was last given
    assert conversation(process.client.bodies[-1]) == [("user", "Q1"), ("assistant", "A4"), ("user", "Q5")]
