"""Downloads off the GUI thread: one at a time, in order, each pausable; progress arrives as signals.

A Python thread (like the model thread) runs `plan.plan` then `downloads.download` for each
queued model. Pause and cancel set a flag that the download reads between 1 MiB chunks, so they
take effect at once; either way the partial file stays and the next start resumes from it
(cancel also drops the model from the queue). The thread is a daemon: quitting the app mid-file
loses nothing, since every byte written stays for the next time.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from desktop.threads.background import drain


@dataclass(frozen=True)
class DownloadJob:
    model: str  # catalog name or repo id
    update: bool = False  # to the hub's newest commit instead of the recorded one


class DownloadWorker(QObject):
    sig_started = Signal(str)  # model
    sig_planned = Signal(str, object)  # model, DownloadPlan
    sig_progress = Signal(str, object)  # model, DownloadProgress
    sig_finished = Signal(str)  # model
    sig_stopped = Signal(str, bool)  # model, True when paused (False: cancelled)
    sig_failed = Signal(str, object)  # model, the exception

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._jobs: queue.Queue[DownloadJob | None] = queue.Queue()
        self._stop = threading.Event()
        self._paused = False
        self._current: str | None = None
        self._queued: list[str] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def current(self) -> str | None:
        return self._current

    def queued(self) -> list[str]:
        with self._lock:
            return list(self._queued)

    def start_download(self, model: str, update: bool = False) -> None:
        with self._lock:
            if model == self._current or model in self._queued:
                return
            self._queued.append(model)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="downloads", daemon=True)
            self._thread.start()
        self._jobs.put(DownloadJob(model, update))

    def pause(self) -> None:
        """Stop the running download, keeping it resumable (start_download resumes it)."""
        self._paused = True
        self._stop.set()

    def cancel(self, model: str) -> None:
        """Drop `model` from the queue, or stop it if it runs; its partial files stay on disk."""
        with self._lock:
            if model in self._queued:
                self._queued.remove(model)
                return
        if model == self._current:
            self._paused = False
            self._stop.set()

    def shutdown(self) -> None:
        self._closed = True  # from now on the thread reports nothing: the window may be gone
        drain(self._jobs)
        with self._lock:
            self._queued.clear()
        self._stop.set()
        self._jobs.put(None)

    def _run(self) -> None:
        from videochat.models import downloads, plan as planning
        from videochat.errors import Cancelled

        while (job := self._jobs.get()) is not None:
            with self._lock:
                if job.model not in self._queued:
                    continue  # cancelled while waiting
                self._queued.remove(job.model)
                self._current = job.model
            self._stop.clear()
            self._paused = False
            self._emit(self.sig_started, job.model)
            try:
                plan = planning.plan(job.model, update=job.update)
                self._emit(self.sig_planned, job.model, plan)
                downloads.download(
                    plan,
                    progress=lambda progress, model=job.model: self._emit(self.sig_progress, model, progress),
                    should_stop=self._stop.is_set,
                )
            except Cancelled:
                self._emit(self.sig_stopped, job.model, self._paused)
            except Exception as error:  # every failure goes to the dialog, with its own message
                self._emit(self.sig_failed, job.model, error)
            else:
                self._emit(self.sig_finished, job.model)
            finally:
                self._current = None

    def _emit(self, signal, *args) -> None:
        if not self._closed:
            signal.emit(*args)
