"""The player pane: the video with its audio, the transport controls, the scrub bar and the keys.

Opening: `open(path)` hands the file to the core's `probe` on a worker thread, for the true
frame times, and to QMediaPlayer (Qt's bundled FFmpeg backend); `sig_opened` comes when both are
ready. With no video open the two run at once and a failure shows its message in place of the
video. With a video open, the probe goes first and the video stays until the new file has passed
it: a file that fails then leaves the video as it was, with the message in a notice above it.
Either way `sig_open_failed` tells the window, and opening another file works. What is not a
regular file (a FIFO, a device, a folder) fails at once and never reaches Qt's player.

Frames: one frame, one time (`videochat/timeline.py`). Every seek aims inside the frame by its
true presentation time (from the probe), away from its edges where Qt shows a neighbour (see
`_seek_target`), so the frame on screen is the one `current_frame_index()` names, on
variable-frame-rate video too; the readout and the scrub bar show that frame's own time and
number, never the position inside it. In and out are frames (`InOut`); `segment()` is their span,
and `set_in_point`/`set_out_point` take such a span's ends back to the same frames. The row
under the transport (`desktop/in_out_bar.py`) shows them, takes typed ones, goes to a typed
position and loops.

Keys, as in mpv and video editors: the table is `desktop/keys.py` (key → command name), the
handlers are `commands()` (command name → method). J goes back rather than playing backwards,
which Qt cannot. They are QShortcuts with Qt.WidgetWithChildrenShortcut, so they act while the
focus is in the pane and never while typing elsewhere (keys with Ctrl act window-wide). For
window-wide keys the main window calls `handle_key(event)` from its keyPressEvent: a window sees
only keys its focused widget left unused, so text boxes keep theirs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QTimer, QUrl, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from desktop import keys
from desktop.threads.background import run_in_background
from desktop.player.in_out_bar import InOutBar
from desktop.player.media_objects import MediaObjects
from desktop.player.probes import probes
from desktop.player.scrub_bar import ScrubBar
from desktop.player.scrub_preview import ScrubPreview
from desktop.player.transport_bar import TransportBar
from desktop.style import ERROR_OVERLAY_STYLE, NOTICE_STYLE
from videochat.errors import InvalidPosition, UnreadableVideo
from videochat.video.timeline import InOut, Timeline
from videochat.video.files import check_video_file

if TYPE_CHECKING:
    from PySide6.QtMultimedia import QMediaPlayer

    from videochat.video.info import VideoInfo

SEEK_STEP_S = 5.0
BACK_STEP_S = 1.0
# How long a QMediaPlayer error waits for the probe's clearer message before it is shown itself.
PLAYER_ERROR_GRACE_MS = 1000
# The media objects start being made this long after the window first shows (desktop/media_objects.py).
MEDIA_SETUP_DELAY_MS = 50


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
        self._marks = InOut()
        self._looping = False
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
        self.scrub_preview = ScrubPreview(self._scrub)
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
            if self._looping:
                self.seek_to_frame(self._loop_frames()[0])
                self._player.play()
                return
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
        """The last frame Qt's player can show: the last whose seek target lies before the player's end.

        Qt ends the media at the container's declared duration, puts a later position at that end
        and shows no picture there. A file's declared duration can end before its last frames'
        times: with B-frames and a variable rate, muxers count it from decoding times (the test
        clip vfr.mp4 declares 4.416 s; its frames 88 and 89 are at 4.400 and 4.433 s). Those frames
        are read by the probe and the sampler, but the player holds the last one it can show.
        """
        last = self._info.frame_count - 1
        end_ms = self._player.duration() if self._player is not None else 0
        if end_ms <= 0:  # not known yet: nothing to hold back
            return last
        while last > 0 and round(self._seek_target(last) * 1000) >= end_ms:
            last -= 1
        return last

    def _seek_target(self, index: int) -> float:
        """Where to put the position for frame `index` to be the one shown.

        Measured on Qt's FFmpeg backend: it gives every frame the average duration D, and a
        seek to p shows the first frame whose start + D is after p; so frame k shows for p in
        [start(k-1) + D, start(k) + D). We aim at the middle of where that meets frame k's true
        interval: on constant-rate video, its start plus half a frame.
        """
        times = self._info.times
        nominal = 1.0 / self._info.fps
        start, end = float(times[index]), self.timeline.frame_end(index)
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

    # Segment and answer ticks

    def segment(self) -> tuple[float, float] | None:
        """The in frame's time to the end of the out frame, in seconds (a missing in is the first
        frame, a missing out the last); None when neither is set."""
        return self._marks.span(self.timeline) if self._info is not None else None

    def in_out_frames(self) -> tuple[int, int] | None:
        """(in, out) frames, both included; None when neither is set."""
        return self._marks.frames(self.timeline) if self._info is not None else None

    def set_in_frame(self, index: int | None) -> None:
        self._marks.set_in(None if index is None or self._info is None else self.timeline.clamp(index))
        self._publish_segment()

    def set_out_frame(self, index: int | None) -> None:
        self._marks.set_out(None if index is None or self._info is None else self.timeline.clamp(index))
        self._publish_segment()

    def set_in_point(self, seconds: float | None) -> None:
        """In at the frame on screen at `seconds`."""
        self.set_in_frame(None if seconds is None or self._info is None else self.timeline.frame_at(seconds))

    def set_out_point(self, seconds: float | None) -> None:
        """Out at the last frame before `seconds`, so that the segment ends there (`segment()` gives it back)."""
        self.set_out_frame(None if seconds is None or self._info is None else self.timeline.frame_ending_at(seconds))

    def clear_segment(self) -> None:
        self._marks.clear()
        self._publish_segment()

    def marks(self) -> tuple[int | None, int | None]:
        """The in and out frames as marked (either may be unset), to keep with the conversation."""
        return self._marks.in_frame, self._marks.out_frame

    def restore_marks(self, in_frame: int | None, out_frame: int | None) -> bool:
        """Marks kept with the conversation, unless the user marked meanwhile or they name no frame
        of this video; whether they were taken."""
        if self._info is None or self._marks.is_set():
            return False
        if any(index is not None and not 0 <= index <= self.timeline.last_frame for index in (in_frame, out_frame)):
            return False
        self._marks.set_in(in_frame)
        self._marks.set_out(out_frame)
        self._publish_segment()
        return True

    def _shown_marks(self) -> tuple[tuple[float, int] | None, tuple[float, int] | None]:
        """The in and out frames as the bar shows them: (own time, number), or None where unset."""
        timeline = self.timeline
        return tuple(  # type: ignore[return-value]
            None if index is None or timeline is None else (timeline.time_of(index), timeline.clamp(index))
            for index in (self._marks.in_frame, self._marks.out_frame)
        )

    def _on_bar_edit_given_up(self) -> None:
        self._in_out.give_up_edits(self._shown_marks())
        self.setFocus()

    def _publish_segment(self) -> None:
        self._in_out.show_marks(self._shown_marks())
        segment = self.segment()
        if segment != self._scrub.segment():
            self._scrub.set_segment(segment)
            self.sig_segment_changed.emit(segment)

    def _on_mark_typed(self, text: str, edit, set_frame) -> None:
        if self._info is None:
            return
        if not text.strip():
            set_frame(None)
        else:
            try:
                index = self.timeline.frame_from_text(text)
            except InvalidPosition as error:
                self._in_out.show_error(edit, str(error))
                return
            set_frame(index)
        self.setFocus()

    def _on_go_to_typed(self, text: str) -> None:
        if self._info is None:
            return
        try:
            index = self.timeline.frame_from_text(text)
        except InvalidPosition as error:
            self._in_out.show_error(self._in_out.go_to, str(error))
            return
        self._in_out.went_to()
        self.seek_to_frame(index)
        self.setFocus()

    def go_to(self) -> None:
        """Put the focus in the go-to field, its text selected, for a time or frame number."""
        self._in_out.start_go_to()

    # Loop

    def is_looping(self) -> bool:
        return self._looping

    def set_looping(self, looping: bool) -> None:
        """Loop the in/out segment (the whole video without one): past its out frame, playback starts again at its in."""
        self._looping = bool(looping)
        self._in_out.set_looping(self._looping)

    def toggle_loop(self) -> None:
        self.set_looping(not self._looping)

    def _loop_frames(self) -> tuple[int, int]:
        return self.in_out_frames() or (0, self._info.frame_count - 1)

    def _mark_in_here(self) -> None:
        self.set_in_frame(self.current_frame_index())

    def _mark_out_here(self) -> None:
        self.set_out_frame(self.current_frame_index())

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

    def commands(self) -> dict[str, Callable[[], None]]:
        """The handlers of the key table's player commands (`desktop/keys.py`), by name."""
        return {
            "play-pause": self.toggle_play,
            "pause": self.pause,
            "play-faster": self._on_key_faster,
            "slower-or-back": self._on_key_slower_or_back,
            "seek-back": lambda: self.seek(self.frame_time() - SEEK_STEP_S),
            "seek-forward": lambda: self.seek(self.frame_time() + SEEK_STEP_S),
            "frame-back": lambda: self.step_frames(-1),
            "frame-forward": lambda: self.step_frames(1),
            "first-frame": lambda: self.seek_to_frame(0),
            "last-frame": lambda: self.seek_to_frame(self._info.frame_count - 1),
            "mark-in": self._mark_in_here,
            "mark-out": self._mark_out_here,
            "clear-in-out": self.clear_segment,
            "speed-down": lambda: self._transport.change_speed(-1),
            "speed-up": lambda: self._transport.change_speed(1),
            "mute": self.toggle_mute,
            "loop": self.toggle_loop,
            "go-to": self.go_to,
        }

    def _install_shortcuts(self) -> None:
        for key, name in keys.BINDINGS:
            if name not in self.commands():
                continue
            shortcut = QShortcut(QKeySequence(key), self)
            # Keys with Ctrl cannot be typed into a text box, so they act window-wide.
            wide = keys.has_modifier(key)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut if wide else Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.setAutoRepeat(True)
            shortcut.activated.connect(lambda name=name: self.run_command(name))

    def run_command(self, name: str) -> bool:
        """Run a player command of the key table; True when it ran (a video is open and it is one)."""
        action = self.commands().get(name)
        if action is None or self._info is None:
            return False
        action()
        return True

    def handle_key(self, event: QKeyEvent) -> bool:
        """Act on a player key from anywhere in the window; True when it was one (and a video is open)."""
        blocking = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier
        if event.modifiers() & blocking:
            return False
        name = keys.commands_by_key_code(self.commands()).get(event.key())
        return name is not None and self.run_command(name)

    def _on_key_faster(self) -> None:
        if self.is_playing():
            self._transport.change_speed(1)
        else:
            self.play()

    def _on_key_slower_or_back(self) -> None:
        if self.is_playing() and self.speed() > 1.0:
            self._transport.change_speed(-1)
        else:
            self.pause()
            self.seek(self.frame_time() - BACK_STEP_S)
