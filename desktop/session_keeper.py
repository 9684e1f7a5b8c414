"""The sessions of the videos opened in this run, saved after every change without the GUI waiting.

Sessions live on the GUI thread, where the panes change them; each change is turned into the
file's text there (small) and handed to one writer thread, which writes the files in order,
keeping only the newest text of a file still waiting. A session is read from disk on a pool
thread when its video opens; changes made before it arrives wait for it.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Signal

from desktop.background import run_in_background


def _key(path) -> str:
    return str(Path(path).resolve())


def _open_job(key: str, store, info, writer) -> tuple:
    """On a pool thread: (key, Opened, the store). The sessions module (numpy, the video readers)
    is imported here the first time, not on the GUI thread; so is the store made."""
    from videochat.sessions import Opened, Session, SessionStore, VideoIdentity

    store = store or SessionStore()

    writer.flush(5.0)  # what this window still has to write lands first: the read sees it, and whatever else wrote since

    try:
        identity = VideoIdentity.of(info)
    except OSError as error:  # the file went away since it was probed
        identity = VideoIdentity(key, 0, float(info.duration), float(info.fps), int(info.frame_count))
        return key, Opened(Session(identity), f"The conversation cannot be saved: {error.strerror}.", writable=False), store
    try:
        return key, store.open(identity), store
    except Exception as error:  # never lose the app over a session file: start afresh, unsaved
        return key, Opened(Session(identity), f"The saved conversation could not be opened ({error}); this one will not be saved.", writable=False), store


class SessionKeeper(QObject):
    sig_opened = Signal(object, object)  # (Session, message or None): the session of the video just opened
    sig_save_failed = Signal(str)

    def __init__(self, parent: QObject | None = None, store=None):
        super().__init__(parent)
        self._store = store  # a videochat.sessions.SessionStore; None: the default one, made by the first read
        self._sessions: dict = {}  # resolved video path -> Session
        self._read_only: set[str] = set()
        self._waiting: dict[str, list[Callable]] = {}  # changes made while the session was being read
        self._current: str | None = None
        self._writer = _Writer(self.sig_save_failed.emit)

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
            self._sessions.pop(key, None)
            self._read_only.discard(key)
            run_in_background(_open_job, key, self._store, info, self._writer, receiver=self._on_read)

    def _on_read(self, result: tuple) -> None:
        key, opened, store = result
        self._store = store  # the one it was given, or the one the first read made
        self._sessions[key] = opened.session
        if not opened.writable:
            self._read_only.add(key)
        for change in self._waiting.pop(key, []):
            change(opened.session)
        if key == self._current:
            self.sig_opened.emit(opened.session, opened.message)

    def current(self):
        """The session of the video open in the player (None until it has been read)."""
        return self._sessions.get(self._current) if self._current else None

    # -- changes --------------------------------------------------------------------------

    def change(self, video_path, change: Callable) -> None:
        """Apply `change(session)` to this video's session and save it (after it is read, if it is not yet)."""
        key = _key(video_path)
        session = self._sessions.get(key)
        if session is not None:
            change(session)
            self._save(key)
        elif key in self._waiting:
            self._waiting[key].append(lambda s: (change(s), self._save(key)))

    def record_question(self, video_path, question: str) -> None:
        self.change(video_path, lambda session: session.question_asked(question))

    def record_answer(self, video_path, answer) -> int | None:
        """Add a finished answer; returns its turn number, if the session was already here."""
        key = _key(video_path)
        self.change(video_path, lambda session: session.add_answer(answer))
        session = self._sessions.get(key)
        return len(session.turns) - 1 if session is not None else None

    def _save(self, key: str) -> None:
        if key in self._read_only:
            return
        # The text is made here, on the GUI thread: the writer never touches a session the panes change.
        self._writer.put(*self._store.file_for(self._sessions[key]))  # a session is here only after a read set the store

    # -- closing --------------------------------------------------------------------------

    def flush(self, timeout_s: float = 2.0) -> bool:
        """Wait until every change is on disk (at quit); False if the writer did not finish in time."""
        return self._writer.flush(timeout_s)


class _Writer:
    """One daemon thread writing session files in order; a file's newer text replaces one still waiting."""

    def __init__(self, report_failure: Callable[[str], None]):
        self._report_failure = report_failure
        self._pending: dict[Path, str] = {}
        self._lock = threading.Lock()
        self._wake = queue.Queue()
        self._idle = threading.Event()
        self._idle.set()
        self._thread: threading.Thread | None = None

    def put(self, path: Path, text: str) -> None:
        with self._lock:
            self._pending[path] = text
            self._idle.clear()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="videochat-sessions", daemon=True)
            self._thread.start()
        self._wake.put(None)

    def flush(self, timeout_s: float) -> bool:
        return self._idle.wait(timeout_s)

    def _run(self) -> None:
        from videochat.sessions import write_atomically

        while True:
            self._wake.get()
            while True:
                with self._lock:
                    if not self._pending:
                        self._idle.set()
                        break
                    path = next(iter(self._pending))
                    text = self._pending.pop(path)
                try:
                    write_atomically(path, text)
                except Exception as error:  # the thread must live on: the next change saves again
                    reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
                    self._report_failure(f"The conversation could not be saved ({reason}); it is kept in this window and saved again with the next change.")
