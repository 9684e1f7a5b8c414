"""The player's tests get a player pane on screen as `pane`."""

from __future__ import annotations

import pytest


@pytest.fixture
def pane(qtbot):
    """A player pane, 640 x 480, shown on screen (closed with the test)."""
    from desktop.player.pane import PlayerPane

    pane = PlayerPane()
    qtbot.addWidget(pane)
    pane.resize(640, 480)
    pane.show()
    qtbot.waitExposed(pane)
    return pane
