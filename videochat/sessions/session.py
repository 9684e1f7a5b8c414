"""A video's session: its turns (`Answer`s with ids), timeline `Note`s naming their turn by id, the
question still unanswered, and the in/out `Mark`s; read back from JSON field by field.

What the user asked, read or wrote, and the video's path and size, must be right or the whole
session is refused (`BadAppFile`, and the store sets the file aside); provenance, times, the
unanswered question and the marks fall back to empty. Schema 2 added turn ids, notes that name
their turn by id, and the in/out marks; schema 3 a regenerated turn's other answers
(`alternatives.py`: what is wrong there is left out, never fatal). Schema-1 and schema-2 sessions
are read forward (schema-1 ids made from their content, the same in every reader). The file itself
is `store.py`'s.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from videochat import app_files
from videochat.app_files import BadAppFile, is_kind
from videochat.chat import Answer
from videochat.errors import UnreadableVideo
from videochat.sessions import alternatives
from videochat.sessions.alternatives import Alternatives
from videochat.sessions.sentences import first_sentence
from videochat.video.timecode import milliseconds

if TYPE_CHECKING:
    from videochat.video.timeline import Timeline

SCHEMA_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
# What `Session.from_dict` raises for JSON that is not a session it can read.
NOT_A_SESSION = (BadAppFile,)


def _stable_id(*parts: object) -> str:
    """An id made from content: every reader of one schema-1 file gives its turns the same ids."""
    return "v1-" + hashlib.sha256(repr(parts).encode("utf-8", "surrogateescape")).hexdigest()[:13]


def _number(value: object) -> bool:
    return is_kind(value, (int, float)) and math.isfinite(value)


@dataclass
class Note:
    """A span of the video with a text: made from an answer, then edited by the user."""

    start: float
    end: float
    text: str
    answer_id: str | None = None  # the turn it was made from, if any
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    created_at: float = field(default_factory=time.time)
    edited_at: float | None = None

    @classmethod
    def from_dict(cls, data: object, source: str | Path = "<note>", turn_ids: list[str] = ()) -> Note:
        """Its span and text must be there and right (`BadAppFile` otherwise); the rest falls back.

        `turn_ids`: a schema-1 note names its turn by place (`answer_index`), turned into its id.
        """
        start = app_files.field(data, "start", (int, float), source=source)
        end = app_files.field(data, "end", (int, float), source=source)
        text = app_files.field(data, "text", str, source=source)
        if not (_number(start) and _number(end)) or end < start:
            raise BadAppFile(source, "has a note that ends before it starts")
        answer_id = app_files.field(data, "answer_id", str, None, source=source)
        index = app_files.field(data, "answer_index", int, None, source=source)
        if answer_id is None and index is not None and 0 <= index < len(turn_ids):
            answer_id = turn_ids[index]
        edited_at = app_files.field(data, "edited_at", (int, float), None, source=source)
        created_at = float(app_files.field(data, "created_at", (int, float), 0.0, source=source))
        return cls(
            start=float(start),
            end=float(end),
            text=text,
            answer_id=answer_id,
            id=app_files.field(data, "id", str, None, source=source) or _stable_id("note", start, end, text, created_at),
            created_at=created_at,
            edited_at=None if edited_at is None else float(edited_at),
        )


@dataclass(frozen=True)
class Mark:
    """An in or out point: a frame of the video, by its index and its presentation time."""

    frame: int
    time: float

    @classmethod
    def from_dict(cls, data: object) -> Mark | None:
        """None for anything that is not a frame index and a time (a bad mark is dropped, not fatal)."""
        if not isinstance(data, dict):
            return None
        frame, seconds = app_files.field(data, "frame", int, None), app_files.field(data, "time", (int, float), None)
        if frame is None or seconds is None or frame < 0 or not _number(seconds) or seconds < 0:
            return None
        return cls(frame, float(seconds))


@dataclass
class VideoIdentity:
    """Enough to tell that the file at a path is still the video the session was about."""

    path: str
    size: int
    duration: float = 0.0
    fps: float = 0.0
    frame_count: int = 0

    @classmethod
    def of(cls, info) -> VideoIdentity:
        """From a `VideoInfo` (what the app probed when it opened the file); `UnreadableVideo` if it is gone since."""
        path = Path(info.path).resolve()
        try:
            size = path.stat().st_size
        except OSError as error:
            raise UnreadableVideo(f"{path.name} is no longer there to save its conversation ({error.strerror or error}): was it moved or deleted? Open it again from where it is now.") from None
        return cls(str(path), size, float(info.duration), float(info.fps), int(info.frame_count))

    @classmethod
    def from_dict(cls, data: object, source: str | Path) -> VideoIdentity:
        path = app_files.field(data, "path", str, source=source)
        size = app_files.field(data, "size", int, source=source)
        duration, fps = (app_files.field(data, key, (int, float), 0.0, source=source) for key in ("duration", "fps"))
        return cls(path, size, float(duration) if _number(duration) else 0.0, float(fps) if _number(fps) else 0.0, app_files.field(data, "frame_count", int, 0, source=source))

    @property
    def frame_duration(self) -> float:
        return 1.0 / self.fps if self.fps > 0 else 0.0


@dataclass
class Session:
    video: VideoIdentity
    turns: list[Answer] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    # A question whose answer had not finished when the app last stopped (it is not lost):
    # {"id", "question", "asked_at"}; the id lets a writer clear only the question it asked.
    interrupted: dict | None = None
    in_point: Mark | None = None
    out_point: Mark | None = None
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    # The answers of each regenerated turn, by the turn's id; `turns` holds the one shown.
    alternatives: dict[str, Alternatives] = field(default_factory=dict)

    # -- turns ----------------------------------------------------------------------------

    def question_asked(self, question: str) -> None:
        """Remembered until its answer is added, so a crash does not lose the question either."""
        self.interrupted = {"id": uuid.uuid4().hex[:16], "question": question, "asked_at": time.time()}

    def forget_question(self) -> None:
        """The question got no answer (an error, not a crash): nothing to bring back."""
        self.interrupted = None

    def add_answer(self, answer: Answer) -> int:
        self.turns.append(answer)
        self.interrupted = None
        return len(self.turns) - 1

    def turn_index(self, turn_id: str) -> int | None:
        return next((index for index, turn in enumerate(self.turns) if turn.id == turn_id), None)

    def answers_of(self, index: int) -> Alternatives:
        """Every answer given to this turn and the one shown (one answer for a turn never regenerated)."""
        turn = self.turns[index]
        return self.alternatives.get(turn.id) or Alternatives((turn,), 0)

    def regenerated(self, turn_id: str, answer: Answer) -> int | None:
        """`answer` becomes the shown answer of that turn (which keeps its id and place; the earlier
        answers stay among its alternatives); returns the turn's index, None if there is no such turn."""
        index = self.turn_index(turn_id)
        if index is None:
            return None
        return self._show(index, self.answers_of(index).with_answer(dataclasses.replace(answer, id=turn_id)))

    def show_alternative(self, index: int, choice: int) -> Answer:
        """Show another of the turn's answers (clamped to those it has); returns it."""
        self._show(index, self.answers_of(index).showing(choice))
        return self.turns[index]

    def _show(self, index: int, answers: Alternatives) -> int:
        self.turns[index] = answers.shown_answer
        if len(answers.answers) > 1:
            self.alternatives[answers.shown_answer.id] = answers
        return index

    # -- notes ----------------------------------------------------------------------------

    def answer_span(self, answer: Answer, timeline: Timeline | None = None) -> tuple[float, float]:
        """(start, end) seconds of what an answer was about: its segment, else its first frame's
        time to the end of its last frame (the next frame's time, from `timeline`, the video's
        `videochat.video.timeline.Timeline`, when given: exact on variable frame rate), else the whole video."""
        if answer.segment:
            return answer.segment
        if not answer.times:
            return (timeline.start, timeline.end) if timeline is not None else (0.0, self.video.duration)
        if timeline is not None and answer.indices:
            return timeline.span(min(answer.indices), max(answer.indices))
        end = max(answer.times) + self.video.frame_duration
        return min(answer.times), min(end, self.video.duration) if self.video.duration > 0 else end

    def note_from_answer(self, index: int, timeline: Timeline | None = None) -> Note:
        """A note over the answer's segment, or over the frames it saw (to the end of the last one),
        saying the answer's first sentence; the whole answer stays its turn (`answer_id`)."""
        answer = self.turns[index]
        start, end = self.answer_span(answer, timeline)
        if self.video.duration > 0 and timeline is None:
            end = min(end, self.video.duration)
        note = Note(start=_to_ms(start), end=_to_ms(max(end, start)), text=first_sentence(answer.text), answer_id=answer.id)
        self.notes.append(note)
        return note

    def add_note(self, start: float, end: float, text: str) -> Note:
        note = Note(start=_to_ms(min(start, end)), end=_to_ms(max(start, end)), text=text)
        self.notes.append(note)
        return note

    def edit_note(self, note_id: str, *, start: float | None = None, end: float | None = None, text: str | None = None) -> Note:
        note = self.note(note_id)
        new_start = note.start if start is None else _to_ms(float(start))
        new_end = note.end if end is None else _to_ms(float(end))
        note.start, note.end = min(new_start, new_end), max(new_start, new_end)
        if text is not None:
            note.text = text
        note.edited_at = time.time()
        return note

    def remove_note(self, note_id: str) -> None:
        self.notes = [note for note in self.notes if note.id != note_id]

    def note(self, note_id: str) -> Note:
        for note in self.notes:
            if note.id == note_id:
                return note
        raise KeyError(note_id)

    def sorted_notes(self) -> list[Note]:
        return sorted(self.notes, key=lambda note: (note.start, note.end))

    # -- the in/out segment ---------------------------------------------------------------

    def set_in_out(self, in_point: Mark | None, out_point: Mark | None) -> None:
        """The marked segment, kept with the conversation and restored on reopening (None: not marked)."""
        if in_point is not None and out_point is not None and in_point.time > out_point.time:
            raise ValueError("the in point comes after the out point")
        self.in_point, self.out_point = in_point, out_point

    def in_out(self) -> tuple[Mark | None, Mark | None]:
        return self.in_point, self.out_point

    # -- the file -------------------------------------------------------------------------

    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "video": asdict(self.video),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "turns": [self._turn_dict(answer) for answer in self.turns],
            "notes": [asdict(note) for note in self.notes],
            "interrupted": self.interrupted,
            "in_out": None if self.in_point is None and self.out_point is None else {
                "in": None if self.in_point is None else asdict(self.in_point),
                "out": None if self.out_point is None else asdict(self.out_point),
            },
        }  # fmt: skip

    def _turn_dict(self, answer: Answer) -> dict:
        answers = self.alternatives.get(answer.id)
        return {**answer.to_dict(), **answers.to_file()} if answers is not None and answers.shown_answer == answer else answer.to_dict()

    @classmethod
    def from_dict(cls, data: object, source: str | Path = "<session>") -> Session:
        """A session of schema 1, 2 or 3, checked field by field; `BadAppFile` for one that cannot be used.

        Set aside (raises): not an object, no readable schema version, no video path and size,
        turns or notes that are not lists, a turn without its question, answer and frames, a note
        without its span and text. Falls back: a turn's provenance of the wrong type (empty), times
        of the file (now), a bad unanswered question (dropped), bad in/out marks (dropped), a
        regenerated turn's bad alternatives (left out, `alternatives.read`).
        """
        version = app_files.field(data, "schema_version", int, source=source)
        if version not in READABLE_VERSIONS:
            raise BadAppFile(source, f"is not a session of schema {', '.join(map(str, READABLE_VERSIONS))}")
        video = VideoIdentity.from_dict(app_files.field(data, "video", dict, source=source), source)
        turns, answers = [], {}
        for place, turn in enumerate(app_files.field(data, "turns", list, source=source)):
            fallback = _stable_id("turn", place, *(turn.get(key) for key in ("asked_at", "question", "answer"))) if isinstance(turn, dict) else None
            turns.append(Answer.from_dict(turn, source, fallback_id=fallback))
            kept = alternatives.read(turn, turns[-1], source) if turns[-1].id not in answers else None
            if kept is not None:
                answers[turns[-1].id] = kept
        turn_ids = [turn.id for turn in turns]
        notes = [Note.from_dict(note, source, turn_ids) for note in app_files.field(data, "notes", list, source=source)]
        in_out = app_files.field(data, "in_out", dict, None, source=source) or {}
        in_point, out_point = Mark.from_dict(in_out.get("in")), Mark.from_dict(in_out.get("out"))
        if in_point is not None and out_point is not None and in_point.time > out_point.time:
            in_point = out_point = None
        now = time.time()
        created_at, updated_at = (app_files.field(data, key, (int, float), None, source=source) for key in ("created_at", "updated_at"))
        return cls(
            video=video,
            turns=turns,
            notes=notes,
            interrupted=_interrupted(app_files.field(data, "interrupted", dict, None, source=source)),
            in_point=in_point,
            out_point=out_point,
            created_at=float(created_at) if created_at else now,
            updated_at=float(updated_at) if updated_at else now,
            alternatives=answers,
        )


def _interrupted(data: dict | None) -> dict | None:
    """The unanswered question, or None when it is not one (then it is only not brought back)."""
    if data is None or not isinstance(data.get("question"), str):
        return None
    asked_at = data.get("asked_at") if _number(data.get("asked_at")) else 0.0
    question_id = data.get("id") if isinstance(data.get("id"), str) else _stable_id("question", asked_at, data["question"])
    return {"id": question_id, "question": data["question"], "asked_at": asked_at}


def _to_ms(seconds: float) -> float:
    return milliseconds(seconds) / 1000


