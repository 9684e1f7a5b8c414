"""The player pane: the video with its audio, the transport controls, the scrub bar and the keys.

A view of the open video's `Timeline` (`videochat/video/timeline.py`): one frame, one time.
Every seek aims inside a frame (`desktop/player/seeking.py`), so the frame on screen is the one
`current_frame_index()` names; the readout and the scrub bar show that frame's own time and
number, never the position inside it. Its parts, by job: opening a file (`opening.py`), the
in/out marks, go-to and loop (`marks.py`), the key commands (`key_commands.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Qt, Signal
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from desktop.player.in_out_bar import InOutBar
from desktop.player.key_commands import KeyCommands
from desktop.player.marks import SegmentMarks
from desktop.player.media_objects import MediaObjects
from desktop.player.opening import OpenPath
from desktop.player.probes import probes
from desktop.player.scrub_bar import ScrubBar
from desktop.player.seeking import last_shown_frame, seek_target
from desktop.player.transport_bar import TransportBar
from desktop.threads.background import run_job
from videochat.errors import UnreadableVideo
from videochat.video.files import check_video_file
from videochat.video.timeline import InOut, Timeline

if TYPE_CHECKING:
    from PySide6.QtMultimedia import QMediaPlayer

    from desktop.player.scrub_preview import ScrubPreview

    from videochat.video.info import VideoInfo


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


# The media objects start being made this long after the window first shows (desktop/player/media_objects.py).
MEDIA_SETUP_DELAY_MS = 50


class PlayerPane(OpenPath, SegmentMarks, KeyCommands, QWidget):
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
        self._marks = InOut()
        self._looping = False
        self._resume_after_drag = False

        # Made after the window shows, or for the first open (desktop/player/media_objects.py).
        self._media = MediaObjects(self, on_made=self._wire_media)
        self._build_ui()
        self._connect_signals()
        self._install_shortcuts()
        self._set_video_controls_enabled(False)

    def _build_ui(self) -> None:
        self._notice = QLabel()  # above a video that stays: "Opening …", or why a new file did not open
        self._notice.setObjectName("playerNotice")
        self._notice.setTextFormat(Qt.TextFormat.PlainText)  # it names files: a name that looks like markup is shown as typed
        self._notice.setWordWrap(True)
        self._notice.hide()
        self._message = QLabel("No video open.")
        self._message.setObjectName("playerMessage")
        self._message.setTextFormat(Qt.TextFormat.PlainText)
        self._message.setWordWrap(True)
        self._message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        message_page = QWidget()
        QVBoxLayout(message_page).addWidget(self._message, 0, Qt.AlignmentFlag.AlignVCenter)
        self._stack = QStackedWidget()
        self._stack.addWidget(message_page)
        self._scrub = ScrubBar()
        self._scrub_preview: ScrubPreview | None = None  # made with the first open: see `scrub_preview`
        self._transport = TransportBar()
        self._in_out = InOutBar()
        layout = QVBoxLayout(self)
        layout.addWidget(self._notice)
        layout.addWidget(self._stack, 1)
        layout.addWidget(self._scrub)
        layout.addWidget(self._transport)
        layout.addWidget(self._in_out)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        QTimer.singleShot(MEDIA_SETUP_DELAY_MS, self._media.prepare)

    @property
    def scrub_preview(self) -> ScrubPreview:
        """The frame under the mouse on the scrub bar. Made when a video first opens (there is nothing
        to preview before): its module and the thumbnail machinery cost the window's first paint ~1.5 ms."""
        if self._scrub_preview is None:
            from desktop.player.scrub_preview import ScrubPreview

            self._scrub_preview = ScrubPreview(self._scrub)
        return self._scrub_preview

    @property
    def _player(self) -> QMediaPlayer | None:
        return self._media.player

    def _wire_media(self, media: MediaObjects) -> None:
        media.audio.setVolume(self._transport.volume())
        media.audio.setMuted(self._transport.is_muted())
        media.player.setPlaybackRate(self._transport.speed())
        media.video.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._stack.addWidget(media.video)
        media.player.mediaStatusChanged.connect(self._on_media_status_changed)
        media.player.errorOccurred.connect(self._on_player_error)
        media.player.positionChanged.connect(self._on_player_position_changed)
        media.player.playbackStateChanged.connect(self._on_playback_state_changed)
        self._transport.sig_speed_changed.connect(media.player.setPlaybackRate)
        self._transport.sig_volume_changed.connect(media.audio.setVolume)
        self._transport.sig_muted_changed.connect(media.audio.setMuted)

    def _connect_signals(self) -> None:
        self._scrub.sig_seek_requested.connect(self.seek)
        self._scrub.sig_drag_started.connect(self._on_drag_started)
        self._scrub.sig_drag_finished.connect(self._on_drag_finished)
        self._transport.sig_play_toggled.connect(self.toggle_play)
        self._transport.sig_step_requested.connect(self.step_frames)
        bar = self._in_out
        bar.sig_go_to_typed.connect(self._on_go_to_typed)
        bar.sig_in_typed.connect(lambda text: self._on_mark_typed(text, bar.in_edit, self.set_in_frame))
        bar.sig_out_typed.connect(lambda text: self._on_mark_typed(text, bar.out_edit, self.set_out_frame))
        bar.sig_loop_toggled.connect(self.set_looping)
        bar.sig_done.connect(self._on_bar_edit_given_up)

    # Opening (the rest of the open path: opening.py)

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
        run_job(_probe_job, self._open_serial, path, returned=self._on_probe_returned)

    def _set_video_controls_enabled(self, enabled: bool) -> None:
        self._scrub.setEnabled(enabled)
        self._transport.set_video_controls_enabled(enabled)
        self._in_out.setEnabled(enabled)
        if not enabled:
            self._transport.show_frame(0.0, None, 0.0)

    # Position and frames

    @property
    def timeline(self) -> Timeline | None:
        """The open video's frames and their times; None with no video."""
        return Timeline.of(self._info) if self._info is not None else None

    def position_seconds(self) -> float:
        """The player's position: inside the frame on screen, not its time (see `frame_time`)."""
        return self._player.position() / 1000.0 if self._player is not None else 0.0

    def current_frame_index(self) -> int:
        """The frame on screen: the last one whose time is at or before the position; -1 with no video."""
        return self.timeline.frame_at(self.position_seconds()) if self._info is not None else -1

    def frame_time(self) -> float:
        """The time of the frame on screen (its presentation time), as the readout shows it."""
        return self.timeline.time_of(self.current_frame_index()) if self._info is not None else 0.0

    def seek(self, seconds: float) -> None:
        """Show the frame that is on screen at `seconds` (the position lands in its middle)."""
        if self._info is not None:
            self.seek_to_frame(self.timeline.frame_at(seconds))

    def seek_to_frame(self, index: int) -> None:
        if self._info is None or self._player is None:
            return
        from PySide6.QtMultimedia import QMediaPlayer

        index = min(max(int(index), 0), self._last_shown_frame())
        if self._player.playbackState() == QMediaPlayer.PlaybackState.StoppedState:
            self._player.pause()  # a stopped player moves its position but shows no frame
        self._player.setPosition(round(self._seek_target(index) * 1000))

    def _last_shown_frame(self) -> int:
        end_ms = self._player.duration() if self._player is not None else 0
        return last_shown_frame(self.timeline, 1.0 / self._info.fps, end_ms)

    def _seek_target(self, index: int) -> float:
        return seek_target(self.timeline, 1.0 / self._info.fps, index)

    def step_frames(self, count: int) -> None:
        """Pause and move `count` frames (negative: back), by the true frame times."""
        if self._info is None or self._player is None:
            return
        self._player.pause()
        self.seek_to_frame(self.current_frame_index() + count)

    def _on_player_position_changed(self, milliseconds: int) -> None:
        if self._info is None:
            return
        # The frame's own time, not the position inside it: one frame, one time.
        timeline = self.timeline
        index = timeline.frame_at(milliseconds / 1000.0)
        seconds = timeline.time_of(index)
        self._scrub.set_position(seconds)
        self._transport.show_frame(seconds, index, self._info.duration)
        self.sig_position_changed.emit(seconds)
        if self._looping and self.is_playing():
            first, last = self._loop_frames()
            if index > last:
                self.seek_to_frame(first)

    # Playback

    def is_playing(self) -> bool:
        if self._player is None:
            return False
        from PySide6.QtMultimedia import QMediaPlayer

        return self._player.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    def play(self) -> None:
        if self._info is None or self._player is None:
            return
        if self.current_frame_index() >= self._last_shown_frame():
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

    def is_muted(self) -> bool:
        return self._transport.is_muted()

    def toggle_mute(self) -> None:
        self._transport.set_muted(not self._transport.is_muted())

    def set_volume(self, fraction: float) -> None:
        self._transport.set_volume(fraction)

    # Answer ticks and note spans

    @property
    def answer_ticks(self) -> list[float]:
        return self._scrub.ticks()

    def set_answer_ticks(self, times: list[float]) -> None:
        """Mark the times of the frames an answer was based on; an empty list clears them."""
        self._scrub.set_ticks(times)

    def set_note_spans(self, spans: list[tuple[float, float]]) -> None:
        """Show the timeline notes' spans on the scrub bar."""
        self._scrub.set_note_spans(spans)

