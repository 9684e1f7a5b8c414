"""Benchmark: `videochat batch --engine --concurrency N` against a stand-in that takes a fixed time per answer.

The stand-in (tests/support/engine_standin.py) checks every request as vLLM would (each frame decoded)
and answers after `--seconds` (200 ms). With N requests in flight the best possible rate is N / seconds
answers a second; the batch's own work (sampling, decoding and JPEG-encoding each clip once, writing and
syncing each result line) must keep up. Goal: ratio >= 0.9 at N = 8 (40 answers/s).

    python bench/engine.py                    # 8 in flight, 10 clips x 8 questions, 200 ms an answer
    python bench/engine.py --concurrency 16 --clips 20

The stand-in runs in its own process, as an engine does (in this one its JPEG decoding would compete
with the batch for the interpreter lock), and takes its fixed time per answer from each request's
arrival, its own checking included. The clock runs from the batch's start (clips already written) to its end, through the CLI's own code
path (`videochat.cli.commands.main`), so the plan, the key lookup and the model list are included.

TODO (lead): the other half of issue 15's bench: time to first token through `videochat serve` vs
in-process on the same tiny model (goal: <= 20 ms added). It needs the serve engineer's server
(`videochat/engines/server*.py`): start it on a tiny checkpoint (tests/support/standins), ask one
question through `EngineClient.stream` and through `VideoChat.ask`, and report both medians here.

The exit status is 0 whatever the numbers: this is a measurement.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `python bench/engine.py` from anywhere, without PYTHONPATH

from tests.support.clips import write_clip  # noqa: E402
from videochat.batch.run import read_results  # noqa: E402
from videochat.cli.commands import main  # noqa: E402


def run(concurrency: int, clips: int, questions: int, seconds: float, frames: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch, "clips")
        folder.mkdir()
        for number in range(clips):
            write_clip(folder / f"clip{number:03d}.mp4", frames=90, width=640, height=360)
        questions_file = Path(scratch, "questions.txt")
        questions_file.write_text("".join(f"Question {n}: what happens?\n" for n in range(questions)))
        out = Path(scratch, "results.jsonl")
        environment = {**os.environ, "PYTHONPATH": str(ROOT)}
        standin = subprocess.Popen([sys.executable, "-m", "tests.support.engine_standin", "--seconds", str(seconds)], cwd=ROOT,
                                   env=environment, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            url = standin.stdout.readline().strip()
            argv = ["batch", str(folder), "--questions", str(questions_file), "--out", str(out), "--engine", url,
                    "--model", "OpenGVLab/InternVL2-8B", "--frames", str(frames), "--concurrency", str(concurrency)]
            started = time.perf_counter()
            with contextlib.redirect_stderr(io.StringIO()):
                status = main(argv)
            elapsed = time.perf_counter() - started
            most = int(standin.communicate("", timeout=30)[0].split()[0])
        finally:
            if standin.poll() is None:
                standin.kill()
        answers = sum(record["status"] == "ok" for record in read_results(out))
    rate = answers / elapsed
    best = concurrency / seconds
    print(f"batch --engine --concurrency {concurrency}: {answers} answers ({clips} clips x {questions} questions, {frames} frames) "
          f"in {elapsed:.2f} s, exit {status}")
    print(f"  most requests in flight at the stand-in: {most}")
    print(f"  {rate:.1f} answers/s; best possible {concurrency}/{seconds:g} s = {best:.1f}/s; ratio {rate / best:.2f} (goal >= 0.9)")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--clips", type=int, default=10)
    parser.add_argument("--questions", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=0.2, help="the stand-in's time per answer")
    parser.add_argument("--frames", type=int, default=8)
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    run(args.concurrency, args.clips, args.questions, args.seconds, args.frames)
