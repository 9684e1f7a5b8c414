"""The player pane: the video with its audio, the transport controls, the scrub bar and the keys.

Opening: `open(path)` hands the file to the core's `probe` on a worker thread, for the true
frame times, and to QMediaPlayer (Qt's bundled FFmpeg backend); `sig_opened` comes when both are
ready. With no video open the two run at once and a failure shows its message in place of the
video. With a video open, the probe goes first and the video stays until the new file has passed
it: a file that fails then leaves the video as it was, with the message in a notice above it.
Either way `sig_open_failed` tells the window, and opening another file works. What is not a
regular file (a FIFO, a device, a folder) fails at once and never reaches Qt's player.

Frames: every seek aims inside the frame by its true presentation time (from the probe), away
from its edges where Qt shows a neighbour (see `_seek_target`), so the frame on screen is the
one `current_frame_index()` names, on variable-frame-rate video too.

Keys, as in mpv and video editors (one table, `_key_actions`):
  Space play/pause (on the last frame: from the start) · K pause · L play; again: faster ·
  J slower while faster than 1×, otherwise pause and back 1 s (Qt cannot play backwards) ·
  ←/→ 5 s · , / . one frame back/forward, paused · Home/End first/last frame ·
  I/O in/out at the frame on screen · Esc clear in/out · [ / ] speed down/up · M mute.
They are QShortcuts with Qt.WidgetWithChildrenShortcut, so they act while the focus is in the
pane and never while typing elsewhere. For window-wide keys the main window calls
`handle_key(event)` from its keyPressEvent: a window sees only keys its focused widget left
unused, so text boxes keep theirs.
"""

from __future__ import annotations

import bisect
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, QUrl, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from desktop.background import run_in_background
from desktop.media_objects import MediaObjects
from desktop.probes import probes
from desktop.scrub_bar import ScrubBar
from desktop.transport_bar import TransportBar
from videochat.errors import UnreadableVideo
from videochat.video_files import check_video_file

if TYPE_CHECKING:
    from PySide6.QtMultimedia import QMediaPlayer

    from videochat.video import VideoInfo

SEEK_STEP_S = 5.0
BACK_STEP_S = 1.0
# How long a QMediaPlayer error waits for the probe's clearer message before it is shown itself.
PLAYER_ERROR_GRACE_MS = 1000
# The media objects start being made this long after the window first shows (desktop/media_objects.py).
MEDIA_SETUP_DELAY_MS = 50
ERROR_STYLE = "QLabel { background: #7a1f1f; color: white; padding: 12px; border-radius: 6px; }"


class _PendingOpen:
    """An open on its way: the probe's and the player's halves, tagged by serial (a plain class: no
    dataclasses import at start-up)."""

    def __init__(self, serial: int, path: Path, keeps_current: bool = False):
        self.serial = serial
        self.path = path
        self.keeps_current = keeps_current  # a video is shown: the player switches only once the probe passed
        self.info: VideoInfo | None = None
        self.player_ready = False
        self.player_error: str | None = None


def _probe_job(serial: int, path: Path) -> tuple[int, VideoInfo | None, Exception | None]:
    """Runs on a worker thread; failures come back as objects, tagged with the open they belong to."""
    try:
        return serial, probes.info(path), None
    except Exception as error:  # every failure is shown in the pane, expected or not
        return serial, None, error


NO_PLAYBACK_TEXT = (
    "This system cannot play video: Qt's multimedia backend did not load (the log has the details). "
    "Questions, answers and their frame times still work."
)


class PlayerPane(QWidget):
    sig_opened = Signal(object)  # VideoInfo
    sig_open_failed = Signal(str)
    sig_position_changed = Signal(float)  # seconds
    sig_segment_changed = Signal(object)  # (in, out) seconds, or None

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._info: VideoInfo | None = None
        self._pending: _PendingOpen | None = None
        self._open_serial = 0
        self._in_point: float | None = None
        self._out_point: float | None = None
        self._resume_after_drag = False

        # Made after the window shows, or for the first open (desktop/media_objects.py).
        self._media = MediaObjects(self, on_made=self._wire_media)
        self._build_ui()
        self._connect_signals()
        self._install_shortcuts()
        self._set_video_controls_enabled(False)

    def _build_ui(self) -> None:
        self._notice = QLabel()  # above a video that stays: "Opening …", or why a new file did not open
        self._notice.setObjectName("playerNotice")
        self._notice.setWordWrap(True)
        self._notice.hide()
        self._message = QLabel("No video open.")
        self._message.setObjectName("playerMessage")
        self._message.setWordWrap(True)
        self._message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        message_page = QWidget()
        QVBoxLayout(message_page).addWidget(self._message, 0, Qt.AlignmentFlag.AlignVCenter)
        self._stack = QStackedWidget()
        self._stack.addWidget(message_page)
        self._scrub = ScrubBar()
        self._transport = TransportBar()
        layout = QVBoxLayout(self)
        layout.addWidget(self._notice)
        layout.addWidget(self._stack, 1)
        layout.addWidget(self._scrub)
        layout.addWidget(self._transport)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        QTimer.singleShot(MEDIA_SETUP_DELAY_MS, self._media.prepare)

    @property
    def _player(self) -> QMediaPlayer | None:
        return self._media.player

    def _wire_media(self, media: MediaObjects) -> None:
        media.audio.setVolume(self._transport.volume())
        media.player.setPlaybackRate(self._transport.speed())
        media.video.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._stack.addWidget(media.video)
        media.player.mediaStatusChanged.connect(self._on_media_status_changed)
        media.player.errorOccurred.connect(self._on_player_error)
        media.player.positionChanged.connect(self._on_player_position_changed)
        media.player.playbackStateChanged.connect(self._on_playback_state_changed)
        self._transport.sig_speed_changed.connect(media.player.setPlaybackRate)
        self._transport.sig_volume_changed.connect(media.audio.setVolume)

    def _connect_signals(self) -> None:
        self._scrub.sig_seek_requested.connect(self.seek)
        self._scrub.sig_drag_started.connect(self._on_drag_started)
        self._scrub.sig_drag_finished.connect(self._on_drag_finished)
        self._transport.sig_play_toggled.connect(self.toggle_play)
        self._transport.sig_step_requested.connect(self.step_frames)

    # Opening

    @property
    def info(self) -> VideoInfo | None:
        return self._info

    @property
    def path(self) -> Path | None:
        return self._info.path if self._info is not None else None

    def open(self, path: str | Path) -> None:
        """Start loading `path`; `sig_opened` or `sig_open_failed` follows. Returns at once."""
        path = Path(path)
        self._open_serial += 1
        self._pending = _PendingOpen(self._open_serial, path, keeps_current=self._info is not None)
        try:
            # A stat, before Qt sees the path: Qt's player opens a FIFO on its loader thread and waits
            # for a writer, and the next setSource then waits for that thread here, for good.
            check_video_file(path)
        except UnreadableVideo as error:
            self._fail_open(str(error))
            return
        if self._pending.keeps_current:
            self._show_notice(f"Opening {path.name} …", is_error=False)
        else:
            self._switch_player_to(path)
        run_in_background(_probe_job, self._open_serial, path, receiver=self._on_probe_returned)

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
            # Qt blanks the picture at the end; hold the last frame instead, as mpv's keep-open does.
            self._player.pause()
            self.seek_to_frame(self._info.frame_count - 1)

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
        self._in_point = self._out_point = None
        self._scrub.set_ticks([])
        self._scrub.set_note_spans([])
        self._scrub.set_duration(self._info.duration)
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
            self._player.stop()
            self._player.setSource(QUrl())
        self._in_point = self._out_point = None
        self._publish_segment()
        self._scrub.set_duration(0.0)
        self._scrub.set_ticks([])
        self._scrub.set_note_spans([])
        self._set_video_controls_enabled(False)
        self._show_message(message, is_error=True)
        self.sig_open_failed.emit(message)

    def _show_notice(self, text: str, is_error: bool) -> None:
        self._notice.setText(text)
        self._notice.setStyleSheet(ERROR_STYLE if is_error else "QLabel { padding: 4px; }")
        self._notice.show()

    def _show_message(self, text: str, is_error: bool) -> None:
        self._message.setText(text)
        self._message.setStyleSheet(ERROR_STYLE if is_error else "")
        self._stack.setCurrentIndex(0)

    def _set_video_controls_enabled(self, enabled: bool) -> None:
        self._scrub.setEnabled(enabled)
        self._transport.set_video_controls_enabled(enabled)
        if not enabled:
            self._transport.show_time(0.0, 0.0)

    # Position and frames

    def position_seconds(self) -> float:
        return self._player.position() / 1000.0 if self._player is not None else 0.0

    def current_frame_index(self) -> int:
        """The frame on screen: the last one whose time is at or before the position; -1 with no video."""
        return self._frame_at(self.position_seconds()) if self._info is not None else -1

    def _frame_end(self, index: int) -> float:
        times = self._info.times
        return float(times[index + 1]) if index + 1 < len(times) else float(times[0]) + self._info.duration

    def _frame_at(self, seconds: float) -> int:
        index = bisect.bisect_right(self._info.times, seconds) - 1
        return min(max(index, 0), self._info.frame_count - 1)

    def seek(self, seconds: float) -> None:
        """Show the frame that is on screen at `seconds` (the position lands in its middle)."""
        if self._info is not None:
            self.seek_to_frame(self._frame_at(seconds))

    def seek_to_frame(self, index: int) -> None:
        if self._info is None or self._player is None:
            return
        from PySide6.QtMultimedia import QMediaPlayer

        index = min(max(int(index), 0), self._info.frame_count - 1)
        if self._player.playbackState() == QMediaPlayer.PlaybackState.StoppedState:
            self._player.pause()  # a stopped player moves its position but shows no frame
        self._player.setPosition(round(self._seek_target(index) * 1000))

    def _seek_target(self, index: int) -> float:
        """Where to put the position for frame `index` to be the one shown.

        Measured on Qt's FFmpeg backend: it gives every frame the average duration D, and a
        seek to p shows the first frame whose start + D is after p; so frame k shows for p in
        [start(k-1) + D, start(k) + D). We aim at the middle of where that meets frame k's true
        interval: on constant-rate video, its start plus half a frame.
        """
        times = self._info.times
        nominal = 1.0 / self._info.fps
        start, end = float(times[index]), self._frame_end(index)
        shown_from = float(times[index - 1]) + nominal if index > 0 else start
        low, high = max(shown_from, start), min(start + nominal, end)
        if low >= high:  # two very short frames in a row: Qt's window lies outside the true one
            low, high = shown_from, start + nominal
        return (low + high) / 2

    def step_frames(self, count: int) -> None:
        """Pause and move `count` frames (negative: back), by the true frame times."""
        if self._info is None or self._player is None:
            return
        self._player.pause()
        self.seek_to_frame(self.current_frame_index() + count)

    def _on_player_position_changed(self, milliseconds: int) -> None:
        if self._info is None:
            return
        seconds = milliseconds / 1000.0
        self._scrub.set_position(seconds)
        self._transport.show_time(seconds, self._info.duration)
        self.sig_position_changed.emit(seconds)

    # Playback

    def is_playing(self) -> bool:
        if self._player is None:
            return False
        from PySide6.QtMultimedia import QMediaPlayer

        return self._player.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    def play(self) -> None:
        if self._info is None or self._player is None:
            return
        if self.current_frame_index() == self._info.frame_count - 1:
            self.seek_to_frame(0)  # play on the last frame starts over, as in editors
        self._player.play()

    def pause(self) -> None:
        if self._info is not None and self._player is not None:
            self._player.pause()

    def toggle_play(self) -> None:
        if self.is_playing():
            self.pause()
        else:
            self.play()

    def speed(self) -> float:
        return self._transport.speed()

    def _on_playback_state_changed(self, state: QMediaPlayer.PlaybackState) -> None:
        from PySide6.QtMultimedia import QMediaPlayer

        self._transport.show_playing(state == QMediaPlayer.PlaybackState.PlayingState)

    def _on_drag_started(self) -> None:
        # Paused while dragging so each throttled seek shows a still frame; playback resumes after.
        self._resume_after_drag = self.is_playing()
        self.pause()

    def _on_drag_finished(self) -> None:
        if self._resume_after_drag and self._player is not None:
            self._player.play()
        self._resume_after_drag = False

    def volume(self) -> float:
        """0..1, as the volume slider shows it (muting with M leaves it as it is)."""
        return self._transport.volume()

    def set_volume(self, fraction: float) -> None:
        self._transport.set_volume(fraction)

    # Segment and answer ticks

    def segment(self) -> tuple[float, float] | None:
        """(in, out) in seconds; a missing in is the start, a missing out the end; None when neither is set."""
        if self._in_point is None and self._out_point is None:
            return None
        end = self._out_point if self._out_point is not None else (self._info.duration if self._info else 0.0)
        return (self._in_point or 0.0, end)

    def set_in_point(self, seconds: float | None) -> None:
        self._in_point = self._clamp_to_video(seconds)
        # Like editors, the mark just made wins: an out at or before the new in is dropped.
        if self._in_point is not None and self._out_point is not None and self._out_point <= self._in_point:
            self._out_point = None
        self._publish_segment()

    def set_out_point(self, seconds: float | None) -> None:
        self._out_point = self._clamp_to_video(seconds)
        if self._in_point is not None and self._out_point is not None and self._out_point <= self._in_point:
            self._in_point = None
        self._publish_segment()

    def clear_segment(self) -> None:
        self._in_point = self._out_point = None
        self._publish_segment()

    def _clamp_to_video(self, seconds: float | None) -> float | None:
        if seconds is None:
            return None
        duration = self._info.duration if self._info is not None else float("inf")
        return min(max(float(seconds), 0.0), duration)

    def _publish_segment(self) -> None:
        segment = self.segment()
        if segment != self._scrub.segment():
            self._scrub.set_segment(segment)
            self.sig_segment_changed.emit(segment)

    def _mark_in_here(self) -> None:
        # In at the start and out at the end of the frame on screen, so that frame is inside.
        self.set_in_point(float(self._info.times[self.current_frame_index()]))

    def _mark_out_here(self) -> None:
        self.set_out_point(self._frame_end(self.current_frame_index()))

    @property
    def answer_ticks(self) -> list[float]:
        return self._scrub.ticks()

    def set_answer_ticks(self, times: list[float]) -> None:
        """Mark the times of the frames an answer was based on; an empty list clears them."""
        self._scrub.set_ticks(times)

    def set_note_spans(self, spans: list[tuple[float, float]]) -> None:
        """Show the timeline notes' spans on the scrub bar."""
        self._scrub.set_note_spans(spans)

    # Keys

    def _key_actions(self) -> dict[int, object]:
        return {
            Qt.Key.Key_Space: self.toggle_play,
            Qt.Key.Key_K: self.pause,
            Qt.Key.Key_L: self._on_key_faster,
            Qt.Key.Key_J: self._on_key_slower_or_back,
            Qt.Key.Key_Left: lambda: self.seek(self.position_seconds() - SEEK_STEP_S),
            Qt.Key.Key_Right: lambda: self.seek(self.position_seconds() + SEEK_STEP_S),
            Qt.Key.Key_Comma: lambda: self.step_frames(-1),
            Qt.Key.Key_Period: lambda: self.step_frames(1),
            Qt.Key.Key_Home: lambda: self.seek_to_frame(0),
            Qt.Key.Key_End: lambda: self.seek_to_frame(self._info.frame_count - 1),
            Qt.Key.Key_I: self._mark_in_here,
            Qt.Key.Key_O: self._mark_out_here,
            Qt.Key.Key_Escape: self.clear_segment,
            Qt.Key.Key_BracketLeft: lambda: self._transport.change_speed(-1),
            Qt.Key.Key_BracketRight: lambda: self._transport.change_speed(1),
            Qt.Key.Key_M: self._toggle_mute,
        }

    def _install_shortcuts(self) -> None:
        for key in self._key_actions():
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.setAutoRepeat(True)
            shortcut.activated.connect(lambda key=key: self._run_key_action(key))

    def _run_key_action(self, key: int) -> bool:
        action = self._key_actions().get(key)
        if action is None or self._info is None:
            return False
        action()
        return True

    def handle_key(self, event: QKeyEvent) -> bool:
        """Act on a player key from anywhere in the window; True when it was one (and a video is open)."""
        blocking = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier
        if event.modifiers() & blocking:
            return False
        return self._run_key_action(event.key())

    def _on_key_faster(self) -> None:
        if self.is_playing():
            self._transport.change_speed(1)
        else:
            self.play()

    def _toggle_mute(self) -> None:
        audio = self._media.audio
        if audio is not None:  # none yet, or none to be had (no media backend)
            audio.setMuted(not audio.isMuted())

    def _on_key_slower_or_back(self) -> None:
        if self.is_playing() and self.speed() > 1.0:
            self._transport.change_speed(-1)
        else:
            self.pause()
            self.seek(self.position_seconds() - BACK_STEP_S)
