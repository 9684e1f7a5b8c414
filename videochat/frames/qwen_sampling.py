"""Qwen2.5-VL's and Qwen3-VL's frame rule (qwen-vl-utils' `smart_nframes`, their processors' `fps` rule), on true times.

The card samples 2 frames a second of the clip (or segment), at least 4 and at most the frame count
asked for, in a multiple of 2 (the vision tower reads frames two at a time), spread evenly over it.
What it leaves to the video reader is decided here:

- The clip's length is its true span (first frame's time to the last frame's end, from the timestamp
  table), not frame count / average rate: on a variable-frame-rate file those differ.
- On a constant-rate file the frames are the card's: `linspace(first, last, n)` rounded. On a
  variable-rate file, the frames on screen nearest to `n` times spread evenly over the span, so that
  the frames are 1/2 s apart in real time, as the model was trained to read them.
- A segment with a single frame gives it twice (the smallest video the tower takes).
"""

from __future__ import annotations

import numpy as np

from videochat.frames.sampling import FrameSample, frame_range
from videochat.video.info import VideoInfo
from videochat.video.timeline import Timeline

FPS = 2.0  # qwen-vl-utils FPS; the processors' `fps`
MIN_FRAMES = 4  # FPS_MIN_FRAMES
MAX_FRAMES = 768  # FPS_MAX_FRAMES
FRAME_FACTOR = 2  # the vision tower's temporal patch


def frame_count(span_s: float, available: int, max_frames: int) -> int:
    """qwen-vl-utils' smart_nframes for a span of `span_s` seconds holding `available` frames."""
    ceiling = (min(max_frames, available) // FRAME_FACTOR) * FRAME_FACTOR
    count = min(max(span_s * FPS, MIN_FRAMES), ceiling)
    return max(int(count // FRAME_FACTOR) * FRAME_FACTOR, FRAME_FACTOR)


def sample_qwen(info: VideoInfo, num_frames: int, segment=None) -> FrameSample:
    """At most `num_frames` frames, 2 a second of the clip or segment, as Qwen2.5-VL's and Qwen3-VL's cards sample."""
    first, last = frame_range(info, segment)
    start, end = Timeline.of(info).span(first, last)
    available = last - first + 1
    count = frame_count(end - start, available, num_frames)
    if available == 1:
        indices = np.full(count, first, dtype=np.int64)
    elif not info.variable_frame_rate:
        indices = first + np.round(np.linspace(0, available - 1, count)).astype(np.int64)
    else:
        indices = nearest_frames(info.times[first : last + 1], np.linspace(info.times[first], info.times[last], count)) + first
    return FrameSample(indices, info.times[indices], None, segment)


def nearest_frames(times: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """For each wanted time, the index in `times` (ascending) of the nearest one (the earlier on a tie)."""
    after = np.clip(np.searchsorted(times, wanted), 1, len(times) - 1)
    before = after - 1
    take_after = (times[after] - wanted) < (wanted - times[before])
    return np.where(take_after, after, before).astype(np.int64)
