"""run_job: a pool job whose result or exception, then its end, reach the GUI thread; run_on_own_thread: the same
on a daemon thread, which neither Qt's pool nor the app's exit waits for."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from PySide6.QtCore import QObject, QThreadPool

from desktop.threads.background import run_job, run_on_own_thread
from tests.support import REPO_ROOT

WAIT_MS = 5_000


class Receiver(QObject):
    def __init__(self, events: list):
        super().__init__()
        self.events = events

    def on_returned(self, result) -> None:
        self.events.append(("returned", result))


def test_the_result_then_finished_reach_the_gui_thread_in_order(qtbot):
    events = []

    def returned(result):
        events.append(("returned", result, threading.current_thread() is threading.main_thread()))

    def finished():
        events.append(("finished", threading.current_thread() is threading.main_thread()))

    run_job(lambda a, b: a + b, 2, 3, returned=returned, finished=finished)
    qtbot.waitUntil(lambda: len(events) == 2, timeout=WAIT_MS)
    assert events == [("returned", 5, True), ("finished", True)]


def test_a_raising_job_delivers_the_exception_object_then_finished(qtbot):
    error = ValueError("the file went away")
    events = []

    def fail():
        raise error

    run_job(fail, returned=lambda result: events.append("returned"), errored=events.append, finished=lambda: events.append("finished"))
    qtbot.waitUntil(lambda: len(events) == 2, timeout=WAIT_MS)
    assert events == [error, "finished"]


def test_a_raising_job_without_errored_goes_to_the_excepthook(qtbot, monkeypatch):
    caught = []
    monkeypatch.setattr("sys.excepthook", lambda kind, value, trace: caught.append(value))
    finished = []

    def fail():
        raise KeyError("gone")

    run_job(fail, returned=lambda result: None, finished=lambda: finished.append(True))
    qtbot.waitUntil(lambda: bool(finished), timeout=WAIT_MS)
    assert len(caught) == 1 and isinstance(caught[0], KeyError)


def test_a_receiver_whose_object_is_gone_is_not_called(qtbot):
    events = []
    release = threading.Event()
    receiver = Receiver(events)
    finished = []
    run_job(lambda: release.wait(WAIT_MS / 1000) and "late", returned=receiver.on_returned, finished=lambda: finished.append(True))
    receiver.deleteLater()
    qtbot.waitUntil(lambda: not _alive(receiver), timeout=WAIT_MS)
    release.set()
    qtbot.waitUntil(lambda: bool(finished), timeout=WAIT_MS)
    assert events == []


def test_jobs_run_on_the_pool_given(qtbot):
    pool = QThreadPool()
    release = threading.Event()
    results = []
    run_job(lambda: release.wait(WAIT_MS / 1000), returned=results.append, pool=pool)
    assert pool.activeThreadCount() == 1
    release.set()
    qtbot.waitUntil(lambda: bool(results), timeout=WAIT_MS)
    assert results == [True] and pool.waitForDone(WAIT_MS)


def test_a_job_on_its_own_thread_reports_on_the_gui_thread_and_holds_no_pool_thread(qtbot):
    release = threading.Event()
    events = []
    busy_before = QThreadPool.globalInstance().activeThreadCount()
    run_on_own_thread(lambda: release.wait(WAIT_MS / 1000) and threading.current_thread().name, name="videochat-test-job",
                      returned=lambda name: events.append((name, threading.current_thread() is threading.main_thread())))
    assert QThreadPool.globalInstance().activeThreadCount() == busy_before
    release.set()
    qtbot.waitUntil(lambda: bool(events), timeout=WAIT_MS)
    assert events == [("videochat-test-job", True)]


EXITS = """
import sys, time
from PySide6.QtCore import QCoreApplication, QTimer
from desktop.threads import background

app = QCoreApplication([])
run = background.run_on_own_thread if sys.argv[1] == "own" else background.run_job
run(time.sleep, 60, returned=print)  # a server that never answers
QTimer.singleShot(50, app.quit)
app.exec()
background.stop_reporting()
print("quit", flush=True)
"""


def test_the_app_exits_at_once_with_a_job_on_its_own_thread_still_waiting():
    result = subprocess.run([sys.executable, "-c", EXITS, "own"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=20,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})  # a pool job would hold the exit for 60 s
    assert result.returncode == 0 and result.stdout == "quit\n", result.stderr


def _alive(obj: QObject) -> bool:
    from shiboken6 import isValid

    return isValid(obj)


STOPPED = """
import threading, time
from PySide6.QtCore import QCoreApplication, QThreadPool
from desktop.threads import background

app = QCoreApplication([])
called, emitting = [], []
release = threading.Event()
pool = QThreadPool()
real_emit = background._emit
background._emit = lambda signal, *args: (emitting.append(signal), real_emit(signal, *args))
background.run_job(lambda: release.wait(10), returned=called.append, errored=called.append, finished=lambda: called.append("finished"))
background.run_job(release.wait, 10, returned=called.append, pool=pool)
background.stop_reporting()  # the app quits while both still run
release.set()
pool.waitForDone(10000)
QThreadPool.globalInstance().waitForDone(10000)
for _ in range(20):
    app.processEvents()
    time.sleep(0.01)
print("called", called, "emitted", len(emitting))
"""


def test_jobs_that_end_after_the_app_stops_reporting_emit_nothing():
    # A process of its own: stopping is for good.
    result = subprocess.run(
        [sys.executable, "-c", STOPPED], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    )
    assert result.returncode == 0, result.stderr
    assert "called [] emitted 4" in result.stdout  # each job reached its two emits (its result, its end), and none went out
