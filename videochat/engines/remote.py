"""Asking a model that runs on an engine (`videochat serve`, vLLM, SGLang, LMDeploy): `EngineModel` and `EngineChat`.

The app samples the frames itself, with the family's rule when the served model id names a catalog
model (a vLLM-served `OpenGVLab/InternVL2-8B` gets InternVL2's rule) and uniformly otherwise, decodes
them with the core and sends them in the form the engine takes (docs/engine-protocol.md, "Other
engines"). No engine reports which frames it used; ours are known because we sent them, so every
answer carries the true indices and times. Our own server, when local, is handed the file instead
(`file://`) and answers with the frames it sampled.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator

from videochat.engines.client import EngineClient, ServedModel, StreamEnd
from videochat.engines.errors import EngineError
from videochat.errors import Cancelled, InvalidFrameCount, InvalidQuestion, UnknownModel
from videochat.families import FAMILIES, Family, get_family
from videochat.generation import GenerationSettings

FORMS = ("vllm", "images", "videochat")
# vLLM's VideoMediaIO keeps this many frames of a video unless started with --media-io-kwargs.
VLLM_DEFAULT_NUM_FRAMES = 32
VLLM_RUNTIME_MEDIA_IO = (0, 18)  # the request's own `media_io_kwargs` (num_frames) is honoured from here
VLLM_FRAME_METADATA = (0, 20)  # fps and frames_indices of pre-extracted JPEG frames (vLLM PR #40133)
MAX_SENT_SIDE = 1344  # frames are sent at most this large (3 InternVL tiles): engines resize to far less
MAX_REPORTED_FRAMES = 4096
MAX_REPORTED_CHARS = 200  # our server's revision, device, precision
# A model the catalog does not know: uniform midpoints (InternVL2's rule), up to what engines take.
UNIFORM = replace(FAMILIES["native"], title="The engine's model", max_frames=256)
MEDIA_MARKERS = ("<image>", "<video>", "<IMG_CONTEXT>")


def family_for(model_id: str, served: ServedModel | None = None) -> Family:
    """The frame rule of a served model: its catalog family (by repo id, name or the path's last part), ours' reported one, else uniform."""
    from videochat.models.catalog import find_entry

    for name in (model_id, model_id.rstrip("/").rsplit("/", 1)[-1]):
        entry = find_entry(name)
        if entry is not None:
            return get_family(entry.family)
    reported = (served.videochat or {}).get("family") if served else None
    return FAMILIES.get(reported, UNIFORM) if isinstance(reported, str) else UNIFORM


def form_for(served: ServedModel) -> str:
    """How to send frames, from what /v1/models says: ours carry `videochat`, vLLM owns its models, others take images."""
    if served.videochat is not None:
        return "videochat"
    return "vllm" if served.owned_by.lower() == "vllm" else "images"


def _version(text: object) -> tuple[int, ...] | None:
    match = re.match(r"v?(\d+)\.(\d+)", text) if isinstance(text, str) else None
    return (int(match.group(1)), int(match.group(2))) if match else None


@dataclass
class EngineModel:
    """One model on one engine, with how frames are sent to it."""

    client: EngineClient
    model_id: str
    form: str
    family: Family
    served: ServedModel | None = None
    engine_version: tuple[int, ...] | None = None
    max_frames_kept: int | None = None  # the engine's own cut of a video (vLLM's num_frames); None: none
    notes: list[str] = field(default_factory=list)  # what the user should know (an older engine ...)

    @classmethod
    def connect(cls, client: EngineClient, model: str | None, form: str | None = None, max_frames_kept: int | None = None) -> EngineModel:
        """Ask the engine what it serves; `model` None takes its only model. `form` None: detected."""
        served_models = client.models()
        names = ", ".join(m.id for m in served_models[:20]) or "none"
        if model is None:
            if len(served_models) != 1:
                raise UnknownModel(f"{client.display_url} serves {names}: choose one with --model.")
            served = served_models[0]
        else:
            served = next((m for m in served_models if m.id == model), None)
            if served is None:
                raise UnknownModel(f"{client.display_url} does not serve {model}; it serves {names}.")
        form = form or form_for(served)
        if form not in FORMS:
            raise ValueError(f"unknown engine form {form!r}; choose from {', '.join(FORMS)}")
        engine = cls(client, served.id, form, family_for(served.id, served), served)
        if form == "vllm":
            engine._learn_vllm(max_frames_kept)
        return engine

    def _learn_vllm(self, max_frames_kept: int | None) -> None:
        """vLLM's version decides whether the request's frame count and frame times are heeded."""
        try:
            self.engine_version = _version(self.client.version())
        except EngineError:
            self.engine_version = None
        runtime = self.engine_version is not None and self.engine_version >= VLLM_RUNTIME_MEDIA_IO
        if max_frames_kept is not None:
            self.max_frames_kept = None if max_frames_kept < 0 else max_frames_kept
        else:
            self.max_frames_kept = None if runtime else VLLM_DEFAULT_NUM_FRAMES
        shown = ".".join(map(str, self.engine_version)) if self.engine_version else "of unknown version"
        if not runtime:
            self.notes.append(
                f"vLLM {shown} is older than {'.'.join(map(str, VLLM_RUNTIME_MEDIA_IO))}: it keeps at most its own num_frames "
                f"of a video ({VLLM_DEFAULT_NUM_FRAMES} unless started with --media-io-kwargs '{{\"video\": {{\"num_frames\": -1}}}}')."
            )
        if self.engine_version is None or self.engine_version < VLLM_FRAME_METADATA:
            self.notes.append(
                f"vLLM {shown} is older than {'.'.join(map(str, VLLM_FRAME_METADATA))}: the engine cannot be told the frames' times; "
                "the times shown are still the true ones of the frames sent."
            )

    @property
    def default_frames(self) -> int:
        from videochat.models.catalog import find_entry

        entry = find_entry(self.model_id)
        reported = (self.served.videochat or {}).get("default_frames") if self.served else None
        if entry is not None:
            return entry.default_frames
        if isinstance(reported, int) and not isinstance(reported, bool) and reported > 0:
            return reported
        return self.family.default_frames

    def check_frame_count(self, num_frames: int) -> None:
        self.family.check_frame_count(num_frames)
        if self.max_frames_kept is not None and num_frames > self.max_frames_kept:
            raise InvalidFrameCount(
                f"{self.client.display_url} keeps at most {self.max_frames_kept} frames of a video (vLLM's num_frames), so the "
                f"times of {num_frames} would be wrong: ask for {self.max_frames_kept} or fewer, or start vLLM with "
                "--media-io-kwargs '{\"video\": {\"num_frames\": -1}}' and give --engine-max-frames -1."
            )

    def check_question(self, question: str) -> str:
        text = question.strip()
        if not text:
            raise InvalidQuestion("The question is empty: type what you want to know about the video.")
        for marker in MEDIA_MARKERS:
            if marker in text:
                raise InvalidQuestion(f"The question contains {marker}, which the engine reads as a picture's place, not as text: ask it without that mark.")
        return text


@dataclass
class SentVideo:
    """The frames of one scope, as the engine takes them: the content parts before the first question, and request fields."""

    indices: list[int] | None  # None: the engine samples (our server, handed the file) and says which
    times: list[float] | None
    parts: list[dict]
    fields: dict
    frames: int
    segment: tuple[float, float] | None
    fallback: Callable[[], SentVideo] | None = None  # the frames themselves, when a file:// is refused


def send_video(engine: EngineModel, source, num_frames: int, segment, should_stop: Callable[[], bool] = lambda: False, progress=None) -> SentVideo:
    """Sample with the family's rule, decode, and encode for `engine.form` (or hand our local server the file)."""
    scope = dict(frames=num_frames, segment=segment)
    if engine.form == "videochat" and engine.client.is_local:
        url = Path(source.info.path).resolve().as_uri()
        fields = {"num_frames": num_frames, "segment": list(segment) if segment else None}
        return SentVideo(None, None, [{"type": "video_url", "video_url": {"url": url}}], fields, **scope,
                         fallback=lambda: _sampled(engine, source, num_frames, segment, should_stop, progress))
    return _sampled(engine, source, num_frames, segment, should_stop, progress)


def _sampled(engine: EngineModel, source, num_frames, segment, should_stop, progress) -> SentVideo:
    from videochat.engines import media

    sample = engine.family.sample(source.info, num_frames, segment)
    indices = [int(i) for i in sample.indices]
    times = [round(float(t), 6) for t in sample.times]
    frames = _decode(source, indices, should_stop, progress)
    scope = dict(frames=num_frames, segment=segment)
    if engine.form == "images":
        parts = []
        for number, frame in enumerate(frames, 1):
            parts += [{"type": "text", "text": f"Frame{number}:"}, {"type": "image_url", "image_url": {"url": media.image_data_url(frame), "max_dynamic_patch": 1}}]
        fields = {"mm_processor_kwargs": {"max_dynamic_patch": 1}} if engine.family.has_patches else {}
        return SentVideo(indices, times, parts, fields, **scope)
    parts = [{"type": "video_url", "video_url": {"url": media.video_data_url(frames)}}]
    if engine.form == "vllm":
        fps = float(source.info.fps) if source.info.fps and math.isfinite(source.info.fps) else 1.0
        fields = {"media_io_kwargs": {"video": {"num_frames": len(indices), "fps": fps, "frames_indices": indices}}}
    else:
        fields = {"video_frames": {"indices": indices, "times": times}}
    return SentVideo(indices, times, parts, fields, **scope)


def _decode(source, indices: list[int], should_stop, progress):
    import numpy as np

    width, height = source.info.width, source.info.height
    scale = min(1.0, MAX_SENT_SIDE / max(width, height, 1))
    size = None if scale >= 1.0 else (max(2, round(width * scale)), max(2, round(height * scale)))
    decoded = {}
    for index, frame in source.iter_frames(indices, size=size):
        if should_stop():
            raise Cancelled("Stopped while reading the video.")
        decoded[index] = frame
        if progress is not None:
            progress(len(decoded), len(set(indices)))
    return np.stack([decoded[i] for i in indices])


def request_body(engine: EngineModel, video: SentVideo, history: list[tuple[str, str]], question: str, settings: GenerationSettings) -> dict:
    """The chat request: the video before the first question, earlier turns as the history."""
    turns = [*history, (question, None)]
    messages = []
    for number, (asked, answered) in enumerate(turns):
        content = [*video.parts, {"type": "text", "text": asked}] if number == 0 else asked
        messages.append({"role": "user", "content": content})
        if answered is not None:
            messages.append({"role": "assistant", "content": answered})
    body = {"model": engine.model_id, "messages": messages, "max_tokens": settings.max_new_tokens, "temperature": settings.temperature}
    if settings.temperature > 0:
        body["top_p"] = settings.top_p
    if settings.repetition_penalty != 1.0:
        body["repetition_penalty"] = settings.repetition_penalty
    body.update(video.fields)
    return body


def reported_frames(end: StreamEnd, frame_count: int, engine: EngineModel) -> tuple[list[int], list[float]]:
    """The frames our server says it sampled, checked: a list of indices inside the clip and their times (finite, not before 0)."""
    frames = end.video_frames or {}
    indices, times = frames.get("indices"), frames.get("times")
    valid = (
        isinstance(indices, list) and isinstance(times, list) and 0 < len(indices) == len(times) <= MAX_REPORTED_FRAMES
        and all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < frame_count for i in indices)
        and all(isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t) and t >= 0 for t in times)
    )
    if not valid:
        raise EngineError(f"{engine.client.display_url} did not say which frames of the video its model saw (video_frames): it is not a videochat server.", "internal_error", 502)
    return list(indices), [round(float(t), 6) for t in times]


def ask_engine(engine: EngineModel, video: SentVideo, history, question: str, settings: GenerationSettings, frame_count: int, on_piece=None):
    """One answer from the engine, streamed; returns (video actually used, text, end)."""
    end = StreamEnd()
    pieces: list[str] = []
    try:
        for piece in engine.client.stream(request_body(engine, video, history, question, settings), end):
            pieces.append(piece)
            if on_piece is not None:
                on_piece(piece)
    except EngineError as error:
        if video.fallback is None or error.code != "media_path_not_allowed" or pieces:
            raise
        return ask_engine(engine, video.fallback(), history, question, settings, frame_count, on_piece)
    if video.indices is None:
        video.indices, video.times = reported_frames(end, frame_count, engine)
    return video, "".join(pieces), end


def make_answer(engine: EngineModel, video: SentVideo, question: str, text: str, end: StreamEnd, settings: GenerationSettings,
                asked_at: float, follow_up: bool, stopped: bool):
    """The core's `Answer`: the frames sent (or those our server reports), the served model, the engine's address,
    and the times the model was told where our server says they were not the true ones."""
    from videochat.chat import Answer

    provenance = end.videochat or {}

    def reported(key: str, default):  # kept in every session turn: a short, showable string or nothing
        value = provenance.get(key)
        return value if isinstance(value, str) and len(value) <= MAX_REPORTED_CHARS and value.isprintable() else default

    return Answer(
        question=question, text=text, stopped=stopped, indices=list(video.indices), times=list(video.times),
        model=engine.model_id, revision=reported("revision", None), family=engine.family.name, frames=video.frames,
        segment=video.segment, settings=settings.as_dict(), device=reported("device", "engine"), precision=reported("precision", ""),
        asked_at=asked_at, follow_up=follow_up, answered_at=time.time(), engine=engine.client.display_url,
        model_times=end.model_times(len(video.indices)) if engine.form == "videochat" else None,  # our extension: no other engine says it
    )


class EngineChat:
    """`VideoChat` for a model on an engine: the same `ask`/`answers`/`stop`, the same `Answer`s."""

    def __init__(self, source, engine: EngineModel):
        self.source = source
        self.engine = engine
        self.answers = []
        self._video: SentVideo | None = None
        self._scope: tuple | None = None
        self._history: list[tuple[str, str]] = []
        self._stopping = threading.Event()

    @property
    def family(self) -> Family:
        return self.engine.family

    def default_frames(self) -> int:
        return self.engine.default_frames

    def ask(self, question: str, num_frames: int | None = None, segment=None, settings: GenerationSettings = GenerationSettings(),
            progress=None, follow_up: bool = True) -> Iterator[str]:
        self._stopping.clear()
        self.engine.client.reset_stop()
        question = self.engine.check_question(question)
        num_frames = self.default_frames() if num_frames is None else num_frames
        self.engine.check_frame_count(num_frames)
        scope = (num_frames, tuple(segment) if segment else None)
        same_scope = self._video is not None and scope == self._scope
        if not same_scope:
            self._video = send_video(self.engine, self.source, num_frames, scope[1], self._stopping.is_set, progress)
            self._scope, self._history = scope, []
        follow_up = follow_up and same_scope
        history = self._history if follow_up else []
        asked_at = time.time()
        end = StreamEnd()
        pieces: list[str] = []
        request = request_body(self.engine, self._video, history, question, settings)
        try:
            for piece in self.engine.client.stream(request, end):
                pieces.append(piece)
                yield piece
        except EngineError as error:
            if self._video.fallback is None or error.code != "media_path_not_allowed" or pieces:
                raise
            self._video = self._video.fallback()  # our server, but not allowed to read this folder: send the frames
            yield from self._retry(question, history, settings, end, pieces)
        if self._video.indices is None:
            self._video.indices, self._video.times = reported_frames(end, self.source.info.frame_count, self.engine)
        text = "".join(pieces)
        self._history = [*history, (question, text)]
        stopped = end.stopped or self._stopping.is_set()
        self.answers.append(make_answer(self.engine, self._video, question, text, end, settings, asked_at, follow_up, stopped))

    def _retry(self, question, history, settings, end, pieces):
        for piece in self.engine.client.stream(request_body(self.engine, self._video, history, question, settings), end):
            pieces.append(piece)
            yield piece

    def new_conversation(self) -> None:
        self._video = None
        self._scope = None
        self._history = []

    def stop(self) -> None:
        """From any thread: stop reading frames, or close the answer's stream now (the partial answer is kept, marked stopped)."""
        self._stopping.set()
        self.engine.client.stop()
