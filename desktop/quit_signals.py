"""SIGTERM and SIGINT (Ctrl+C in the terminal) quit the app as File ▸ Quit does.

The window closes, its sessions are written, the workers stop, and the exit status is 0.

Python runs a signal handler only when the interpreter next gets control, and while Qt's event
loop waits inside C++ that can be never. So `signal.set_wakeup_fd` has the C-level handler write
the signal's number to a socket, and a QSocketNotifier on the other end wakes the event loop at
once; the quit then runs as an ordinary slot, not inside a signal handler. A periodic timer would
also hand the interpreter control, but it wakes an idle app every few hundred milliseconds for its
whole life and still answers only at the next tick.
"""

from __future__ import annotations

import signal
import socket
from typing import Callable

from PySide6.QtCore import QObject, QSocketNotifier

QUIT_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _wake_only(_signum, _frame) -> None:
    """The Python-level handler: the wake-up socket already carries the signal to the event loop."""


class QuitOnSignals(QObject):
    """While installed, SIGINT and SIGTERM call `quit` on the GUI thread. Make it on the main thread."""

    def __init__(self, quit: Callable[[], None], parent: QObject | None = None):
        super().__init__(parent)
        self._quit = quit
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)  # set_wakeup_fd requires it: a signal handler never blocks
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._previous_handlers = {number: signal.signal(number, _wake_only) for number in QUIT_SIGNALS}
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_wake)
        self._installed = True

    def _on_wake(self) -> None:
        try:
            numbers = self._reader.recv(256)
        except (BlockingIOError, InterruptedError):
            return
        # Every signal Python handles writes its number here (SIGCHLD of a subprocess, say): only ours quit.
        if any(number in QUIT_SIGNALS for number in numbers):
            self._quit()

    def uninstall(self) -> None:
        """Give the signals their previous handlers back (at exit; safe to call twice)."""
        if not self._installed:
            return
        self._installed = False
        self._notifier.setEnabled(False)
        for number, handler in self._previous_handlers.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)
        signal.set_wakeup_fd(self._previous_fd)
        self._reader.close()
        self._writer.close()
