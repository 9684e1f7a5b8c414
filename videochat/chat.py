"""`VideoChat`: questions about one video to one loaded model, with what each answer was based on.

Follow-up questions continue the conversation on the same prepared frames (no second decode)
as long as the scope (segment, frame count) stays the same; a new scope starts a new
conversation on newly prepared frames, since the model's earlier answers were about others.
`resume` goes on from a saved conversation: its turns as the history, on the very frames it was
about (prepared again from their indices, checked against their times: `videochat.continuing`).
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from videochat import app_files
from videochat.backends.base import Backend, Conversation, GenerationSettings, Turn
from videochat.continuing import chosen_sample
from videochat.families import get_family
from videochat.frames.pipeline import prepare, prepare_sample
from videochat.video.source import VideoSource


@dataclass
class Answer:
    """One question and answer with its provenance: the frames the model saw, and how it was asked."""

    question: str
    text: str
    stopped: bool
    indices: list[int]
    times: list[float]
    model: str
    revision: str | None
    family: str
    frames: int
    segment: tuple[float, float] | None
    settings: dict
    device: str
    precision: str
    asked_at: float
    follow_up: bool
    answered_at: float | None = None  # when the answer ended (None in files saved before it was recorded)
    engine: str | None = None  # the engine's address (no credentials, no query) when a server answered; None: in-process
    model_times: list[float] | None = None  # the times the model was told, where they differ from `times` (Backend.model_times)
    # Names the turn in its session, so that two writers of one session merge their turns (schema 2).
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])

    def to_dict(self) -> dict:
        """For `--json` and session files: the answer's text under "answer", everything else by field name."""
        fields = asdict(self)
        return {"question": fields.pop("question"), "answer": fields.pop("text"), **fields}

    @classmethod
    def from_dict(cls, data: object, source: str | Path = "<turn>", fallback_id: str | None = None) -> Answer:
        """The inverse of `to_dict` (a session file's turn), checked field by field.

        What the user asked and read (question, answer, the frames seen) must be there with its
        type, else `BadAppFile`; the provenance around it (model, settings, times ...) falls back
        to an empty value when its type is wrong, so a hand-edited file still shows and exports.
        """
        def optional(key, kind, default):
            return app_files.field(data, key, kind, default, source=source)

        question = app_files.field(data, "question", str, source=source)
        text = app_files.field(data, "answer", str, source=source)
        indices = app_files.field(data, "indices", list, source=source)
        times = app_files.field(data, "times", list, source=source)
        if not all(app_files.is_kind(i, int) for i in indices) or not all(_is_time(t) for t in times) or len(indices) != len(times):
            raise app_files.BadAppFile(source, "has a turn whose frame indices and times are not lists of numbers of one length")
        segment = optional("segment", list, None)
        if segment is not None and not (len(segment) == 2 and all(_is_time(t) for t in segment)):
            segment = None
        answered_at = optional("answered_at", (int, float), None)
        return cls(
            question=question,
            text=text,
            stopped=optional("stopped", bool, False),
            indices=list(indices),
            times=[float(t) for t in times],
            model=optional("model", str, ""),
            revision=optional("revision", str, None),
            family=optional("family", str, ""),
            frames=optional("frames", int, len(indices)),
            segment=(float(segment[0]), float(segment[1])) if segment else None,
            settings=dict(optional("settings", dict, {})),
            device=optional("device", str, ""),
            precision=optional("precision", str, ""),
            asked_at=float(optional("asked_at", (int, float), 0.0)),
            follow_up=optional("follow_up", bool, False),
            answered_at=None if answered_at is None else float(answered_at),
            engine=optional("engine", str, None),
            model_times=_times_or_none(optional("model_times", list, None), len(indices)),
            id=optional("id", str, None) or fallback_id or uuid.uuid4().hex[:16],
        )


def _is_time(value: object) -> bool:
    return app_files.is_kind(value, (int, float)) and math.isfinite(value)


def _times_or_none(values: list | None, count: int) -> list[float] | None:
    """A list of `count` times, or None (provenance: a wrong one is dropped, not refused)."""
    if values is None or len(values) != count or not all(_is_time(t) for t in values):
        return None
    return [float(t) for t in values]


class VideoChat:
    def __init__(self, source: VideoSource, backend: Backend):
        self.source = source
        self.backend = backend
        self.answers: list[Answer] = []
        self._conversation: Conversation | None = None
        self._scope: tuple | None = None
        self._stopping = threading.Event()

    @property
    def family(self):
        return get_family(self.backend.ref.family)

    def default_frames(self) -> int:
        return self.backend.ref.default_frames

    def ask(
        self,
        question: str,
        num_frames: int | None = None,
        segment: tuple[float, float] | None = None,
        settings: GenerationSettings = GenerationSettings(),
        progress: Callable[[int, int], None] | None = None,
        follow_up: bool = True,
    ) -> Iterator[str]:
        """Stream the answer; afterwards `self.answers[-1]` holds it with its frames and settings.

        `follow_up=False` asks without the earlier turns, on the frames already prepared when the
        scope is the same (a batch's independent questions about one clip, decoded once).
        A stop while the frames are being read raises `Cancelled`; a stop while the model answers
        ends the answer early and keeps it, marked stopped.
        """
        self._stopping.clear()
        question = self.backend.check_question(question)
        num_frames = self.default_frames() if num_frames is None else num_frames  # 0 is refused by the family, not replaced
        scope = (num_frames, tuple(segment) if segment else None)
        same_scope = self._conversation is not None and scope == self._scope
        if not same_scope:
            prepared = prepare(self.source, self.family, num_frames, segment, progress=progress, should_stop=self._stopping.is_set)
            self._conversation = self.backend.start(prepared)
            self._scope = scope
        elif not follow_up:
            self._conversation = self.backend.start(self._conversation.prepared)
        follow_up = follow_up and same_scope
        conversation = self._conversation
        asked_at = time.time()
        yield from self.backend.stream(conversation, question, settings)
        turn = conversation.turns[-1]
        sample = conversation.prepared.sample
        self.answers.append(
            Answer(
                question=question,
                text=turn.answer,
                stopped=turn.stopped,
                indices=[int(i) for i in sample.indices],
                times=[round(float(t), 6) for t in sample.times],
                model=self.backend.ref.display_name,
                revision=self.backend.ref.revision,
                family=self.family.name,
                frames=num_frames,
                segment=scope[1],
                settings=settings.as_dict(),
                device=str(self.backend.device),
                precision=str(self.backend.dtype).replace("torch.", ""),
                asked_at=asked_at,
                follow_up=follow_up,
                answered_at=time.time(),
                model_times=self.backend.model_times(conversation),
            )
        )

    def resume(
        self,
        turns: list[tuple[str, str]],
        frame_indices: list[int],
        expected_times: list[float] | None,
        num_frames: int | None = None,
        segment: tuple[float, float] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """Go on from a saved conversation: the next `ask` with this scope (`num_frames`, `segment`: the
        saved turns') sees `turns` ((question, answer) pairs) as its history, on the frames at
        `frame_indices`, prepared again now. `SavedFramesChanged` says why not when those frames are
        not this video's, or no longer at `expected_times`; nothing changes then.
        """
        self._stopping.clear()
        num_frames = self.default_frames() if num_frames is None else num_frames
        segment = tuple(segment) if segment else None
        sample = chosen_sample(self.family, self.source.info, frame_indices, expected_times, segment)
        prepared = prepare_sample(self.source, self.family, sample, progress=progress, should_stop=self._stopping.is_set)
        self._conversation = self.backend.resume(prepared, [Turn(question, answer) for question, answer in turns])
        self._scope = (num_frames, segment)

    def new_conversation(self) -> None:
        """Forget the earlier turns: the next question starts afresh (the frames are prepared again)."""
        self._conversation = None
        self._scope = None

    def stop(self) -> None:
        """From any thread: stop reading frames, or stop the answer being generated."""
        self._stopping.set()
        self.backend.cancel()
