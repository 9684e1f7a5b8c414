"""Which frames each model family sees: the frame-index rules of the model cards.

Each rule is the card's arithmetic, written as our own vectorised code and checked against
a literal transcription in the tests. What the cards leave open is decided here:

- A segment (in/out points, seconds) is turned into frame indices by the video's timeline
  (`videochat/timeline.py`): the frames whose presentation times lie in [in, out), so that a
  segment made from in/out frames (the in frame's time to the end of the out frame) gives back
  exactly those frames and every sampled frame lies inside it (the InternVL2 card rounds
  `start * fps`, which can pick a frame before the in point). The card's rule is then applied to
  that range; for the whole clip this is exactly the card.
- A segment too short to hold a frame's time uses the frame on screen at its in point.
- Fewer frames in range than asked: InternVideo2 keeps its fixed count by repeating frames,
  as its card does; InternVL2 takes every frame once; InternVideo2.5 takes the largest
  multiple of 4 that fits, spread evenly (4 with repeats when fewer than 4 exist).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from videochat.video.timeline import Timeline
from videochat.video.info import VideoInfo

@dataclass(frozen=True)
class FrameSample:
    indices: np.ndarray  # int64, in the order the model sees them (ascending; repeats possible)
    times: np.ndarray  # float64 seconds: the true presentation time of each of those frames
    message: str | None  # InternVideo2's "The video contains N frames sampled at ..." text
    segment: tuple[float, float] | None

    def to_dict(self) -> dict:
        return {
            "indices": [int(i) for i in self.indices],
            "times": [round(float(t), 6) for t in self.times],
            "message": self.message,
            "segment": list(self.segment) if self.segment else None,
        }


# -- the cards' rules -------------------------------------------------------------------


def internvideo2_offsets(num_frames: int, num_segments: int) -> np.ndarray:
    """InternVideo2-Chat's `get_index`: segment midpoints measured on `num_frames - 1`."""
    seg_size = float(num_frames - 1) / num_segments
    start = int(seg_size / 2)
    return start + np.round(seg_size * np.arange(num_segments)).astype(np.int64)


def internvl_indices(start_idx: int, end_idx: int, num_segments: int) -> np.ndarray:
    """InternVL2's `get_index` once its bound is turned into [start_idx, end_idx]."""
    seg_size = float(end_idx - start_idx) / num_segments
    return (start_idx + seg_size / 2 + np.round(seg_size * np.arange(num_segments))).astype(np.int64)


def card_bound_to_range(bound: tuple[float, float] | None, fps: float, max_frame: int, first_idx: int = 0) -> tuple[int, int]:
    """How the InternVL2 card turns a (start, end) bound in seconds into frame indices."""
    start, end = bound if bound else (-100000, 100000)
    return max(first_idx, round(start * fps)), min(round(end * fps), max_frame)


def internvideo2_message(indices: np.ndarray, fps: float) -> str:
    """The card's message, character for character: index / average fps, rounded to 0.1 s.

    The card rounds numpy floats (`round(np.float64, 1)`), whose rounding differs from
    Python's on some halves; keeping numpy scalars here keeps the same text.
    """
    seconds = ", ".join(str(round(index / fps, 1)) for index in np.asarray(indices, dtype=np.int64))
    return f"The video contains {len(indices)} frames sampled at {seconds} seconds."


# -- scope ------------------------------------------------------------------------------


def frame_range(info: VideoInfo, segment: tuple[float, float] | None) -> tuple[int, int]:
    """First and last frame index (inclusive) of the whole clip or of an in/out segment."""
    if segment is None:
        return 0, info.frame_count - 1
    return Timeline.of(info).frames_in(*segment)


# -- per-family samplers ----------------------------------------------------------------


def sample_internvideo2(info: VideoInfo, num_frames: int, segment=None) -> FrameSample:
    first, last = frame_range(info, segment)
    indices = first + internvideo2_offsets(last - first + 1, num_frames)
    return FrameSample(indices, info.times[indices], internvideo2_message(indices, info.fps), segment)


def sample_internvl2(info: VideoInfo, num_frames: int, segment=None) -> FrameSample:
    first, last = frame_range(info, segment)
    return _internvl_sample(info, first, last, min(num_frames, last - first + 1), segment)


def sample_internvideo25(info: VideoInfo, num_frames: int, segment=None) -> FrameSample:
    first, last = frame_range(info, segment)
    available = last - first + 1
    if num_frames >= available:
        # HiCo compresses groups of 4 frames: fewer than 4 frames are repeated up to 4.
        num_frames = available - available % 4 if available >= 4 else 4
    return _internvl_sample(info, first, last, num_frames, segment)


def _internvl_sample(info: VideoInfo, first: int, last: int, count: int, segment) -> FrameSample:
    if count == last - first + 1:
        indices = np.arange(first, last + 1, dtype=np.int64)  # the card's rule would repeat some here
    else:
        indices = internvl_indices(first, last, count)
    return FrameSample(indices, info.times[indices], None, segment)
