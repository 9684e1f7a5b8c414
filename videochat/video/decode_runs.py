"""Decode runs: the wanted frames grouped by the keyframe interval that holds them, one seek per group.

Seeking separately for every wanted frame re-decodes the same group again and again, and
decoding the whole clip decodes groups nobody asked for; a run starts at the keyframe that
opens the group of its first frame and decodes forward through every wanted frame of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from videochat.video.info import TimestampTable

# Run on into the next group instead of seeking when this few frames lie between: a seek
# flushes the decoder's frame threads, which costs about as much as decoding a few frames.
MERGE_GAP_FRAMES = 4


@dataclass(frozen=True)
class DecodeRun:
    keyframe: int  # presentation index of the keyframe the run seeks to
    indices: tuple[int, ...]  # wanted frames, ascending


def plan_runs(indices: Sequence[int], table: TimestampTable, merge_gap: int = MERGE_GAP_FRAMES) -> list[DecodeRun]:
    """Group ascending, unique frame indices into decode runs, each started by one seek."""
    runs: list[DecodeRun] = []
    current: list[int] = []
    current_keyframe = -1
    for index in indices:
        keyframe = table.keyframe_before(index)
        if current and keyframe != current_keyframe and keyframe - current[-1] > merge_gap:
            runs.append(DecodeRun(current_keyframe, tuple(current)))
            current = []
        if not current:
            current_keyframe = keyframe
        current.append(index)
    if current:
        runs.append(DecodeRun(current_keyframe, tuple(current)))
    return runs


def frames_decoded(runs: Sequence[DecodeRun]) -> int:
    """How many frames the plan decodes (an upper bound for open GOPs), for time limits and benchmarks."""
    return sum(run.indices[-1] - run.keyframe + 1 for run in runs)
