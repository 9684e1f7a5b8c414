"""The chat pane on screen, as the chat's tests use it."""

from __future__ import annotations

from desktop.chat.pane import ChatPane


def show_pane(qtbot, width: int = 500, height: int = 700) -> ChatPane:
    """A chat pane shown on screen (closed with the test)."""
    pane = ChatPane()
    qtbot.addWidget(pane)
    pane.resize(width, height)
    pane.show()
    qtbot.waitExposed(pane)
    return pane
