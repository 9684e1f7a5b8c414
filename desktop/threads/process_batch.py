"""Tools ▸ Batch through the window's model process: one request per (clip, question), in order.

The same results file, lines and events as `videochat.batch.run.run_batch` (which needs the model
in this process): each answer or unreadable clip is a line, synced as it comes; what the file
already answers is not asked again; a stop drops the answer in progress (the next run asks it).
The process keeps each clip's frames between its questions (same file, same scope), so a clip is
still decoded once. Every question is checked against what the loaded model cannot take (the
process's `question_marks`) before the first request, as the in-process batch does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from desktop.threads.process_chat import ProcessChat
from videochat.backends.base import check_question_text
from videochat.batch.plan import check_batch_questions
from videochat.batch.results import ResultsFile, answered_pairs, clip_state, read_results
from videochat.batch.run import CLIP_ERRORS, BatchSummary, ClipFailed, ClipFinished, ClipStarted, QuestionAnswered
from videochat.errors import Cancelled, VideoChatError


def run_process_batch(process, ref, plan, settings, on_event: Callable[[object], None], should_stop: Callable[[], bool]) -> BatchSummary:
    marks = _question_marks(process)
    check_batch_questions((question for _clip, question in plan.pending), lambda question: check_question_text(question, marks, ref.display_name))
    summary = BatchSummary(answered=0, failed_clips={}, skipped_pairs=plan.skipped_pairs, stopped=False, out_path=plan.out_path)
    results = ResultsFile(plan.out_path)
    try:
        # Under the lock: what a batch that held the file before this one answered since the plan is not asked again.
        done = answered_pairs(read_results(plan.out_path), plan.model_name, plan.revision, plan.model_source, plan.frames)
        pending = [(clip, question) for clip, question in plan.pending if (str(clip), question) not in done]
        settled = len(plan.pending) - len(pending)
        by_clip: dict[Path, list[str]] = {}
        for clip, question in pending:
            by_clip.setdefault(clip, []).append(question)
        for index, (clip, questions) in enumerate(by_clip.items(), 1):
            if should_stop():
                summary.stopped = True
                break
            on_event(ClipStarted(clip, index, len(by_clip)))
            chat = ProcessChat(clip, ref.default_frames)
            for number, question in enumerate(questions):
                if should_stop():
                    summary.stopped = True
                    return summary
                try:
                    answer = _ask(process, chat, question, plan.frames, settings, should_stop)
                except CLIP_ERRORS as error:
                    message = str(error) if isinstance(error, VideoChatError) else f"{clip.name} cannot be read: {error.strerror or error}."
                    size, mtime = clip_state(clip)
                    results.write({"clip": str(clip), "status": "error", "error": message, "error_type": type(error).__name__, "clip_size": size, "clip_mtime": mtime})
                    summary.failed_clips[str(clip)] = message
                    settled += len(questions) - number
                    on_event(ClipFailed(clip, message))
                    break
                if answer is None:
                    summary.stopped = True
                    return summary
                fields = answer.to_dict()
                fields.pop("id")  # a session's name for the turn; a results line is named by its clip and question
                record = {"clip": str(clip), "question": fields.pop("question"), "answer": fields.pop("answer"), "status": "ok"}
                record.update(fields, asked_frames=plan.frames, model_source=ref.source)
                results.write(record)
                summary.answered += 1
                settled += 1
                on_event(QuestionAnswered(clip, question, record, settled, len(plan.pending)))
            else:
                on_event(ClipFinished(clip))
    finally:
        results.close()
    return summary


def _ask(process, chat: ProcessChat, question: str, frames, settings, should_stop):
    """The answer on its own (no earlier turns), or None when a stop came before it was complete."""
    chat.new_conversation()

    def on_piece(_piece: str) -> None:
        if should_stop():
            chat.stop()

    try:
        answer = chat.ask(process, question, frames, None, settings, on_frames=lambda _count: None, on_piece=on_piece)
    except Cancelled:
        return None
    return None if answer.stopped or should_stop() else answer


def _question_marks(process) -> tuple[str, ...]:
    """What the process's model cannot take in a question (`/v1/models`), as text marks only."""
    for model in process.client.models():
        marks = (model.videochat or {}).get("question_marks")
        if isinstance(marks, list):
            return tuple(mark for mark in marks if isinstance(mark, str) and mark)
    return ()
