"""A saved conversation that the next question continues: which saved turns, on which frames, and why not.

A video's session keeps every turn with the frames its model saw (indices and true times). The
next question, in the window or `videochat ask --continue`, goes on from the last conversation in
it (its last turn and the follow-ups before it, back to the question that started it) with those
turns as the model's history, on those very frames: prepared again from their indices and checked
against their times. Anything else starts a new conversation, with the reason said: another model,
another frame count or segment, a video whose frames are no longer at the saved times, saved frames
that cannot be this video's (a hand-edited or damaged file: out of range, unordered, too many).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from videochat.errors import InvalidFrameCount, SavedFramesChanged
from videochat.safe_text import one_line
from videochat.video.timecode import format_time

if TYPE_CHECKING:
    from videochat.families.family import Family
    from videochat.frames.sampling import FrameSample
    from videochat.models.resolve import ModelRef
    from videochat.video.info import VideoInfo

TIME_TOLERANCE = 0.0005  # saved times are rounded (to the microsecond; shown to the millisecond)
NEW = "A new conversation starts"


@dataclass(frozen=True)
class SavedConversation:
    """The last conversation of a session: its turns and the frames and scope they were about."""

    turns: tuple[tuple[str, str], ...]  # (question, answer), oldest first
    indices: tuple[int, ...]
    times: tuple[float, ...]
    model: str  # the name answers carry (a catalog model's label)
    revision: str | None
    family: str
    frames: int  # the frame count asked for (a short clip may give fewer)
    segment: tuple[float, float] | None

    def history(self) -> list[tuple[str, str]]:
        return [tuple(turn) for turn in self.turns]


def saved_conversation(turns: Sequence) -> SavedConversation | None:
    """The conversation the last saved turn (`videochat.chat.Answer`s, oldest first) belongs to (None
    without turns): that turn, and the follow-ups before it on the same frames and model, back to the
    one that began it."""
    if not turns:
        return None
    last = turns[-1]
    run = [last]
    for turn in reversed(turns[:-1]):
        if not run[0].follow_up or (turn.indices, turn.model, turn.revision, turn.frames, turn.segment) != (
            last.indices, last.model, last.revision, last.frames, last.segment
        ):
            break
        run.insert(0, turn)
    return SavedConversation(
        turns=tuple((turn.question, turn.text) for turn in run),
        indices=tuple(last.indices),
        times=tuple(last.times),
        model=last.model,
        revision=last.revision,
        family=last.family,
        frames=last.frames,
        segment=tuple(last.segment) if last.segment else None,
    )


def scope_change(saved: SavedConversation, ref: ModelRef, frames: int | None, segment) -> str | None:
    """Why the next question (this model, frame count — None: the model's default — and segment)
    cannot continue `saved`; None when it can."""
    if not same_model(saved, ref):
        return f"{NEW}: the saved conversation was with {one_line(saved.model) or 'another model'}, and {ref.shown_name} is loaded now."
    frames = ref.default_frames if frames is None else frames
    if frames != saved.frames:
        return f"{NEW}: the saved conversation was about {saved.frames} frames, and this question asks for {frames}."
    if not _same_segment(saved.segment, segment):
        return f"{NEW}: the saved conversation was about {_scope_text(saved.segment)}, and this question is about {_scope_text(segment)}."
    return None


def same_model(saved: SavedConversation, ref: ModelRef) -> bool:
    """The saved turns' model is this one: the catalog model or folder by name, at the same revision where both say."""
    from videochat.models.catalog import find_entry

    if saved.family and saved.family != ref.family:
        return False
    if saved.revision and ref.revision and saved.revision != ref.revision:
        return False
    if ref.entry is not None:
        entry = find_entry(saved.model)
        return entry is not None and entry.repo_id == ref.entry.repo_id
    return saved.model == ref.display_name


def frames_changed(indices: Sequence[int], times: Sequence[float] | None, info: VideoInfo, family: Family | None = None) -> str | None:
    """Why the saved frames are not this video's frames as they were (None: they are): each index must
    be a frame of the clip, in order, at its saved time (unless `times` is None); their count one the
    family takes."""
    count = len(indices)
    if count == 0 or (times is not None and count != len(times)):
        return "its frames were not saved with their times"
    if family is not None:
        try:
            family.check_frame_count(count)
        except InvalidFrameCount as error:
            return f"its {count} saved frames are not a count this model takes ({error})"
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in indices) or not all(
        isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t) for t in times or ()
    ):
        return "its saved frames are not frame numbers with times"
    if min(indices) < 0 or max(indices) >= info.frame_count or any(b < a for a, b in zip(indices, indices[1:])):
        return f"its saved frames are not frames of this video in order (it has {info.frame_count} frames)"
    if times is None:
        return None
    now = np.asarray(info.times, dtype=np.float64)[np.asarray(indices, dtype=np.int64)]
    for index, saved, actual in zip(indices, times, now):
        if not abs(float(actual) - float(saved)) <= TIME_TOLERANCE:
            return f"the video changed since it was saved: frame {index} was at {format_time(saved)}, and is at {format_time(float(actual))} now"
    return None


def chosen_sample(family: Family, info: VideoInfo, indices: Sequence[int], expected_times: Sequence[float] | None = None, segment=None) -> FrameSample:
    """A saved conversation's frames as a sample of this video: `SavedFramesChanged` (with the reason)
    when they cannot be, or are no longer at `expected_times` (when given)."""
    from videochat.frames import sampling

    reason = frames_changed(list(indices), None if expected_times is None else list(expected_times), info, family)
    if reason is not None:
        raise SavedFramesChanged(f"The saved conversation cannot go on: {reason}. Ask again to start a new one.", reason)
    chosen = np.asarray(indices, dtype=np.int64)
    message = sampling.internvideo2_message(chosen, info.fps) if family.sample is sampling.sample_internvideo2 else None
    return sampling.FrameSample(chosen, np.asarray(info.times, dtype=np.float64)[chosen], message, tuple(segment) if segment else None)


def _same_segment(a, b) -> bool:
    if not a or not b:
        return not a and not b
    return all(abs(float(x) - float(y)) <= TIME_TOLERANCE for x, y in zip(a, b))


def _scope_text(segment) -> str:
    return "the whole clip" if not segment else f"{format_time(segment[0])}–{format_time(segment[1])}"
