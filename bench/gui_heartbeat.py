"""The GUI thread's heartbeat: a timer every `TICK_MS` whose late ticks are the stalls a user sees,
and the event-loop helpers the stall benches drive a window with (bench/ui_stall.py, stall_floor.py)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

BAR_MS = 16.0  # one frame at 60 Hz
TICK_MS = 2


class Heartbeat:
    """Records the longest gap between ticks of a GUI-thread timer, per named phase.

    With a `StallSampler`, each gap over the bar also keeps where the GUI thread was during it.
    """

    def __init__(self, sampler: StallSampler | None = None):
        from PySide6.QtCore import QTimer

        self.gaps: dict[str, float] = {}
        self.busy: dict[str, float] = {}  # per phase, the most CPU time the GUI thread used between two ticks
        self.stalls: list[dict] = []  # with a sampler: each gap over the bar, its phase and the GUI thread's stacks
        self.phase = "idle"
        self._sampler = sampler
        self._last = time.perf_counter()
        self._last_cpu = time.thread_time()
        self._switches = _context_switches() if sampler is not None else (0, 0)
        self._timer = QTimer()
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def _tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        gap = (now - self._last) * 1000
        self.busy[self.phase] = max(self.busy.get(self.phase, 0.0), (cpu - self._last_cpu) * 1000)
        if self._sampler is not None:
            stacks = self._sampler.take(self._last)
            switches, self._switches = self._switches, _context_switches()
            if gap >= BAR_MS and self.phase not in ("idle", "bench setup", "done"):
                waited, preempted = (after - before for after, before in zip(self._switches, switches))
                stacks = {f"(GUI thread CPU {(cpu - self._last_cpu) * 1000:.1f} ms; it blocked {waited}x, was preempted {preempted}x)": 0, **stacks}
                self.stalls.append({"phase": self.phase, "ms": round(gap, 1), "stacks": stacks})
        self._last, self._last_cpu = now, cpu
        self.gaps[self.phase] = max(self.gaps.get(self.phase, 0.0), gap)

    @property
    def last_tick(self) -> float:
        return self._last

    def enter(self, phase: str) -> None:
        self.phase = phase
        self._last = time.perf_counter()
        self._last_cpu = time.thread_time()
        if self._sampler is not None:
            self._switches = _context_switches()


def _context_switches() -> tuple[int, int]:
    """This thread's (voluntary, involuntary) context switches so far (Linux; else zeros): in a stall,
    the first counts the waits (for the display server, a lock, the disk), the second preemptions."""
    try:
        with open("/proc/thread-self/status") as status:
            fields = dict(line.split(":", 1) for line in status if "ctxt_switches" in line)
        return int(fields["voluntary_ctxt_switches"]), int(fields["nonvoluntary_ctxt_switches"])
    except (OSError, KeyError, ValueError):
        return 0, 0


class StallSampler:
    """Where the GUI thread is while a tick is late: its Python stack, sampled every millisecond from
    another thread once the tick is `LATE_MS` overdue (`--why`). A stack that ends in the event loop
    (`exec`) means C++ work of Qt's own: layout, painting, a plugin."""

    LATE_MS = 6.0

    def __init__(self):
        import threading

        self._gui = threading.get_ident()
        self._samples: dict[float, list[str]] = {}
        self._lock = threading.Lock()
        self.heartbeat: Heartbeat | None = None
        self._thread = threading.Thread(target=self._run, name="stall-sampler", daemon=True)

    def start(self, heartbeat: Heartbeat) -> None:
        self.heartbeat = heartbeat
        self._thread.start()

    def take(self, since: float) -> dict[str, int]:
        """The stacks sampled in the gap that began at `since`: each stack, how many samples."""
        with self._lock:
            samples = self._samples.pop(since, [])
            self._samples.clear()
        counts: dict[str, int] = {}
        for stack in samples:
            counts[stack] = counts.get(stack, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: -item[1])[:4])

    def _run(self) -> None:
        import traceback

        while True:
            time.sleep(0.001)
            since = self.heartbeat.last_tick
            if (time.perf_counter() - since) * 1000 < self.LATE_MS:
                continue
            frame = sys._current_frames().get(self._gui)
            if frame is None:
                continue
            lines = [f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in traceback.extract_stack(frame)[-7:]]
            del frame  # holding it would keep the GUI thread's locals alive (a paint event's QPainter)
            with self._lock:
                self._samples.setdefault(since, []).append(" < ".join(reversed(lines)))


def wait_for(app, signal, timeout_s: float = 120.0):
    """Run the event loop until `signal` fires; return its arguments."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop, received = QEventLoop(), []

    def on_signal(*args):
        received.append(args)
        loop.quit()

    signal.connect(on_signal)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    signal.disconnect(on_signal)
    if not received:
        raise TimeoutError(f"no {signal} within {timeout_s} s")
    return received[0]


def run_until(done, timeout_s: float = 120.0) -> None:
    """Run the event loop until `done()` is true."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    poll = QTimer(interval=10, timeout=lambda: done() and loop.quit())
    poll.start()
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    poll.stop()
    if not done():
        raise TimeoutError(f"not done within {timeout_s} s")


def run_for(seconds: float) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
