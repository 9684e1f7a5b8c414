"""`videochat serve`: the model, loaded and asked on one thread, one request at a time.

The thread loads the model first (its progress is what `/health` shows), then takes jobs in the
order they came; a second request waits its turn. Each job prepares its video's frames (or reuses
them: same video, same scope), finds the conversation its history extends (or starts one, seeded
with that history), and streams the answer's pieces to the request's queue. A request that goes
away cancels its job: generation stops within one token (the backend's stop criterion).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import OrderedDict
from typing import Any, Callable

import numpy as np

from videochat.backends.base import Conversation, Turn
from videochat.engines.server_requests import ChatRequest, RequestError, check_unchanged
from videochat.errors import Cancelled, VideoChatError
from videochat.frames import sampling
from videochat.families import get_family
from videochat.frames.sampling import FrameSample

log = logging.getLogger("videochat.serve")

KEPT_VIDEOS = 4  # prepared frames kept for reuse (CPU tensors)
KEPT_CONVERSATIONS = 8  # conversations kept (the remote-code ones hold their frames on the device)


class Job:
    """One request's work; its events reach the request's event loop through `events`."""

    def __init__(self, request: ChatRequest, loop: asyncio.AbstractEventLoop, on_end: Callable[[], None] | None = None):
        self.request = request
        self.events: asyncio.Queue = asyncio.Queue()
        self._loop = loop
        self._on_end = on_end
        self.cancelled = threading.Event()
        self.stopped_after: int | None = None  # characters answered when the client went away

    def emit(self, kind: str, value: Any) -> None:
        self._loop.call_soon_threadsafe(self.events.put_nowait, (kind, value))

    def end(self) -> None:
        """The model thread is done with it (answered, failed or dropped): the frames the client sent are
        let go now, not when the response that still holds the job is gone, and `on_end` is told once."""
        self.request.video.frames = None
        on_end, self._on_end = self._on_end, None
        if on_end is not None:
            on_end()


class ModelRunner:
    def __init__(self, ref, load):
        """`load(progress)` returns the loaded backend (the CLI's consent check and `load_backend`)."""
        self.ref = ref
        self._load = load
        self.backend = None
        self.loading: dict | None = {"stage": "Waiting to load", "fraction": 0.0}
        self.load_error: BaseException | None = None
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._lock = threading.Lock()
        self._current: Job | None = None
        self._prepared: OrderedDict = OrderedDict()  # (video key, scope) -> PreparedVideo
        self._conversations: OrderedDict = OrderedDict()  # id -> (video key, scope, Conversation)
        self._thread = threading.Thread(target=self._run, name="videochat-model", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, job: Job) -> None:
        self._jobs.put(job)

    def cancel(self, job: Job) -> None:
        """From the event loop: the request went away; its generation stops within one token."""
        job.cancelled.set()
        with self._lock:
            if self._current is job and self.backend is not None:
                self.backend.cancel()

    def stop(self) -> None:
        self._jobs.put(None)

    # -- the model thread ----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self.backend = self._load(self._progress)
            self.loading = None
        except BaseException as error:  # kept: every chat request answers with it
            self.load_error = error
            self.loading = None
            if not isinstance(error, VideoChatError):
                log.error("the model did not load", exc_info=error)
        if self.backend is not None:
            _import_the_video_stack()
        while (job := self._jobs.get()) is not None:
            try:
                if not job.cancelled.is_set():
                    self._take(job)
            finally:
                job.end()
        if self.backend is not None:
            self.backend.unload()

    def _take(self, job: Job) -> None:
        with self._lock:
            self._current = job
        try:
            self._answer(job)
        except (VideoChatError, RequestError) as error:
            if job.cancelled.is_set():
                after = f" after {job.stopped_after} characters of the answer" if job.stopped_after is not None else ""
                log.info("stopped: the client went away%s", after)
            job.emit("error", error)
        except Exception as error:  # shown as internal_error, with no traceback to the client
            log.error("a request failed", exc_info=error)
            job.emit("error", error)
        finally:
            with self._lock:
                self._current = None

    def _progress(self, stage: str, fraction: float) -> None:
        self.loading = {"stage": stage, "fraction": round(float(fraction), 3)}

    def _answer(self, job: Job) -> None:
        request, backend = job.request, self.backend
        prepared = self._prepared_video(request, job.cancelled.is_set)
        conversation, follow_up = self._conversation(request, prepared)
        question = backend.check_question(request.question)
        if job.cancelled.is_set():
            raise Cancelled("The client went away.")
        asked_at, turns_before = time.time(), len(conversation.turns)
        job.emit("frames", self._frames_seen(request, conversation.prepared.sample))
        pieces = backend.stream(conversation, question, request.settings)
        try:
            for number, piece in enumerate(pieces):
                if number == 0 and (told := backend.model_times(conversation)) is not None:
                    # Known once the model has read the video: said before its first piece, so a stream cut short keeps them.
                    job.emit("frames", self._frames_seen(request, conversation.prepared.sample, told))
                job.emit("piece", piece)
                if job.cancelled.is_set():
                    break  # a stop that came before the backend cleared its flag
        finally:
            pieces.close()  # ends generation if it is still running; the turn is kept, marked stopped
        answered = len(conversation.turns) == turns_before + 1
        if job.cancelled.is_set() or not answered:
            if answered and conversation.turns[-1].stopped:
                job.stopped_after = len(conversation.turns[-1].answer)
            raise Cancelled("The client went away.")
        job.emit("done", self._provenance(request, conversation, asked_at, follow_up))

    # -- frames ------------------------------------------------------------------------------

    def _prepared_video(self, request: ChatRequest, should_stop):
        key = (request.video.key, request.scope)
        if key in self._prepared:
            self._prepared.move_to_end(key)
            return self._prepared[key]
        from videochat.frames.pipeline import prepare, prepare_frames, prepare_sample

        family = get_family(self.backend.ref.family)
        video = request.video
        if video.frames is not None:
            family.check_frame_count(len(video.frames))
            times = np.asarray(video.times if video.times is not None else [float("nan")] * len(video.frames), dtype=np.float64)
            message = None
            if family.sample is sampling.sample_internvideo2 and video.times is not None:
                message = f"The video contains {len(times)} frames sampled at {', '.join(str(round(t, 1)) for t in times)} seconds."
            sample = FrameSample(np.asarray(video.indices, dtype=np.int64), times, message, None)
            prepared = prepare_frames(family, sample, iter(video.frames), should_stop=should_stop)
        else:
            from videochat.video.source import VideoSource
            from videochat.video.timeline import Timeline

            check_unchanged(video)
            with VideoSource.open(video.path) as source:
                source.reader_name  # noqa: B018 (its reader opens the file now, to be checked once more)
                check_unchanged(video)
                if request.frame_indices is not None:
                    prepared = prepare_sample(source, family, self._chosen_sample(family, source.info, request), should_stop=should_stop)
                else:
                    segment = Timeline.of(source.info).segment(*request.segment) if request.segment else None
                    num_frames = self.backend.ref.default_frames if request.num_frames is None else request.num_frames
                    prepared = prepare(source, family, num_frames, segment, should_stop=should_stop)
        self._prepared[key] = prepared
        while len(self._prepared) > KEPT_VIDEOS:
            self._prepared.popitem(last=False)
        return prepared

    @staticmethod
    def _chosen_sample(family, info, request: ChatRequest) -> FrameSample:
        """A saved conversation's frames (`frame_indices`), checked as the family checks a count, against
        the clip and against where they were (`frame_times`); the scope it was about kept as provenance."""
        from videochat.continuing import chosen_sample

        segment = request.segment if request.segment and None not in request.segment else None
        return chosen_sample(family, info, request.frame_indices, request.frame_times, segment)

    # -- conversations -------------------------------------------------------------------------

    def _conversation(self, request: ChatRequest, prepared) -> tuple[Conversation, bool]:
        """The kept conversation whose turns are the request's history; or a new one that starts from it."""
        for number, (video_key, scope, conversation) in self._conversations.items():
            if (video_key, scope) == (request.video.key, request.scope) and [(t.question, t.answer) for t in conversation.turns] == request.history:
                if request.history or not conversation.turns:
                    self._conversations.move_to_end(number)
                    log.info("continues a kept conversation of %d turns", len(conversation.turns))
                    return conversation, bool(request.history)
        turns = [Turn(question, answer) for question, answer in request.history]
        if turns:
            log.info("resumes a conversation from the %d turns sent", len(turns))
        conversation = self.backend.resume(prepared, turns) if turns else self.backend.start(prepared)
        self._conversations[id(conversation)] = (request.video.key, request.scope, conversation)
        while len(self._conversations) > KEPT_CONVERSATIONS:
            self._conversations.popitem(last=False)
        return conversation, False

    def _frames_seen(self, request: ChatRequest, sample, model_times: list[float] | None = None) -> dict:
        """What the answer will be based on, known before its first token (the stream's first chunk carries it)."""
        answer = self._answer_record(request, sample, "", "", False, time.time(), False, model_times)
        return provenance({"answer": answer, "video_frames": self._video_frames(request, answer)})

    def _answer_record(self, request: ChatRequest, sample, question: str, text: str, stopped: bool, asked_at: float, follow_up: bool,
                       model_times: list[float] | None = None):
        from videochat.chat import Answer

        backend, video = self.backend, request.video
        return Answer(
            question=question,
            text=text,
            stopped=stopped,
            indices=[int(i) for i in sample.indices],
            times=[round(float(t), 6) if np.isfinite(t) else 0.0 for t in sample.times],
            model=backend.ref.display_name,
            revision=backend.ref.revision,
            family=backend.ref.family,
            frames=len(sample.indices) if video.frames is not None or (request.frame_indices and not request.num_frames) else (request.num_frames or backend.ref.default_frames),
            segment=sample.segment,
            settings=request.settings.as_dict(),
            device=str(backend.device),
            precision=str(backend.dtype).replace("torch.", ""),
            asked_at=asked_at,
            follow_up=follow_up,
            answered_at=time.time(),
            model_times=model_times,
        )

    @staticmethod
    def _video_frames(request: ChatRequest, answer) -> dict:
        # Frames sent without their times: the server cannot know them, and says so with null.
        times = None if request.video.frames is not None and request.video.times is None else answer.times
        frames = {"indices": answer.indices, "times": times}
        if times is not None and answer.model_times is not None:
            frames["model_times"] = answer.model_times  # only where the model was told other times than these
        return frames

    def _provenance(self, request: ChatRequest, conversation: Conversation, asked_at: float, follow_up: bool) -> dict:
        backend, turn = self.backend, conversation.turns[-1]
        told = backend.model_times(conversation)
        answer = self._answer_record(request, conversation.prepared.sample, turn.question, turn.answer, turn.stopped, asked_at, follow_up, told)
        tokenizer = backend.tokenizer_for_text
        tokens = len(tokenizer.encode(turn.answer, add_special_tokens=False)) if tokenizer is not None else 0
        return {"answer": answer, "video_frames": self._video_frames(request, answer), "completion_tokens": tokens}


def _import_the_video_stack() -> None:
    """What the first question would import (PyAV, the video reader, the frame pipeline: ~100 ms with a
    cold disk cache), imported once the model is loaded, while no question waits; a job that comes
    meanwhile waits no longer than it would have. A failure is left for that question to report."""
    import importlib

    try:
        for name in ("av", "videochat.frames.pipeline"):
            importlib.import_module(name)
    except Exception as error:  # noqa: BLE001
        log.info("the video stack did not import ahead of the first question: %s", error)


def provenance(done: dict) -> dict:
    """The response's extensions: the frames the model saw and how it was asked."""
    answer = done["answer"]
    videochat = {key: getattr(answer, key) for key in ("model", "revision", "family", "frames", "settings", "device", "precision", "stopped")}
    videochat["segment"] = list(answer.segment) if answer.segment else None
    return {"video_frames": done["video_frames"], "videochat": videochat}

