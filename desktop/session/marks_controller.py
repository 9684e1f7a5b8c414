"""The in/out frames marked in the player, kept with the video's conversation: saved as they are
marked, set again in the player when the video's session is read."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

if TYPE_CHECKING:
    from desktop.windows.main_window import MainWindow


class MarksController(QObject):
    def __init__(self, window: MainWindow):
        super().__init__(window)
        self._window = window
        self._restoring = False  # the player's marks are being set from the conversation

    def restore(self, session) -> None:
        """Set the player's in/out frames to those kept with `session`, if its video is the one open."""
        player = self._window.player
        if player.info is None or not self._window.is_current_video(Path(session.video.path)):
            return
        in_point, out_point = session.in_out()
        self._restoring = True
        try:
            player.restore_marks(in_point and in_point.frame, out_point and out_point.frame)
        finally:
            self._restoring = False

    def _on_segment_changed(self, _segment) -> None:
        """Keep the in/out frames with the video's conversation, as they are marked."""
        window, player = self._window, self._window.player
        if self._restoring or player.info is None or player.timeline is None:
            return
        # Only into this video's conversation once it is read: the marks cleared as another video
        # opens must not reach it before its own saved marks are restored.
        session = window.existing_sessions.current() if window.existing_sessions is not None else None
        if session is None or not window.is_current_video(Path(session.video.path)):
            return
        from videochat.sessions.session import Mark

        timeline = player.timeline
        in_point, out_point = (None if frame is None else Mark(frame, timeline.time_of(frame)) for frame in player.marks())
        window.sessions.set_in_out(player.info.path, in_point, out_point)
