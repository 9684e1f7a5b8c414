"""Short jobs off the GUI thread (probing a file), with the result delivered back on the GUI thread.

A plain QThreadPool job rather than superqt's workers: importing superqt pulls in all of its
widgets and qtpy, which tripled the window's start-up time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

if TYPE_CHECKING:
    import queue


class _Relay(QObject):
    sig_done = Signal(object)


class _Job(QRunnable):
    def __init__(self, function: Callable[..., Any], args: tuple, relay: _Relay):
        super().__init__()
        self._function, self._args, self._relay = function, args, relay

    def run(self) -> None:
        # `function` must not raise: it returns its failure as a value (see the callers).
        result = self._function(*self._args)
        try:
            self._relay.sig_done.emit(result)
        except RuntimeError:  # the app quit while this ran (the relay is gone): nobody waits for the result
            pass


_running: set[_Relay] = set()  # relays live until their job reports


def run_in_background(function: Callable[..., Any], *args: Any, receiver: Callable[[Any], None], pool: QThreadPool | None = None) -> None:
    """Run `function(*args)` on `pool` (default: Qt's global pool); `receiver(result)` runs on the GUI thread.

    `receiver` should be a method of a QObject: if that object is gone by then, nothing is called.
    """
    relay = _Relay()
    _running.add(relay)
    relay.sig_done.connect(receiver)
    relay.sig_done.connect(lambda _result: _running.discard(relay))
    (pool or QThreadPool.globalInstance()).start(_Job(function, args, relay))


def drain(requests: queue.Queue) -> None:
    """Drop every request still waiting in `requests` (on shutdown)."""
    import queue  # here: the model and download workers that use this are not part of the start-up

    while True:
        try:
            requests.get_nowait()
        except queue.Empty:
            return
