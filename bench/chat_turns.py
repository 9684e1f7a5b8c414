"""Benchmark: the GUI thread's CPU time in each turn of the event loop while the chat shows a conversation.

The chat pane alone (480 x 760), a conversation of `--answers` turns asked one after the other:
each question's two bubbles appear, a 1,220-character answer streams in 20 pieces, then finishes
with its 8 frame chips. For each moment the GUI thread's CPU time is taken per turn of the event
loop (the call that changes the chat, with the turn that follows it; then each later turn alone),
which is what a timer on the GUI thread waits out (bench/ui_stall.py measures the wall time of the
whole app). CPU time, not wall time, so that other work on this shared machine counts less; the
first 3 answers are left out of the medians (the chat is short then).

    python bench/chat_turns.py                    # offscreen
    QT_QPA_PLATFORM=xcb xvfb-run python bench/chat_turns.py --answers 12

Measured on this 2-core machine under xcb (Xvfb), medians of 3 runs, each the median over
answers 4 to 10, ms, before (6c03a94: a QVBoxLayout column, a style sheet on the chat) and after
(the chat's column and looks, desktop/chat/column_layout.py and looks.py):

    moment                                         before   after
    a question's bubbles (the call and its turn)     7.7     4.8
    the turns after them, the longest                5.9     1.9
    a streamed piece (the longest of its turns)      7.2     6.3
    the answer's finish (the call and its turn)     14.7    11.3
    the turns after the finish, the longest          3.1     2.8

A piece costs about what it did: its time is the growing paragraph's Markdown, laid out and painted
again (streamed_text.py keeps that to one paragraph).

The exit status is 0 whatever the numbers: this is a measurement.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TEXT = ("The video shows a red ball rolling across a wooden table while a hand reaches in from the left. " * 13)[:1220]
PIECES = 20
SKIPPED = 3


def measure(answers: int) -> dict[str, list[float]]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from desktop.chat.pane import ChatPane
    from tests.support.chat_pane import make_answer

    pane = ChatPane()
    pane.resize(480, 760)
    pane.show()

    def turns(count: int) -> list[float]:
        spent = []
        for _ in range(count):
            started = time.thread_time()
            app.processEvents()
            spent.append((time.thread_time() - started) * 1000)
            time.sleep(0.002)
        return spent

    def moment(change) -> tuple[float, float]:
        started = time.thread_time()
        change()
        app.processEvents()
        first = (time.thread_time() - started) * 1000
        return first, max(turns(25))

    turns(30)
    measured: dict[str, list[float]] = {name: [] for name in ("bubbles", "after the bubbles", "piece", "finish", "after the finish")}
    step = len(TEXT) // PIECES
    for number in range(answers):
        bubbles, after = moment(lambda: pane.begin_answer(f"Question {number}?"))
        pane.set_frames_progress(8, 8)
        turns(5)
        pieces = [max(moment(lambda k=k: pane.append_answer_text(TEXT[k * step : (k + 1) * step]))) for k in range(PIECES)]
        finish, after_finish = moment(lambda: pane.finish_answer(make_answer(times=[0.5 * n for n in range(8)], indices=range(0, 80, 10), text=TEXT[: PIECES * step])))
        for name, value in zip(measured, (bubbles, after, max(pieces), finish, after_finish)):
            measured[name].append(value)
    pane.shutdown()
    return measured


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--answers", type=int, default=10)
    args = parser.parse_args(argv)
    measured = measure(max(args.answers, SKIPPED + 1))
    print(f"GUI thread CPU per turn, ms (platform {os.environ['QT_QPA_PLATFORM']}); median over answers {SKIPPED + 1} to {args.answers}, then each answer's:")
    for name, values in measured.items():
        print(f"  {name:18s} {statistics.median(values[SKIPPED:]):6.1f}   " + " ".join(f"{value:5.1f}" for value in values))
    return 0


if __name__ == "__main__":
    sys.exit(main())
