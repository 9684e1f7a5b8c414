"""The sessions of the videos opened in this run, saved after every change without the GUI waiting.

Each video's session is recorded by the core's `SessionRecorder`, as `videochat ask` records its
own. Sessions live on the GUI thread, where the panes change them; each change takes a snapshot
there (cheap) and hands it to one writer thread, which merges it into the file under the file's
lock (so turns that `videochat ask` adds meanwhile stay), keeping only the newest snapshot of a
session still waiting. A session is read from disk on a pool thread when its video opens; changes
made before it arrives wait for it, and are left out of the session `sig_opened` shows (the chat
drew them as they came). The first question after a video opens goes on from its saved
conversation (`continued`): the saved turns and the frames they were about travel with the request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Signal

from desktop.threads.background import run_job
from videochat.snapshot_writer import SnapshotWriter


def _key(path) -> str:
    return str(Path(path).resolve())


def _open_job(key: str, store, info, writer) -> tuple:
    """On a pool thread: (key, SessionRecorder, the store). The sessions module (numpy, the video
    readers) is imported here the first time, not on the GUI thread; so is the store made."""
    from videochat.errors import VideoChatError
    from videochat.sessions.recorder import SessionRecorder
    from videochat.sessions.session import Session, VideoIdentity
    from videochat.sessions.store import Opened, SessionStore

    store = store or SessionStore()
    writer.start()  # here, not on the GUI thread at the first save: starting a thread waits for it to run
    writer.flush(5.0)  # what this window still has to write lands first: the read sees it, and whatever else wrote since

    try:
        return key, SessionRecorder.open(info, store, write=writer.put), store
    except VideoChatError as error:  # the file went away since it was probed
        message = f"The conversation cannot be saved: {error}"
    except Exception as error:  # never lose the app over a session file: start afresh, unsaved
        message = f"The saved conversation could not be opened ({error}); this one will not be saved."
    identity = VideoIdentity(key, 0, float(info.duration), float(info.fps), int(info.frame_count))
    return key, SessionRecorder(store, Opened(Session(identity), message, writable=False), write=writer.put), store


def _as_read(recorder):
    """A copy of the session as it was read, for the chat to draw: the changes this window made while it
    was read are on the screen already (an answer that finished meanwhile would otherwise be drawn twice)."""
    from videochat.sessions.recorder import snapshot  # imported by the read

    return snapshot(recorder.session)


class SessionKeeper(QObject):
    # (Session, message or None): the session of the video just opened, as read (`_as_read`); `current()` has its changes since
    sig_opened = Signal(object, object)
    sig_save_failed = Signal(str)

    def __init__(self, parent: QObject | None = None, store=None):
        super().__init__(parent)
        self._store = store  # a videochat.sessions.store.SessionStore; None: the default one, made by the first read
        self._recorders: dict = {}  # resolved video path -> SessionRecorder
        self._waiting: dict[str, list[Callable]] = {}  # changes made while the session was being read
        self._current: str | None = None
        self._writer = SnapshotWriter("videochat-sessions", lambda recorder, snapshot: recorder.write_snapshot(snapshot), self._on_save_failed)

    def _on_save_failed(self, error: Exception) -> None:  # on the writer's thread; the signal crosses to the GUI thread
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        self.sig_save_failed.emit(f"The conversation could not be saved ({reason}); it is kept in this window and saved again with the next change.")

    # -- opening --------------------------------------------------------------------------

    def open(self, info) -> None:
        """Read the session of the video just opened; `sig_opened` follows.

        Read again each time the video opens, so that turns added meanwhile by `videochat ask`,
        or a new file at the same path, are seen; changes made until then wait for it.
        """
        key = _key(info.path)
        self._current = key
        if key not in self._waiting:
            self._waiting[key] = []
            self._recorders.pop(key, None)
            run_job(_open_job, key, self._store, info, self._writer, returned=self._on_read)

    def _on_read(self, result: tuple) -> None:
        key, recorder, store = result
        self._store = store  # the one it was given, or the one the first read made
        self._recorders[key] = recorder
        waiting = self._waiting.pop(key, [])
        shown = _as_read(recorder) if waiting else recorder.session
        for change in waiting:
            recorder.change(change)
        if key == self._current:
            if shown is not recorder.session:  # whether its question still waits for an answer is known only now
                shown.interrupted = recorder.session.interrupted
            self.sig_opened.emit(shown, recorder.message)

    def current(self):
        """The session of the video open in the player (None until it has been read)."""
        recorder = self._recorders.get(self._current) if self._current else None
        return recorder.session if recorder is not None else None

    def continued(self, request, ref, info=None):
        """The first question after its video opened, as (request, note): going on from the video's saved
        conversation (its turns as the history, on its frames), or starting afresh with the reason to
        show (None when nothing is saved). `ref`: the loaded model; `info`: the video as probed now, whose
        frame times the saved ones must match (the model process checks them again when it reads them)."""
        import dataclasses

        from videochat.continuing import NEW, frames_changed, saved_conversation, scope_change
        from videochat.families import get_family

        afresh = dataclasses.replace(request, new_conversation=True)
        recorder = self._recorders.get(_key(request.video_path))
        saved = saved_conversation(recorder.session.turns) if recorder is not None and ref is not None else None
        if saved is None:
            return afresh, None
        reason = scope_change(saved, ref, request.frames, request.segment)
        changed = frames_changed(list(saved.indices), list(saved.times), info, get_family(ref.family)) if reason is None and info is not None else None
        if reason is not None or changed is not None:
            return afresh, reason or f"{NEW}: {changed}."
        return dataclasses.replace(afresh, history=saved.turns, frame_indices=saved.indices, frame_times=saved.times), None

    # -- changes --------------------------------------------------------------------------

    def change(self, video_path, change: Callable):
        """Apply `change(session)` to this video's session and save it (after it is read, if it is
        not yet); returns what `change` returned, or None when it waits for the read."""
        key = _key(video_path)
        recorder = self._recorders.get(key)
        if recorder is not None:
            return recorder.change(change)
        if key in self._waiting:
            self._waiting[key].append(change)
        return None

    def record_question(self, video_path, question: str) -> None:
        self.change(video_path, lambda session: session.question_asked(question))

    def record_answer(self, video_path, answer) -> int | None:
        """Add a finished answer; returns its turn number, if the session was already here."""
        return self.change(video_path, lambda session: session.add_answer(answer))

    def set_in_out(self, video_path, in_point, out_point) -> None:
        """Keep the marked segment (`videochat.sessions.session.Mark`s, or None) with the video's conversation."""
        self.change(video_path, lambda session: session.set_in_out(in_point, out_point))

    def forget_question(self, video_path) -> None:
        """The question got no answer (an error the chat shows): nothing to bring back."""
        self.change(video_path, lambda session: session.forget_question())

    # -- closing --------------------------------------------------------------------------

    def flush(self, timeout_s: float = 2.0) -> bool:
        """Wait until every change is on disk (at quit); False if the writer did not finish in time."""
        return self._writer.flush(timeout_s)
