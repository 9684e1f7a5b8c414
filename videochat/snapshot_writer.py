"""One daemon thread that writes snapshots in order, off the caller's thread; a newer snapshot under a key replaces one still waiting.

The window's saves go through it (the settings file: `settings.SettingsWriter`; each video's session:
`desktop/session/keeper.py`), so the GUI thread never pays a file's fsync. `flush` waits until every
snapshot put is written or has failed (at quit, or before a read that must see them). A failed write
is passed to `report_failure` on the writer's thread, and the thread lives on: the next put writes again.
"""

from __future__ import annotations

import threading
from typing import Callable, Hashable


class SnapshotWriter:
    def __init__(self, name: str, write: Callable[[Hashable, object], None], report_failure: Callable[[Exception], None] | None = None):
        self._name = name
        self._write = write
        self._report_failure = report_failure
        self._pending: dict = {}  # key -> its newest snapshot not yet written, in the order the keys were first put
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._idle = threading.Event()
        self._idle.set()
        self._thread: threading.Thread | None = None

    def put(self, key: Hashable, snapshot: object) -> None:
        """Hand `snapshot` to the writer's thread and return at once."""
        with self._lock:
            self._pending[key] = snapshot
            self._idle.clear()
            self._wake.notify()
        self.start()

    def start(self) -> None:
        """Start the writer's thread now, from a thread that may wait (else the first `put` starts it):
        `Thread.start` returns only once the new thread runs, which on a busy machine takes a while.
        That wait is outside the lock: a `put` meanwhile returns at once, and the thread finds its snapshot."""
        with self._lock:
            if self._thread is not None:
                return
            thread = self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        try:
            thread.start()
        except BaseException:  # no thread could be made: the next put or start tries again
            with self._lock:
                self._thread = None
            raise

    def flush(self, timeout_s: float = 2.0) -> bool:
        """Wait until every snapshot put is written (or failed); False if the writer did not finish in time."""
        return self._idle.wait(timeout_s)

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._pending:
                    self._idle.set()
                    self._wake.wait()
                key = next(iter(self._pending))
                snapshot = self._pending.pop(key)
            try:
                self._write(key, snapshot)
            except Exception as error:  # the thread lives on: the next put writes again
                if self._report_failure is not None:
                    self._report_failure(error)
