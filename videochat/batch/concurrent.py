"""`videochat batch --engine`: the same batch, with N questions in flight on an engine.

A GPU server answers many requests at once (vLLM batches them continuously), so one question at
a time would leave it idle. Here N workers take the plan's pairs in order; each clip is sampled,
decoded and encoded once, on one thread of its own that keeps `PREPARED_AHEAD` clips ready ahead of
the workers (so that decoding overlaps the engine's answers instead of stalling every worker on
each new clip), and its frames are dropped when its last question is answered. Results go to the same JSON Lines file
through `run.py`'s writer, each line on disk as soon as its answer is complete, so resuming is
exactly as for a local batch: what is in the file is not asked again. A stop closes every stream
in flight; answers cut short are not written and are asked again by the next run.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from videochat.batch.plan import BatchPlan, check_batch_questions
from videochat.batch.results import ResultsFile, answered_pairs, clip_state, read_results
from videochat.batch.run import CLIP_ERRORS, BatchSummary, ClipFailed, ClipFinished, ClipStarted, QuestionAnswered
from videochat.errors import Cancelled, VideoChatError

DEFAULT_CONCURRENCY = 4
PREPARED_AHEAD = 2  # clips encoded ahead of the one being asked about: a few MB of JPEG each


@dataclass
class _Clip:
    path: Path
    number: int
    questions: int
    ready: object = None  # a Future of its SentVideo (None: the clip could not be read)
    frame_count: int = 0
    failed: bool = False
    remaining: int = 0


def run_engine_batch(
    engine,
    plan: BatchPlan,
    settings,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_event: Callable[[object], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    reader: str = "auto",
) -> BatchSummary:
    """Ask the plan's pending questions of `engine` (an `EngineModel`), `concurrency` at a time."""
    check_batch_questions((question for _clip, question in plan.pending), engine.check_question)
    batch = _EngineBatch(engine, plan, settings, on_event or (lambda event: None), should_stop or (lambda: False), reader)
    results = ResultsFile(plan.out_path)
    try:
        batch.run(results, max(1, concurrency))
    finally:
        results.close()
    return batch.summary


class _EngineBatch:
    def __init__(self, engine, plan, settings, on_event, should_stop, reader):
        self.engine, self.plan, self.settings, self.reader = engine, plan, settings, reader
        self._on_event, self.should_stop = on_event, should_stop
        self.summary = BatchSummary(answered=0, failed_clips={}, skipped_pairs=plan.skipped_pairs, stopped=False, out_path=plan.out_path)
        self.frames = plan.frames if plan.frames is not None else engine.default_frames
        self.stopping = threading.Event()
        self._lock = threading.Lock()  # the results file, the counters and the events, one writer at a time
        self.settled = 0
        self.error: BaseException | None = None

    def emit(self, event) -> None:
        self._on_event(event)

    def run(self, results: ResultsFile, concurrency: int) -> None:
        # Under the lock: what a batch that held the file before this one answered since the plan is not asked again.
        done = answered_pairs(read_results(self.plan.out_path), self.plan.model_name, self.plan.revision, self.plan.model_source, self.plan.frames)
        pending = [(clip, question) for clip, question in self.plan.pending if (str(clip), question) not in done]
        self.settled = len(self.plan.pending) - len(pending)
        clips: dict[Path, _Clip] = {}
        for clip, _question in pending:
            clips.setdefault(clip, _Clip(clip, len(clips) + 1, 0)).questions += 1
        for work in clips.values():
            work.remaining = work.questions
        self.total_clips = len(clips)
        self.clips = list(clips.values())
        self.preparer = ThreadPoolExecutor(1, thread_name_prefix="videochat-batch-frames")
        # One writer: each line is synced before the next, while the workers go on to their next question.
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="videochat-batch-results")
        self._submitted = 0
        pool = ThreadPoolExecutor(concurrency, thread_name_prefix="videochat-batch")
        try:
            futures = {pool.submit(self.pair, clips[clip], question, results) for clip, question in pending}
            while futures:
                finished, futures = wait(futures, timeout=0.1, return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()  # the workers keep their errors in self.error
                if not self.stopping.is_set() and self.should_stop():
                    self.summary.stopped = True
                    self._stop()
        except BaseException:  # a second Ctrl-C: close the streams, leave at once
            self._stop()
            pool.shutdown(wait=False, cancel_futures=True)
            self.preparer.shutdown(wait=False, cancel_futures=True)
            self.writer.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        self.preparer.shutdown()
        self.writer.shutdown()
        if self.error is not None:
            raise self.error

    def _stop(self) -> None:
        self.stopping.set()
        self.engine.client.stop()

    def pair(self, work: _Clip, question: str, results: ResultsFile) -> None:
        from videochat.engines.remote import ask_engine, make_answer

        if self.stopping.is_set():
            return
        try:
            video = self._prepared(work, results).result()
            if video is None:
                return
            asked_at = time.time()
            video, text, end = ask_engine(self.engine, video, [], question, self.settings, work.frame_count)
            if end.stopped or self.stopping.is_set():
                return  # cut short: asked again by the next run
            answer = make_answer(self.engine, video, question, text, end, self.settings, asked_at, False, False)
        except Cancelled:
            return
        except BaseException as error:  # the engine failed: the batch ends, saying why
            with self._lock:
                if self.error is None and not self.stopping.is_set():
                    self.error = error
            self._stop()
            return
        fields = answer.to_dict()
        fields.pop("id")
        record = {"clip": str(work.path), "question": fields.pop("question"), "answer": fields.pop("answer"), "status": "ok"}
        record.update(fields, asked_frames=self.plan.frames, model_source=self.plan.model_source)
        self.writer.submit(self._written, self._write_answer, work, question, record, results)

    def _written(self, write, *args) -> None:
        try:
            write(*args)
        except BaseException as error:  # the results file cannot be written: the batch ends, saying why
            with self._lock:
                if self.error is None:
                    self.error = error
            self._stop()

    def _write_answer(self, work: _Clip, question: str, record: dict, results: ResultsFile) -> None:
        results.write(record)
        with self._lock:
            self.summary.answered += 1
            self.settled += 1
            self.emit(QuestionAnswered(work.path, question, record, self.settled, len(self.plan.pending)))
            work.remaining -= 1
            if work.remaining == 0:
                work.ready = None  # its frames are no longer needed
                self.emit(ClipFinished(work.path))

    def _prepared(self, work: _Clip, results: ResultsFile):
        """The Future of the clip's frames; this clip's and the next `PREPARED_AHEAD` clips' are submitted in order."""
        with self._lock:
            while self._submitted < min(len(self.clips), work.number + PREPARED_AHEAD):
                clip = self.clips[self._submitted]
                clip.ready = self.preparer.submit(self._video, clip, results)
                self._submitted += 1
            return work.ready

    def _video(self, work: _Clip, results: ResultsFile):
        """The clip's frames, sampled, decoded and encoded once; None when the clip cannot be read."""
        from videochat.engines.remote import send_video
        from videochat.video.source import VideoSource

        if self.stopping.is_set():
            raise Cancelled("Stopped before this clip was read.")
        with self._lock:
            self.emit(ClipStarted(work.path, work.number, self.total_clips))
        try:
            with VideoSource.open(work.path, reader=self.reader) as source:
                work.frame_count = source.info.frame_count
                video = send_video(self.engine, source, self.frames, None, self.stopping.is_set)
                if video.indices is None:  # handed as a file: our server samples, and may refuse it; send the frames
                    video = video.fallback()
                return video
        except CLIP_ERRORS as error:
            self.writer.submit(self._written, self._fail, work, error, results)
            return None

    def _fail(self, work: _Clip, error: Exception, results: ResultsFile) -> None:
        message = str(error) if isinstance(error, VideoChatError) else f"{work.path.name} cannot be read: {error.strerror or error}."
        size, mtime = clip_state(work.path)
        results.write({"clip": str(work.path), "status": "error", "error": message, "error_type": type(error).__name__, "clip_size": size, "clip_mtime": mtime})
        with self._lock:
            self.summary.failed_clips[str(work.path)] = message
            self.settled += work.remaining
            self.emit(ClipFailed(work.path, message))
