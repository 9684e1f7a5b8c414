"""Installing a runtime from the window: `videochat.runtimes.install.install` on a thread of its own.

Its progress, and how it ended (installed, cancelled, failed), arrive as signals on the GUI thread.
Cancel ends pip within a second; the install then removes its temporary folder on that thread,
so quitting waits for it a short while only: a folder left by a quit is removed by the next install.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal


class RuntimeInstallWorker(QObject):
    sig_progress = Signal(str, float)  # what is being done, fraction of the steps
    sig_installed = Signal(str)  # the runtime's name
    sig_cancelled = Signal()
    sig_failed = Signal(object)  # the exception (videochat.errors.RuntimeInstallError says what to do)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, name: str) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(name,), name="videochat-runtime-install", daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        self._stop.set()

    def shutdown(self, timeout_s: float = 2.0) -> bool:
        """Cancel and wait up to `timeout_s` for the thread (on quit); whether it ended."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        return not self.running

    def _run(self, name: str) -> None:
        from videochat.errors import Cancelled
        from videochat.runtimes.install import install

        try:
            install(name, lambda what, fraction: self._emit(self.sig_progress, what, fraction), self._stop.is_set)
        except Cancelled:
            self._emit(self.sig_cancelled)
        except Exception as error:  # every failure reaches the dialog, none is lost on this thread
            self._emit(self.sig_failed, error)
        else:
            self._emit(self.sig_installed, name)

    @staticmethod
    def _emit(signal, *args) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the window is gone (quit): nobody is listening
            pass
