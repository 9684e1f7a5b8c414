"""One frame, one time: a video's timeline, read from the timestamp table its probe built.

The player, the sampler's segments and the notes all go through this module, so that a frame
has the same time everywhere, on variable-frame-rate video too:

- A frame's time is its presentation time (the container's, counted from the start of the
  file); it is shown with its number.
- A frame lasts until the next frame's time; the last frame until the end of the video (the
  first frame's time plus the duration).
- The frame at a time is the one on screen then: the last frame whose time is at or before it.
- In and out are frames, both included. A span (a segment, a note, a caption) runs from its
  first frame's time to the end of its last frame, which is the time of the frame after it.
- A span in seconds holds the frames whose times lie in [start, end). One too short to hold a
  frame's time takes the frame on screen at its start.

Times written to the millisecond (notes, exports, typed times, the player's position) are read
with half a millisecond's tolerance, so that a frame's time, rounded, still names that frame.

Plain Python on purpose (bisect on the table, no numpy, no dataclasses): the player imports it
while the window starts.
"""

from __future__ import annotations

import bisect
import math

from videochat.errors import InvalidPosition, InvalidSegment
from videochat.video.timecode import format_time, parse_time

# A time rounded to the millisecond is at most this far from the time it was rounded from.
TOLERANCE_S = 5e-4
POSITION_HINT = "Type a time (1:02.5 or 62.5 seconds) or a frame number (#38, or 38)."


class Timeline:
    """A video's frame times and end; every frame index it returns is a valid one."""

    __slots__ = ("times", "end")

    def __init__(self, times, end: float):
        if len(times) == 0:
            raise ValueError("a timeline needs at least one frame")
        self.times = times  # ascending seconds, one per frame (a numpy array or a list)
        self.end = float(end)

    @classmethod
    def of(cls, info) -> Timeline:
        """The timeline of a probed `VideoInfo`."""
        return cls(info.times, float(info.times[0]) + float(info.duration))

    @property
    def frame_count(self) -> int:
        return len(self.times)

    @property
    def start(self) -> float:
        return float(self.times[0])

    @property
    def last_frame(self) -> int:
        return len(self.times) - 1

    def clamp(self, index: int) -> int:
        return min(max(int(index), 0), self.last_frame)

    def time_of(self, index: int) -> float:
        """Frame `index`'s presentation time."""
        return float(self.times[self.clamp(index)])

    def frame_end(self, index: int) -> float:
        """When frame `index` stops being shown: the next frame's time, or the end of the video."""
        index = self.clamp(index)
        return float(self.times[index + 1]) if index < self.last_frame else self.end

    def frame_at(self, seconds: float) -> int:
        """The frame on screen at `seconds` (before the first frame: the first; after the end: the last)."""
        return self.clamp(bisect.bisect_right(self.times, float(seconds) + TOLERANCE_S) - 1)

    def span(self, first: int, last: int) -> tuple[float, float]:
        """Seconds from frame `first`'s time to the end of frame `last` (both included)."""
        return self.time_of(first), self.frame_end(last)

    def clamp_time(self, seconds: float) -> float:
        """`seconds` within the video: from the first frame's time to the end."""
        return min(max(float(seconds), self.start), self.end)

    def segment(self, start: float | None = None, end: float | None = None) -> tuple[float, float]:
        """The span in seconds of a segment given by its in point, its out point or both (a missing
        in point is the start of the video, a missing out point its end).

        Raises `InvalidSegment` naming the points given, so that `--start 50` alone on a 10 s clip
        says that it starts after the end, not that "50–10 s" is empty.
        """
        if start is not None and end is not None:
            _check_order(float(start), float(end))
        if start is not None:
            self._check_in_point(float(start))
        if end is not None:
            self._check_out_point(float(end))
        return (self.start if start is None else float(start)), (self.end if end is None else float(end))

    def frames_in(self, start: float, end: float) -> tuple[int, int]:
        """First and last frame (both included) of the span [start, end) in seconds.

        Raises `InvalidSegment` for an empty span, or one that lies outside the video.
        """
        start, end = float(start), float(end)
        _check_order(start, end)
        self._check_in_point(start)
        self._check_out_point(end)
        first = bisect.bisect_left(self.times, start - TOLERANCE_S)
        last = self.frame_ending_at(end)
        if first > last:  # no frame's time inside: the frame on screen at the start
            first = last = self.frame_at(start)
        return self.clamp(first), last

    def frame_from_text(self, text: str) -> int:
        """The frame a typed position names: a frame number ("38" or "#38"), or a time ("1:02.5",
        "62.5", as the player shows times), which names the frame on screen then.

        Raises `InvalidPosition` with what to type instead.
        """
        text = text.strip()
        number = text[1:].strip() if text.startswith("#") else text
        if number.isascii() and number.isdigit():  # isdigit alone takes other scripts' digits too
            index = int(number)
            if index > self.last_frame:
                raise InvalidPosition(f"Frame {index} is past the last frame: the frames are numbered 0 to {self.last_frame}.")
            return index
        try:
            seconds = parse_time(text)
        except ValueError:
            raise InvalidPosition(POSITION_HINT) from None
        if seconds >= self.end:
            raise InvalidPosition(f"{format_time(seconds)} is past the end of the video ({format_time(self.end)}).")
        return self.frame_at(seconds)

    def frame_ending_at(self, seconds: float) -> int:
        """The last frame of a span that ends at `seconds`: the last frame whose time is before it."""
        return self.clamp(bisect.bisect_left(self.times, float(seconds) - TOLERANCE_S) - 1)

    def _check_in_point(self, start: float) -> None:
        if not math.isfinite(start):
            raise InvalidSegment(f"The segment's in point ({start}) is not a time: give it in seconds.")
        if abs(start - self.end) <= TOLERANCE_S:
            raise InvalidSegment(
                f"The segment starts at the end of the clip ({seconds_text(self.end)} s), where no frame is left: "
                f"set its in point before {seconds_text(self.end)} s."
            )
        if start > self.end:
            raise InvalidSegment(
                f"The segment starts after the end of the clip ({seconds_text(self.end)} s): its in point is "
                f"{seconds_text(start)} s; set it before {seconds_text(self.end)} s."
            )

    def _check_out_point(self, end: float) -> None:
        if not math.isfinite(end):
            raise InvalidSegment(f"The segment's out point ({end}) is not a time: give it in seconds.")
        if abs(end - self.start) <= TOLERANCE_S:
            raise InvalidSegment(f"The segment ends at the very start of the clip ({seconds_text(self.start)} s): set its out point after it.")
        if end < self.start:
            raise InvalidSegment(
                f"The segment ends at {seconds_text(end)} s, before the clip begins ({seconds_text(self.start)} s): "
                f"set its out point after {seconds_text(self.start)} s."
            )


def _check_order(start: float, end: float) -> None:
    """An out point after the in point (both given)."""
    if not (math.isfinite(start) and math.isfinite(end)):
        raise InvalidSegment(f"The segment {start}–{end} s is not a span of time: give its in and out points in seconds.")
    if end < start:
        raise InvalidSegment(
            f"The segment's out point ({seconds_text(end)} s) comes before its in point ({seconds_text(start)} s): "
            "set the out point after the in point."
        )
    if end == start:
        raise InvalidSegment(f"The segment's in and out points are both at {seconds_text(start)} s: set the out point after the in point.")


def seconds_text(seconds: float) -> str:
    """Seconds as a message gives them: to the millisecond, without trailing zeros (10.0, 2.5, 1.234)."""
    text = f"{seconds:.3f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


class InOut:
    """The in and out frames of a segment being marked; either may be unset.

    As in editors, the mark just made wins: an in after the out drops the out, and an out before
    the in drops the in. A missing in is the first frame, a missing out the last.
    """

    __slots__ = ("in_frame", "out_frame")

    def __init__(self, in_frame: int | None = None, out_frame: int | None = None):
        self.in_frame = in_frame
        self.out_frame = out_frame

    def is_set(self) -> bool:
        return self.in_frame is not None or self.out_frame is not None

    def set_in(self, index: int | None) -> None:
        self.in_frame = index
        if index is not None and self.out_frame is not None and self.out_frame < index:
            self.out_frame = None

    def set_out(self, index: int | None) -> None:
        self.out_frame = index
        if index is not None and self.in_frame is not None and self.in_frame > index:
            self.in_frame = None

    def clear(self) -> None:
        self.in_frame = self.out_frame = None

    def frames(self, timeline: Timeline) -> tuple[int, int] | None:
        """(first, last) frame of the segment, both included; None when neither mark is set."""
        if not self.is_set():
            return None
        first = 0 if self.in_frame is None else timeline.clamp(self.in_frame)
        last = timeline.last_frame if self.out_frame is None else timeline.clamp(self.out_frame)
        return first, last

    def span(self, timeline: Timeline) -> tuple[float, float] | None:
        """The segment in seconds (the in frame's time to the end of the out frame); None when unset."""
        frames = self.frames(timeline)
        return timeline.span(*frames) if frames is not None else None
