"""The player's in and out frames, the go-to field and the loop.

In and out are frames (the core's `InOut`); `segment()` is their span, and
`set_in_point`/`set_out_point` take such a span's ends back to the same frames. The row under
the transport (`desktop/player/in_out_bar.py`) shows them, takes typed ones, goes to a typed
position and loops; typed text is read by the core's `Timeline.frame_from_text`.
"""

from __future__ import annotations

from videochat.errors import InvalidPosition


class SegmentMarks:
    """The `PlayerPane`'s marks, a part of it: it uses the pane's timeline, in/out bar and scrub bar."""

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
        return self.in_out_frames() or (0, self.timeline.last_frame)

    def _mark_in_here(self) -> None:
        self.set_in_frame(self.current_frame_index())

    def _mark_out_here(self) -> None:
        self.set_out_frame(self.current_frame_index())

