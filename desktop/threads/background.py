"""Short jobs off the GUI thread (probing a file, reading the cache), reported back on the GUI thread.

`run_job` mirrors superqt's worker signals: the job returns or raises, and `returned(result)` or
`errored(exception)`, then `finished()`, run on the GUI thread. superqt itself is not imported:
its import pulls in all of its widgets and qtpy, which tripled the window's start-up time.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal

if TYPE_CHECKING:
    import queue


class _Relay(QObject):
    """Lives on the GUI thread; its signals, emitted from the pool thread, are delivered there."""

    sig_returned = Signal(object)
    sig_errored = Signal(object)
    sig_finished = Signal()


class _Job(QRunnable):
    def __init__(self, function: Callable[..., Any], args: tuple, relay: _Relay):
        super().__init__()
        self._function, self._args, self._relay = function, args, relay

    def run(self) -> None:
        _call_and_report(self._function, self._args, self._relay)


def _call_and_report(function: Callable[..., Any], args: tuple, relay: _Relay) -> None:
    try:
        result = function(*args)
    except Exception as error:  # delivered to `errored`, never lost on the pool thread
        _emit(relay.sig_errored, error)
    else:
        _emit(relay.sig_returned, result)
    _emit(relay.sig_finished)


def _emit(signal, *args) -> None:
    if _stopped:  # the app is quitting: its relays may be torn down under this thread
        return
    try:
        signal.emit(*args)
    except RuntimeError:  # the app quit while this ran (the relay is gone): nobody waits for it
        pass


_running: set[_Relay] = set()  # relays live until their job has finished
_stopped = False  # set as the app quits: jobs still running report nothing


def stop_reporting() -> None:
    """As the app quits: a job that ends from now on reports nothing. One still running then (a model
    manager's package check, seconds in a subprocess) emitted on a relay that Python's exit was tearing
    down, and the process ended with a segmentation fault instead of status 0."""
    global _stopped
    _stopped = True


def _unexpected(error: Exception) -> None:
    """A job without `errored` that raised: shown as any uncaught exception is (desktop.errors)."""
    sys.excepthook(type(error), error, error.__traceback__)


def run_job(
    function: Callable[..., Any],
    *args: Any,
    returned: Callable[[Any], None],
    errored: Callable[[Exception], None] | None = None,
    finished: Callable[[], None] | None = None,
    pool: QThreadPool | None = None,
) -> None:
    """Run `function(*args)` on `pool` (default: Qt's global pool).

    On the GUI thread, in this order: `returned(result)` or `errored(exception)`, then `finished()`.
    Receivers that are methods of a QObject are not called once that object is gone. Without
    `errored`, an exception goes to `sys.excepthook` (the unexpected-error dialog in the app).
    """
    relay = _relay(returned, errored, finished)
    (pool or QThreadPool.globalInstance()).start(_Job(function, args, relay))


def run_on_own_thread(
    function: Callable[..., Any],
    *args: Any,
    returned: Callable[[Any], None],
    errored: Callable[[Exception], None] | None = None,
    name: str = "videochat-job",
) -> None:
    """As `run_job`, on a daemon thread of its own: for a job that may wait on the network for seconds
    (a server's listing). On a pool it would hold a thread that opening a video waits for (Qt's pool has
    one per core), and the app's exit, which waits for the pool, until it timed out."""
    import threading

    relay = _relay(returned, errored, None)
    threading.Thread(target=_call_and_report, args=(function, args, relay), name=name, daemon=True).start()


def _relay(returned, errored, finished) -> _Relay:
    relay = _Relay()
    _running.add(relay)
    queued = Qt.ConnectionType.QueuedConnection  # on the GUI thread even for plain functions
    relay.sig_returned.connect(returned, queued)
    relay.sig_errored.connect(errored or _unexpected, queued)
    if finished is not None:
        relay.sig_finished.connect(finished, queued)
    relay.sig_finished.connect(lambda: _running.discard(relay), queued)
    return relay


def drain(requests: queue.Queue) -> None:
    """Drop every request still waiting in `requests` (on shutdown)."""
    import queue  # here: the model and download workers that use this are not part of the start-up

    while True:
        try:
            requests.get_nowait()
        except queue.Empty:
            return
