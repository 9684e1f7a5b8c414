"""A batch's plan: what the results file still lacks for this model and frame count (`plan_batch`),
so that a batch run again asks only what is missing, and a clip that failed for a lasting reason
is skipped until it changes; and the check of every question before the first is asked
(`check_batch_questions`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from videochat.batch.inputs import absolute
from videochat.batch.results import answered_pairs, check_not_busy, clip_state, read_result_lines
from videochat.errors import InvalidQuestion
from videochat.safe_text import one_line

# Failures that stay while the file stays the same: such a clip is not tried again until it changes.
# Others (a time limit, a file not allowed or not there yet) are tried again by the next run.
LASTING_ERRORS = frozenset({"UnreadableVideo", "CorruptVideo", "NoVideoStream", "NoFrames", "UnsupportedCodec"})


@dataclass
class BatchPlan:
    clips: list[Path]
    questions: list[str]
    out_path: Path
    model_name: str
    frames: int | None  # as asked; None is the model's default
    revision: str | None  # with model_source: which model answered, beyond its name
    pending: list[tuple[Path, str]]  # (clip, question) still to answer, clip by clip
    failed_clips: dict[str, str]  # clip → why it could not be read last time; skipped while unchanged
    answered: int  # pairs of this batch already in the results file
    model_source: str | None = None
    skipped_lines: int = 0  # lines of the results file left out as not results (what they held is done again)

    @property
    def skipped_pairs(self) -> int:
        return len(self.clips) * len(self.questions) - len(self.pending)

    def is_for(self, ref) -> bool:
        """Whether the model `ref` (a `ModelRef`) is the one this plan was made for (repo id or folder, and revision)."""
        from videochat.models.resolve import model_key

        return ref.key == model_key(self.model_source or self.model_name, self.revision)

    def pending_by_clip(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for clip, _question in self.pending:
            counts[str(clip)] = counts.get(str(clip), 0) + 1
        return counts


def plan_batch(
    clips: Iterable[str | os.PathLike],
    questions: Iterable[str],
    out_path: str | os.PathLike,
    model_name: str,
    frames: int | None = None,
    revision: str | None = None,
    model_source: str | None = None,
) -> BatchPlan:
    """What is left to do: the pairs with no answer yet from this model (name, revision, folder or
    repo) and frame count.

    A clip that could not be read for a lasting reason is skipped until its size or modification
    time changes.
    """
    clips = list(dict.fromkeys(absolute(clip) for clip in clips))
    questions = list(dict.fromkeys(question.strip() for question in questions))
    out_path = absolute(out_path)
    check_not_busy(out_path)
    records, skipped_lines = read_result_lines(out_path)
    done = answered_pairs(records, model_name, revision, model_source, frames)
    unreadable: dict[str, list[dict]] = {}
    for record in records:
        if record["status"] == "error" and record.get("error_type") in LASTING_ERRORS:
            unreadable.setdefault(record["clip"], []).append(record)
    failed_clips = {}
    for clip in clips:
        state = clip_state(clip)
        for record in unreadable.get(str(clip), ()):
            if (record.get("clip_size"), record.get("clip_mtime")) == state:
                failed_clips[str(clip)] = one_line(record.get("error") or "unreadable")  # from the results file: outside text
    pairs = [(clip, question) for clip in clips for question in questions]
    return BatchPlan(
        clips=clips,
        questions=questions,
        out_path=out_path,
        model_name=model_name,
        frames=frames,
        revision=revision,
        pending=[(clip, q) for clip, q in pairs if str(clip) not in failed_clips and (str(clip), q) not in done],
        failed_clips=failed_clips,
        answered=sum((str(clip), q) in done for clip, q in pairs),
        model_source=model_source,
        skipped_lines=skipped_lines,
    )


def check_batch_questions(questions: Iterable[str], check: Callable[[str], object]) -> None:
    """Every question through `check` (a backend's or an engine's `check_question`) before any work,
    so that a question the model cannot take fails the batch at once, not when its turn comes after
    hours of answers: an `InvalidQuestion` that names the first refused."""
    for question in dict.fromkeys(questions):
        try:
            check(question)
        except InvalidQuestion as refusal:
            shown = question if len(question) <= 80 else question[:79] + "…"
            raise InvalidQuestion(f"The batch was not started: the question \"{shown}\" cannot be asked. {refusal}") from refusal
