"""The player's open path: the pending open, the probe's and the player's answers, failures.

`PlayerPane.open(path)` hands the file to the core's `probe` on a worker thread, for the true
frame times, and to QMediaPlayer (Qt's bundled FFmpeg backend); `sig_opened` comes when both are
ready. With no video open the two run at once and a failure shows its message in place of the
video. With a video open, the probe goes first and the video stays until the new file has passed
it: a file that fails then leaves the video as it was, with the message in a notice above it.
Either way `sig_open_failed` tells the window, and opening another file works. What is not a
regular file (a FIFO, a device, a folder) fails at once and never reaches Qt's player.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer

from desktop.style import ERROR_OVERLAY_STYLE, NOTICE_STYLE
from videochat.errors import UnreadableVideo

if TYPE_CHECKING:
    from pathlib import Path

    from PySide6.QtMultimedia import QMediaPlayer

    from videochat.video.info import VideoInfo

# How long a QMediaPlayer error waits for the probe's clearer message before it is shown itself.
PLAYER_ERROR_GRACE_MS = 1000


NO_PLAYBACK_TEXT = (
    "This system cannot play video: Qt's multimedia backend did not load (the log has the details). "
    "Questions, answers and their frame times still work."
)


class OpenPath:
    """The `PlayerPane`'s opening, a part of it: it uses the pane's media, bars, message and notice."""

    @property
    def info(self) -> VideoInfo | None:
        return self._info

    @property
    def path(self) -> Path | None:
        return self._info.path if self._info is not None else None

    def _switch_player_to(self, path: Path) -> None:
        self._info = None
        self._set_video_controls_enabled(False)
        self._show_message(f"Opening {path.name} …", is_error=False)
        serial = self._pending.serial
        self._media.when_ready(lambda: self._load_into_player(serial, path))

    def _load_into_player(self, serial: int, path: Path) -> None:
        if self._pending is None or self._pending.serial != serial:
            return  # while the player was being made, another file was opened or this one failed
        if not self._can_show_video():
            # No media backend (a broken install, a stripped bundle): the probe alone finishes the open.
            self._pending.player_ready = True
            self._finish_open_if_ready()  # the probe may have come back while the player was being made
            return
        from PySide6.QtCore import QUrl  # here: its type costs the window's first paint ~0.7 ms

        url = QUrl.fromLocalFile(str(path.absolute()))
        if self._player.source() == url:
            self._player.setSource(QUrl())  # the same source again would be a no-op: no LoadedMedia
        self._player.setSource(url)

    def _on_probe_returned(self, result: tuple[int, VideoInfo | None, Exception | None]) -> None:
        serial, info, error = result
        pending = self._pending
        if pending is None or pending.serial != serial:
            return  # a later open() took over
        if isinstance(error, UnreadableVideo):
            self._fail_open(str(error))
        elif error is not None:
            self._fail_open(f"{pending.path.name} could not be opened: {type(error).__name__}: {error}")
        elif pending.player_error is not None:
            self._fail_open(pending.player_error)
        else:
            pending.info = info
            if pending.keeps_current:
                pending.keeps_current = False
                self._switch_player_to(pending.path)  # LoadedMedia finishes the open
            else:
                self._finish_open_if_ready()

    def _on_media_status_changed(self, status: QMediaPlayer.MediaStatus) -> None:
        from PySide6.QtMultimedia import QMediaPlayer

        switching = self._pending is not None and not self._pending.keeps_current
        if status == QMediaPlayer.MediaStatus.LoadedMedia and switching:
            self._pending.player_ready = True
            self._finish_open_if_ready()
        elif status == QMediaPlayer.MediaStatus.EndOfMedia and self._info is not None:
            if self._looping:
                self.seek_to_frame(self._loop_frames()[0])
                self._player.play()
                return
            # Qt blanks the picture at the end; hold the last frame instead, as mpv's keep-open does.
            self._player.pause()
            self.seek_to_frame(self.timeline.last_frame)

    def _on_player_error(self, error: QMediaPlayer.Error, message: str) -> None:
        from PySide6.QtMultimedia import QMediaPlayer

        pending = self._pending
        if error == QMediaPlayer.Error.NoError or (pending is None and self._info is None):
            return
        if pending is not None and pending.keeps_current:
            # The shown video's error: the new file is not in the player yet, its open goes on.
            self._show_notice(f"{self.path.name} cannot be played: {message or error.name}.", is_error=True)
            return
        name = pending.path.name if pending is not None else (self.path.name if self.path else "The video")
        text = f"{name} cannot be played: {message or error.name}."
        if pending is not None and pending.info is None:
            pending.player_error = text  # the probe's message, if it fails too, says more
            QTimer.singleShot(PLAYER_ERROR_GRACE_MS, self, lambda serial=pending.serial: self._on_player_error_grace_over(serial))
        else:
            self._fail_open(text)

    def _on_player_error_grace_over(self, serial: int) -> None:
        pending = self._pending
        if pending is not None and pending.serial == serial and pending.player_error is not None:
            self._fail_open(pending.player_error)

    def _finish_open_if_ready(self) -> None:
        pending = self._pending
        if pending is None or pending.info is None or not pending.player_ready:
            return
        self._pending = None
        self._info = pending.info
        self._marks.clear()
        self._scrub.set_ticks([])
        self._scrub.set_note_spans([])
        self._scrub.set_duration(self._info.duration)
        self.scrub_preview.set_video(self._info)
        self._publish_segment()
        if not self._can_show_video():
            self._set_video_controls_enabled(False)
            self._show_message(NO_PLAYBACK_TEXT, is_error=True)
            self.sig_opened.emit(self._info)
            return
        self._set_video_controls_enabled(True)
        self._player.pause()  # shows the first frame; playback waits for the user
        self._notice.hide()
        self._stack.setCurrentWidget(self._media.video)
        self._on_player_position_changed(self._player.position())
        self.sig_opened.emit(self._info)

    def _can_show_video(self) -> bool:
        """False without a media backend (a broken install, a stripped bundle): files still open, for questions."""
        return self._player is not None and self._player.isAvailable()

    def _fail_open(self, message: str) -> None:
        pending, self._pending = self._pending, None
        if pending is not None and pending.keeps_current:
            self._show_notice(message, is_error=True)  # the video on screen stays as it was
            self.sig_open_failed.emit(message)
            return
        self._notice.hide()
        self._info = None
        if self._player is not None:
            from PySide6.QtCore import QUrl

            self._player.stop()
            self._player.setSource(QUrl())
        self._marks.clear()
        self._publish_segment()
        self._scrub.set_duration(0.0)
        self.scrub_preview.set_video(None)
        self._scrub.set_ticks([])
        self._scrub.set_note_spans([])
        self._set_video_controls_enabled(False)
        self._show_message(message, is_error=True)
        self.sig_open_failed.emit(message)

    def _show_notice(self, text: str, is_error: bool) -> None:
        self._notice.setText(text)
        self._notice.setStyleSheet(ERROR_OVERLAY_STYLE if is_error else NOTICE_STYLE)
        self._notice.show()

    def _show_message(self, text: str, is_error: bool) -> None:
        self._message.setText(text)
        self._message.setStyleSheet(ERROR_OVERLAY_STYLE if is_error else "")
        self._stack.setCurrentIndex(0)
