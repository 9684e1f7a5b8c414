"""Each video's conversation and timeline notes, kept in one JSON file per video.

The file is rewritten whole and atomically (a temporary file, fsync, `os.replace`) after every
change, so a crash at any moment leaves either the previous version or the new one. A file that
cannot be read is renamed aside (`….damaged-<when>.json`) and never written over; a file saved
for a different video at the same path (another size) is kept aside the same way. Both come
back with a message for the user saying where the old file went.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from videochat.chat import Answer
from videochat.errors import VideoChatError
from videochat.sentences import first_sentence
from videochat.timecode import milliseconds

SCHEMA_VERSION = 1
# What `Session.from_dict` raises for JSON that is not a session of this schema.
NOT_A_SESSION = (ValueError, KeyError, TypeError, AttributeError, IndexError)


class SessionUnreadable(VideoChatError):
    pass


def default_folder() -> Path:
    from platformdirs import user_data_path

    return user_data_path("videochat", appauthor=False) / "sessions"


@dataclass
class Note:
    """A span of the video with a text: made from an answer, then edited by the user."""

    start: float
    end: float
    text: str
    answer_index: int | None = None  # the turn it was made from, if any
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    created_at: float = field(default_factory=time.time)
    edited_at: float | None = None

    @classmethod
    def from_dict(cls, data: dict) -> Note:
        note = cls(
            start=float(data["start"]),
            end=float(data["end"]),
            text=str(data["text"]),
            answer_index=None if data.get("answer_index") is None else int(data["answer_index"]),
            id=str(data.get("id") or uuid.uuid4().hex[:12]),
            created_at=float(data.get("created_at") or 0.0),
            edited_at=None if data.get("edited_at") is None else float(data["edited_at"]),
        )
        if note.end < note.start:
            raise ValueError("a note ends before it starts")
        return note


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
        """From a `VideoInfo` (what the app probed when it opened the file)."""
        path = Path(info.path).resolve()
        return cls(str(path), path.stat().st_size, float(info.duration), float(info.fps), int(info.frame_count))

    @property
    def frame_duration(self) -> float:
        return 1.0 / self.fps if self.fps > 0 else 0.0


@dataclass
class Session:
    video: VideoIdentity
    turns: list[Answer] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    # A question whose answer had not finished when the app last stopped (it is not lost).
    interrupted: dict | None = None
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)

    # -- turns ----------------------------------------------------------------------------

    def question_asked(self, question: str) -> None:
        """Remembered until its answer is added, so a crash does not lose the question either."""
        self.interrupted = {"question": question, "asked_at": time.time()}

    def forget_question(self) -> None:
        """The question got no answer (an error, not a crash): nothing to bring back."""
        self.interrupted = None

    def add_answer(self, answer: Answer) -> int:
        self.turns.append(answer)
        self.interrupted = None
        return len(self.turns) - 1

    # -- notes ----------------------------------------------------------------------------

    def answer_span(self, answer: Answer) -> tuple[float, float]:
        """(start, end) seconds of what an answer was about: its segment, else its first frame to
        the end of its last (within the video), else the whole video."""
        if answer.segment:
            return answer.segment
        if not answer.times:
            return 0.0, self.video.duration
        end = max(answer.times) + self.video.frame_duration
        return min(answer.times), min(end, self.video.duration) if self.video.duration > 0 else end

    def note_from_answer(self, index: int) -> Note:
        """A note over the answer's segment, or over the frames it saw (to the end of the last one),
        saying the answer's first sentence; the whole answer stays its turn (`answer_index`)."""
        answer = self.turns[index]
        start, end = self.answer_span(answer)
        if self.video.duration > 0:
            end = min(end, self.video.duration)
        note = Note(start=_to_ms(start), end=_to_ms(max(end, start)), text=first_sentence(answer.text), answer_index=index)
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

    # -- the file -------------------------------------------------------------------------

    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "video": asdict(self.video),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "turns": [answer.to_dict() for answer in self.turns],
            "notes": [asdict(note) for note in self.notes],
            "interrupted": self.interrupted,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Session:
        """Raises KeyError, TypeError or ValueError for anything that is not a session of this schema."""
        if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"not a session file of schema {SCHEMA_VERSION}")
        video = data["video"]
        interrupted = data.get("interrupted")
        if interrupted is not None and not isinstance(interrupted.get("question"), str):
            raise ValueError("the interrupted question is not text")
        return cls(
            video=VideoIdentity(str(video["path"]), int(video["size"]), float(video.get("duration", 0)), float(video.get("fps", 0)), int(video.get("frame_count", 0))),
            turns=[Answer.from_dict(turn) for turn in data["turns"]],
            notes=[Note.from_dict(note) for note in data["notes"]],
            interrupted=interrupted,
            created_at=float(data.get("created_at") or time.time()),
            updated_at=float(data.get("updated_at") or time.time()),
        )


def _to_ms(seconds: float) -> float:
    return milliseconds(seconds) / 1000


@dataclass
class Opened:
    """What `SessionStore.open` found: the session to continue, and what to tell the user, if anything."""

    session: Session
    message: str | None = None
    writable: bool = True  # False when the file on disk must not be replaced (a newer app wrote it)


class SessionStore:
    """Session files in one folder, named after the video's path (its name kept for people browsing)."""

    def __init__(self, folder: Path | None = None):
        self.folder = Path(folder) if folder is not None else default_folder()

    def path_for(self, video_path: str | os.PathLike) -> Path:
        resolved = str(Path(video_path).resolve())
        digest = hashlib.sha256(resolved.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(resolved).stem)[:60] or "video"
        return self.folder / f"{stem}-{digest}.json"

    def open(self, video: VideoIdentity) -> Opened:
        """The saved session of this video, or a new one (the old file kept aside when it could not be used)."""
        path = self.path_for(video.path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Opened(Session(video))
        except OSError as error:
            return Opened(Session(video), f"The saved conversation for this video could not be read ({error.strerror}); it is left as it was and this one will not be saved.", writable=False)
        try:
            data = json.loads(text)
            if isinstance(data, dict) and isinstance(data.get("schema_version"), int) and data["schema_version"] > SCHEMA_VERSION:
                return Opened(Session(video), f"The saved conversation for this video was written by a newer VideoChat; it is left as it is at {path} and this one will not be saved.", writable=False)
            session = Session.from_dict(data)
        except NOT_A_SESSION:
            return self._start_over(video, path, "damaged", "The saved conversation for this video is damaged and could not be read")
        if session.video.size != video.size:
            return self._start_over(video, path, "earlier", "This file changed since its conversation was saved (its size differs)")
        session.video = video
        return Opened(session)

    def read(self, video_path: str | os.PathLike) -> Session | None:
        """The saved session of the video at this path, as it is on disk (None if there is none); changes nothing.

        For exports and tools that only read: raises `SessionUnreadable` for a damaged file.
        """
        path = self.path_for(video_path)
        try:
            return Session.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, *NOT_A_SESSION) as error:
            raise SessionUnreadable(f"The saved conversation {path} could not be read ({error}).") from error

    def _start_over(self, video: VideoIdentity, path: Path, label: str, reason: str) -> Opened:
        aside = _free_name(path.with_name(f"{path.stem}.{label}-{time.strftime('%Y%m%d-%H%M%S')}.json"))
        try:
            os.replace(path, aside)
        except OSError as error:
            return Opened(Session(video), f"{reason}; it could not be moved aside ({error.strerror}), so it is left at {path} and this conversation will not be saved.", writable=False)
        return Opened(Session(video), f"{reason}. It was kept at {aside}; a new conversation starts here.")

    def save(self, session: Session) -> Path:
        """Write the whole session atomically; returns its path. Raises OSError (disk full, read-only)."""
        path, text = self.file_for(session)
        write_atomically(path, text)
        return path

    def file_for(self, session: Session) -> tuple[Path, str]:
        """Where the session goes and its text, stamped now: what `save` writes, for a caller that
        writes it elsewhere (the app's writer thread)."""
        session.updated_at = time.time()
        return self.path_for(session.video.path), session_text(session)


def _free_name(path: Path) -> Path:
    """`path`, or with -2, -3 … added when a file of that name is already there (two in one second)."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


def session_text(session: Session) -> str:
    """The file's text. ASCII with escapes: a file name that is not UTF-8 (surrogates in Python) still saves."""
    return json.dumps(session.to_dict(), ensure_ascii=True, indent=1)


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a crash leaves the old file or the new one, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")  # two writers never share one
    try:
        with open(temporary, "w", encoding="utf-8", newline="") as file:  # text as given: CSV brings its own \r\n
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
