"""The chat's tests get a chat pane on screen as `pane`."""

from __future__ import annotations

import pytest

from tests.support.chat_pane import show_pane


@pytest.fixture
def pane(qtbot):
    """A chat pane on screen; its thumbnail decoding must have stopped by the end of the test."""
    pane = show_pane(qtbot)
    yield pane
    assert pane.shutdown()
