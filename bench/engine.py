"""Benchmark: `videochat batch --engine --concurrency N` against a stand-in that takes a fixed time per answer.

The stand-in (tests/support/engine_standin.py) checks every request as vLLM would (each frame decoded)
and answers after `--seconds` (200 ms). With N requests in flight the best possible rate is N / seconds
answers a second; the batch's own work (sampling, decoding and JPEG-encoding each clip once, writing and
syncing each result line) must keep up. Goal: ratio >= 0.9 at N = 8 (40 answers/s).

    python bench/engine.py                    # 8 in flight, 10 clips x 8 questions, 200 ms an answer
    python bench/engine.py --concurrency 16 --clips 20
    python bench/engine.py --ttft              # only the time to first token, serve vs in-process

The stand-in runs in its own process, as an engine does (in this one its JPEG decoding would compete
with the batch for the interpreter lock), and takes its fixed time per answer from each request's
arrival, its own checking included. The clock runs from the batch's start (clips already written) to its end, through the CLI's own code
path (`videochat.cli.commands.main`), so the plan, the key lookup and the model list are included.

With `--ttft` (or by default after the batch): time to first token through `videochat serve` vs
in-process, on the same tiny LLaVA-OneVision checkpoint and clip, greedy, 16 tokens. Both load the
model once; then one first question (frames decoded, prompt read) and `--follow-ups` follow-ups
(frames and key/value cache reused on both sides); the server is asked through `EngineClient.stream`
with the video as `file://` and the history as OpenAI messages, as the window and `ask --engine` do.
Goal: <= 20 ms added per answer.

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


FIRST = "What happens in the video?"
FOLLOW_UPS = ["What colour is the background?", "And then?", "How many squares are lit?", "Is anything moving?", "Describe the last frame."]


def first_piece_seconds(pieces) -> tuple[float, str]:
    """Seconds until `pieces` yields its first piece (the clock starts when it is asked for), and the whole text."""
    started = time.perf_counter()
    iterator = iter(pieces)
    first = next(iterator)
    elapsed = time.perf_counter() - started
    return elapsed, first + "".join(iterator)


def ttft(follow_ups: int) -> None:
    import statistics

    import torch

    from tests.support.serve_process import ServeProcess
    from tests.support.tiny_native import build_llava_onevision
    from videochat.backends import create_backend
    from videochat.chat import VideoChat
    from videochat.engines.client import EngineClient
    from videochat.generation import GenerationSettings
    from videochat.models.resolve import resolve_model
    from videochat.video.source import VideoSource

    torch.set_num_threads(1)  # as the server (OMP_NUM_THREADS=1): one core each, the same work
    questions = (FOLLOW_UPS * (follow_ups // len(FOLLOW_UPS) + 1))[:follow_ups]
    settings = GenerationSettings(max_new_tokens=16)
    with tempfile.TemporaryDirectory() as scratch:
        media = Path(scratch, "media")
        media.mkdir()
        clip = write_clip(media / "clip.mp4", frames=90, width=320, height=240)
        folder = build_llava_onevision(Path(scratch, "llava-onevision-tiny"))
        os.environ["HF_HUB_OFFLINE"] = "1"

        backend = create_backend(resolve_model(str(folder)))
        backend.load()
        with VideoSource.open(clip) as source:
            chat = VideoChat(source, backend)
            local_first, _ = first_piece_seconds(chat.ask(FIRST, num_frames=4, settings=settings))
            local = [first_piece_seconds(chat.ask(question, num_frames=4, settings=settings))[0] for question in questions]
        backend.unload()

        server = ServeProcess("--model", str(folder), "--allowed-media-path", str(media), env={"HF_HUB_OFFLINE": "1"})
        try:
            server.wait_ready()
            client = EngineClient(server.wait_listening())
            video = {"type": "video_url", "video_url": {"url": clip.resolve().as_uri()}}
            messages = [{"role": "user", "content": [video, {"type": "text", "text": FIRST}]}]
            body = {"model": client.models()[0].id, "num_frames": 4, "max_tokens": 16, "temperature": 0.0}
            served_first, answer = first_piece_seconds(client.stream({**body, "messages": messages}))
            served = []
            for question in questions:
                messages += [{"role": "assistant", "content": answer}, {"role": "user", "content": question}]
                seconds, answer = first_piece_seconds(client.stream({**body, "messages": messages}))
                served.append(seconds)
        finally:
            server.close()
    local_median, served_median = statistics.median(local), statistics.median(served)
    added_ms = (served_median - local_median) * 1000
    print(f"time to first token, tiny LLaVA-OneVision, 4 frames, greedy ({len(questions)} follow-ups, medians):")
    print(f"  first question   in-process {local_first * 1000:7.1f} ms   through videochat serve {served_first * 1000:7.1f} ms")
    print(f"  follow-up        in-process {local_median * 1000:7.1f} ms   through videochat serve {served_median * 1000:7.1f} ms")
    print(f"  added by the server: {added_ms:.1f} ms per follow-up (goal <= 20 ms: {'met' if added_ms <= 20 else 'NOT met'})")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--clips", type=int, default=10)
    parser.add_argument("--questions", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=0.2, help="the stand-in's time per answer")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--ttft", action="store_true", help="only the time-to-first-token comparison")
    parser.add_argument("--batch", action="store_true", help="only the batch throughput")
    parser.add_argument("--follow-ups", type=int, default=10)
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    if not args.ttft:
        run(args.concurrency, args.clips, args.questions, args.seconds, args.frames)
    if not args.batch:
        ttft(args.follow_ups)
