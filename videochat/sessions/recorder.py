"""`SessionRecorder`: one video's session as a front end changes it, saved by merging into the file.

The window and `videochat ask` both record through it: a question when it is asked, the answer
when it ends, the question forgotten when it fails, notes and in/out marks as they change. The
front end's `Session` object changes on the front end's thread; each save takes a snapshot there
(cheap: answers are never changed once made, so they are shared) and writes it, at once (the CLI) or
on a writer thread (the window). Writing takes the session file's lock, reads the file again,
merges what this recorder changed since its last write into what is there, and replaces the file:
two writers of one video's session never lose each other's turns.

The merge is three-way, by id: `base` (what this recorder last wrote, or read), `ours` (the
snapshot), `theirs` (the file now). Turns are only ever added, so they are the union, in the order
they were first asked; a regenerated turn keeps every answer either writer gave it, and shows ours
if we changed which one it shows, else theirs. A note added, edited or removed here is added, edited or removed there; one
another writer added or edited stays. The unanswered question and the in/out marks are ours if
we changed them, else theirs; clearing the question clears only the one this recorder asked.
"""

from __future__ import annotations

import dataclasses
import errno
import threading
import time
from typing import Callable

from videochat import app_files
from videochat.file_lock import locked
from videochat.app_files import write_atomically
from videochat.sessions import alternatives
from videochat.sessions.session import Session, VideoIdentity
from videochat.sessions.store import NewerSession, Opened, SessionStore, session_text


class SessionRecorder:
    def __init__(self, store: SessionStore, opened: Opened, write: Callable[[SessionRecorder, Session], None] | None = None, on_failure: Callable[[OSError], None] | None = None):
        """`write`: where snapshots go (the window's writer thread, which calls `write_snapshot`);
        None writes each at once, and `on_failure` hears of a write that failed."""
        self.store = store
        self.session = opened.session
        self.message = opened.message  # for the user: what `open` found (a file kept aside ...)
        self.writable = opened.writable
        self.path = store.path_for(opened.session.video.path)
        self._base = snapshot(opened.session)
        self._write = write
        self._on_failure = on_failure
        self._writing = threading.Lock()  # `_base` belongs to whichever thread writes

    @classmethod
    def open(cls, info, store: SessionStore | None = None, **options) -> SessionRecorder:
        """The recorder of the video `info` describes (a `VideoInfo`); `UnreadableVideo` when the file is gone."""
        store = store or SessionStore()
        return cls(store, store.open(VideoIdentity.of(info)), **options)

    # -- changes ---------------------------------------------------------------------------

    def question_asked(self, question: str) -> None:
        self.change(lambda session: session.question_asked(question))

    def add_answer(self, answer) -> int:
        """Its turn number in this recorder's session."""
        return self.change(lambda session: session.add_answer(answer))

    def forget_question(self) -> None:
        self.change(lambda session: session.forget_question())

    def change(self, change: Callable[[Session], object]) -> object:
        """Apply `change(session)` and save; returns what `change` returned."""
        result = change(self.session)
        self.save()
        return result

    def save(self) -> None:
        if not self.writable:
            return
        ours = snapshot(self.session)
        if self._write is not None:
            self._write(self, ours)
            return
        try:
            self.write_snapshot(ours)
        except OSError as error:
            if self._on_failure is None:
                raise
            self._on_failure(error)

    # -- the file ----------------------------------------------------------------------------

    def write_snapshot(self, ours: Session) -> Session:
        """Merge `ours` into the file under its lock and write the result, which is returned. Raises OSError."""
        with self._writing, locked(self.store.lock_path_for(self.path)):
            try:
                theirs = self.store.load(self.path)
            except FileNotFoundError:
                theirs = None
            except NewerSession:
                raise OSError(errno.EPERM, "a newer VideoChat wrote this conversation meanwhile; it is left as it is") from None
            except app_files.BadAppFile:  # damaged since it was read: kept, as on opening
                app_files.set_aside(self.path, "damaged")
                theirs = None
            if theirs is not None and theirs.video.size != ours.video.size:
                app_files.set_aside(self.path, "earlier")
                theirs = None
            result = merge(self._base, ours, theirs)
            result.updated_at = time.time()
            write_atomically(self.path, session_text(result))
            self._base = ours
            return result


def snapshot(session: Session) -> Session:
    """A copy that later changes of `session` do not reach (its answers, never changed, are shared)."""
    return dataclasses.replace(
        session,
        video=dataclasses.replace(session.video),
        turns=list(session.turns),
        notes=[dataclasses.replace(note) for note in session.notes],
        interrupted=dict(session.interrupted) if session.interrupted else None,
        alternatives=dict(session.alternatives),
    )


def merge(base: Session, ours: Session, theirs: Session | None) -> Session:
    """What the file should hold: `theirs` with the changes from `base` to `ours` made in it."""
    if theirs is None:
        return snapshot(ours)
    turns, answers = _merged_turns(base, ours, theirs)
    ours_marks, base_marks = (ours.in_point, ours.out_point), (base.in_point, base.out_point)
    in_point, out_point = ours_marks if ours_marks != base_marks else (theirs.in_point, theirs.out_point)
    return Session(
        video=dataclasses.replace(ours.video),
        turns=turns,
        notes=_merged_notes(base, ours, theirs),
        interrupted=_merged_question(base.interrupted, ours.interrupted, theirs.interrupted),
        in_point=in_point,
        out_point=out_point,
        created_at=min(ours.created_at, theirs.created_at),
        updated_at=max(ours.updated_at, theirs.updated_at),
        alternatives=answers,
    )


def _merged_turns(base: Session, ours: Session, theirs: Session) -> tuple[list, dict]:
    """Every turn of either, in the order first asked, and the answers of those regenerated."""
    mine = {turn.id: index for index, turn in enumerate(ours.turns)}
    before = {turn.id: turn for turn in base.turns}
    turns, answers = [], {}
    for index, turn in enumerate(theirs.turns):
        there = theirs.answers_of(index)
        both = there if turn.id not in mine else alternatives.merged(before.get(turn.id), ours.answers_of(mine[turn.id]), there)
        turns.append((both.answers[0].asked_at, both))
    known = {turn.id for turn in theirs.turns}
    turns += [(ours.answers_of(index).answers[0].asked_at, ours.answers_of(index)) for index, turn in enumerate(ours.turns) if turn.id not in known]
    turns.sort(key=lambda pair: pair[0])
    for _, both in turns:
        if len(both.answers) > 1:
            answers[both.shown_answer.id] = both
    return [both.shown_answer for _, both in turns], answers


def _merged_notes(base: Session, ours: Session, theirs: Session) -> list:
    before = {note.id: note for note in base.notes}
    mine = {note.id: note for note in ours.notes}
    other = {note.id: note for note in theirs.notes}
    merged = []
    for note_id in dict.fromkeys([*other, *mine]):
        old, here, there = before.get(note_id), mine.get(note_id), other.get(note_id)
        if here is not None and there is not None:
            merged.append(here if here != old else there)  # our edit, else theirs (edited or not)
        elif here is not None:
            if old is None or here != old:  # added here, or edited here while removed there: kept
                merged.append(here)
        elif there is not None and (old is None or there != old):  # added there, or edited there while removed here
            merged.append(there)
    return [dataclasses.replace(note) for note in merged]


def _merged_question(base: dict | None, ours: dict | None, theirs: dict | None) -> dict | None:
    if ours == base:
        return dict(theirs) if theirs else None
    if ours is not None:
        return dict(ours)
    # We cleared ours (answered or failed): another writer's question, asked since, stays.
    if theirs is not None and (base is None or theirs.get("id") != base.get("id")):
        return dict(theirs)
    return None
