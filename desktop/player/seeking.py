"""Where to put Qt's player position for a given frame to be the one it shows.

Qt's FFmpeg backend gives every frame the video's average duration D, and a seek to p shows the
first frame whose start + D is after p: frame k shows for p in [start(k-1) + D, start(k) + D).
A seek aims at the middle of where that meets frame k's true interval (on constant-rate video,
its start plus half a frame), away from the edges where Qt shows a neighbour; so the frame on
screen is the one the core's `Timeline.frame_at` names, on variable-frame-rate video too.
Plain Python on a `Timeline`: no Qt here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from videochat.video.timeline import Timeline


def seek_target(timeline: Timeline, nominal: float, index: int) -> float:
    """The position, in seconds, that shows frame `index`; `nominal` is 1 / the average frame rate."""
    start, end = timeline.time_of(index), timeline.frame_end(index)
    shown_from = timeline.time_of(index - 1) + nominal if index > 0 else start
    low, high = max(shown_from, start), min(start + nominal, end)
    if low >= high:  # two very short frames in a row: Qt's window lies outside the true one
        low, high = shown_from, start + nominal
    return (low + high) / 2


def last_shown_frame(timeline: Timeline, nominal: float, end_ms: int) -> int:
    """The last frame whose seek target lies before the player's end (`end_ms`; 0 while unknown).

    Qt ends the media at the container's declared duration and shows no picture past it; with
    B-frames and a variable rate, muxers count that duration from decoding times, so it can end
    before the last frames' times. The probe and the sampler still read those frames.
    """
    last = timeline.last_frame
    if end_ms <= 0:  # not known yet: nothing to hold back
        return last
    while last > 0 and round(seek_target(timeline, nominal, last) * 1000) >= end_ms:
        last -= 1
    return last
