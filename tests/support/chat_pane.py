"""The chat pane on screen and a finished answer to show in it, as the chat's tests (and bench/chat_turns.py) use them."""

from __future__ import annotations

from desktop.chat.pane import ChatPane
from videochat.chat import Answer


def show_pane(qtbot, width: int = 500, height: int = 700) -> ChatPane:
    """A chat pane shown on screen (closed with the test)."""
    pane = ChatPane()
    qtbot.addWidget(pane)
    pane.resize(width, height)
    pane.show()
    qtbot.waitExposed(pane)
    return pane


def make_answer(times=(0.5, 1.0, 1.5), indices=(15, 30, 45), segment=None, stopped=False, text="A **red** ball rolls.") -> Answer:
    """A finished answer by InternVL2-1B, one frame per time."""
    return Answer(
        question="What happens?", text=text, stopped=stopped, indices=list(indices), times=list(times),
        model="InternVL2-1B", revision=None, family="internvl2", frames=len(times), segment=segment,
        settings={}, device="cpu", precision="float32", asked_at=0.0, follow_up=False,
    )
