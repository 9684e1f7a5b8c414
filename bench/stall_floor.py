"""Benchmark: the longest stall this machine gives a window that does almost nothing, for scale beside bench/ui_stall.py.

The same heartbeat as `ui_stall.py` (a GUI-thread timer every 2 ms, the longest gap between two
ticks) runs in a bare window whose one label changes every 50 ms (a streamed answer's pace), first
on an idle machine, then while one busy process per core spins at the model process's niceness
(`desktop/threads/priority.py`), as the model process does when it generates on the CPU, then
while they spin at the window's own niceness (what a model process that did not yield would
cost). The window runs no code of the app's: what it measures is the machine, the display server
and Qt's own event loop. Where its longest stall is already over ui_stall's bar (16 ms), no code
of the app's can meet that bar on this machine.

    python bench/stall_floor.py                      # offscreen, 3 runs of 4 s per condition
    QT_QPA_PLATFORM=xcb xvfb-run python bench/stall_floor.py --repeats 5

Each run is a fresh process. The exit status is 0 whatever the numbers: this is a measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.gui_heartbeat import BAR_MS, TICK_MS, Heartbeat, run_for  # noqa: E402 (after the path)
from desktop.threads.priority import MODEL_PROCESS_NICENESS  # noqa: E402

SPIN = "while True: pass"
CONDITIONS = (  # (what runs beside the window, the niceness of one spinning process per core; None: none)
    ("idle", None),
    (f"every core busy at niceness {MODEL_PROCESS_NICENESS} (the model process's)", MODEL_PROCESS_NICENESS),
    ("every core busy at niceness 0 (the window's)", 0),
)


def run_once(seconds: float) -> dict:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication.instance() or QApplication([])
    label = QLabel("…")
    label.resize(640, 400)
    label.show()
    words = iter(range(10**9))
    streaming = QTimer(interval=50, timeout=lambda: label.setText(f"{label.text()} word{next(words)}"[-2000:]))
    streaming.start()
    run_for(0.5)  # the window's first paint and Qt's own start are not measured
    heartbeat = Heartbeat()
    for condition, niceness in CONDITIONS:
        spin = ["nice", "-n", str(niceness), sys.executable, "-c", SPIN]  # not preexec_fn: this process has Qt's threads
        spinners = [] if niceness is None else [subprocess.Popen(spin) for _ in range(os.cpu_count() or 1)]
        try:
            run_for(0.3)  # the spinners are running
            heartbeat.enter(condition)
            run_for(seconds)
            heartbeat.enter("done")
        finally:
            for spinner in spinners:
                spinner.kill()
                spinner.wait()
    streaming.stop()
    app.processEvents()
    return {"gaps": {c: heartbeat.gaps[c] for c, _ in CONDITIONS}, "busy": {c: heartbeat.busy[c] for c, _ in CONDITIONS}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0, help="per condition")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_once(args.seconds)))
        return 0
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    runs = []
    for _ in range(args.repeats):
        result = subprocess.run([sys.executable, __file__, "--child", "--seconds", str(args.seconds)], capture_output=True, text=True, env=env, cwd=ROOT)
        if result.returncode != 0:
            print(result.stderr, file=sys.stderr)
            return 0
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    print(f"A bare window's heartbeat every {TICK_MS} ms, {args.seconds:.0f} s per condition; longest gap in each of {len(runs)} fresh runs (platform {env['QT_QPA_PLATFORM']}, {os.cpu_count()} cores):")
    for condition, _niceness in CONDITIONS:
        gaps = [run["gaps"][condition] for run in runs]
        median = sorted(gaps)[len(gaps) // 2]
        busy = max(run["busy"][condition] for run in runs)
        print(f"  {condition:62s} " + "  ".join(f"{gap:6.1f} ms" for gap in gaps) + f"   median {median:6.1f} ms (GUI CPU in a gap at most {busy:.1f} ms; bar {BAR_MS:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
