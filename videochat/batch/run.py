"""Running a batch: every question of the plan about every clip, one model load; frames prepared once
per clip, each question asked on its own, each answer or unreadable clip a line of the results
file, synced as it comes. A killed or stopped batch loses at most the answer in progress, and a
finished one run again costs nothing, not even a model load (`plan.plan_batch` finds nothing to do).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from videochat.batch.plan import BatchPlan, check_batch_questions
from videochat.batch.results import ResultsFile, answered_pairs, clip_state, read_results
from videochat.errors import Cancelled, ReaderUnavailable, UnreadableVideo, VideoChatError

if TYPE_CHECKING:
    from videochat.backends.base import Backend
    from videochat.chat import Answer, VideoChat
    from videochat.generation import GenerationSettings

# What reading one clip can raise: that clip's failure, written down, while the batch goes on.
CLIP_ERRORS = (UnreadableVideo, ReaderUnavailable, OSError)


@dataclass(frozen=True)
class ClipStarted:
    clip: Path
    index: int  # from 1, among the clips this run has questions for
    total_clips: int


@dataclass(frozen=True)
class QuestionAnswered:
    clip: Path
    question: str
    answer_dict: dict  # the line written
    done: int  # pending pairs settled so far: answered, or dropped with a clip that could not be read
    total: int  # len(plan.pending)


@dataclass(frozen=True)
class ClipFailed:
    clip: Path
    message: str


@dataclass(frozen=True)
class ClipFinished:
    clip: Path


@dataclass
class BatchSummary:
    answered: int  # lines written by this run
    failed_clips: dict[str, str]  # clip → why it could not be read, in this run
    skipped_pairs: int  # pairs answered before, or of clips skipped as unreadable before
    stopped: bool
    out_path: Path


def run_batch(
    backend: Backend,
    plan: BatchPlan,
    settings: GenerationSettings,
    on_event: Callable[[object], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    reader: str = "auto",
) -> BatchSummary:
    """Ask the plan's pending questions with the loaded `backend`, writing each line to the results
    file the plan was made from, as it comes.

    Each question is asked on its own (no earlier turns) on frames decoded once per clip. A clip
    that cannot be read gets an error line and the batch goes on; any other error ends it and
    propagates. `should_stop` is read between questions and while an answer streams; the answer
    in progress is then dropped, to be asked again by the next run.
    """
    run = _Run(backend, plan, plan.out_path, settings, on_event or (lambda event: None), should_stop or (lambda: False), reader)
    check_batch_questions((question for _clip, question in plan.pending), backend.check_question)
    results = ResultsFile(run.summary.out_path)
    try:
        # Under the lock: what a batch that held the file before this one answered since the plan is not asked again.
        done = answered_pairs(read_results(plan.out_path), plan.model_name, plan.revision, plan.model_source, plan.frames)
        pending = [(clip, question) for clip, question in plan.pending if (str(clip), question) not in done]
        run.settled = len(plan.pending) - len(pending)
        by_clip: dict[Path, list[str]] = {}
        for clip, question in pending:
            by_clip.setdefault(clip, []).append(question)
        for index, (clip, questions) in enumerate(by_clip.items(), 1):
            if run.should_stop():
                run.summary.stopped = True
                break
            run.on_event(ClipStarted(clip, index, len(by_clip)))
            run.clip(clip, questions, results)
            if run.summary.stopped:
                break
    finally:
        results.close()
    return run.summary


class _Run:
    def __init__(self, backend, plan, out_path, settings, on_event, should_stop, reader):
        self.backend, self.plan, self.settings = backend, plan, settings
        self.on_event, self.should_stop, self.reader = on_event, should_stop, reader
        self.summary = BatchSummary(answered=0, failed_clips={}, skipped_pairs=plan.skipped_pairs, stopped=False, out_path=out_path)
        self.settled = 0

    def clip(self, clip: Path, questions: list[str], results: ResultsFile) -> None:
        from videochat.chat import VideoChat
        from videochat.video.source import VideoSource

        try:
            source = VideoSource.open(clip, reader=self.reader)
        except CLIP_ERRORS as error:
            self.fail(clip, error, len(questions), results)
            return
        with source:
            chat = VideoChat(source, self.backend)
            for number, question in enumerate(questions):
                if self.should_stop():
                    self.summary.stopped = True
                    return
                try:
                    answer = self.ask(chat, question)
                except CLIP_ERRORS as error:
                    self.fail(clip, error, len(questions) - number, results)
                    return
                if answer is None:
                    self.summary.stopped = True
                    return
                fields = answer.to_dict()
                fields.pop("id")  # a session's name for the turn; a results line is named by its clip and question
                record = {"clip": str(clip), "question": fields.pop("question"), "answer": fields.pop("answer"), "status": "ok"}
                record.update(fields, asked_frames=self.plan.frames, model_source=self.backend.ref.source)
                results.write(record)
                self.summary.answered += 1
                self.settled += 1
                self.on_event(QuestionAnswered(clip, question, record, self.settled, len(self.plan.pending)))
        self.on_event(ClipFinished(clip))

    def ask(self, chat: VideoChat, question: str) -> Answer | None:
        """The answer, or None when a stop came before it was complete."""

        def stop_if_asked(*_progress) -> None:
            if self.should_stop():
                chat.stop()

        try:
            for _piece in chat.ask(question, self.plan.frames, settings=self.settings, progress=stop_if_asked, follow_up=False):
                stop_if_asked()
        except Cancelled:
            return None
        answer = chat.answers[-1]
        return None if answer.stopped else answer

    def fail(self, clip: Path, error: Exception, unanswered: int, results: ResultsFile) -> None:
        message = str(error) if isinstance(error, VideoChatError) else f"{clip.name} cannot be read: {error.strerror or error}."
        size, mtime = clip_state(clip)
        results.write({"clip": str(clip), "status": "error", "error": message, "error_type": type(error).__name__, "clip_size": size, "clip_mtime": mtime})
        self.summary.failed_clips[str(clip)] = message
        self.settled += unanswered
        self.on_event(ClipFailed(clip, message))
