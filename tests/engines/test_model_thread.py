"""`videochat serve`'s model thread: every job it takes is ended (its frames let go, its share of the
frame budget given back) whether answered, failed or dropped; and once the model has loaded, what the
first question would import is imported while no question waits."""

from __future__ import annotations

import subprocess
import sys
import time
from types import SimpleNamespace

import numpy as np

from tests.support import REPO_ROOT
from videochat.engines.server_runner import Job, ModelRunner
from videochat.errors import InvalidQuestion

FRAME = np.zeros((48, 64, 3), dtype=np.uint8)


def _until(condition, timeout: float = 10.0) -> None:
    give_up = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < give_up
        time.sleep(0.01)


def test_the_model_thread_ends_every_job_it_takes_answered_failed_or_dropped():
    ended = []
    runner = ModelRunner(SimpleNamespace(display_name="tiny", family="internvl2"), lambda progress: SimpleNamespace(unload=lambda: None))

    def answer(job):
        if job.request.question == "fail":
            raise InvalidQuestion("no")
        job.emit("done", {})

    runner._answer = answer
    loop = SimpleNamespace(call_soon_threadsafe=lambda *args: None)
    jobs = []
    for question in ("answer", "fail", "dropped"):
        request = SimpleNamespace(question=question, video=SimpleNamespace(frames=[FRAME]))
        jobs.append(Job(request, loop, on_end=lambda question=question: ended.append(question)))
    jobs[2].cancelled.set()
    for job in jobs:
        runner.submit(job)
    runner.start()
    _until(lambda: len(ended) == 3)
    runner.stop()
    runner._thread.join(10)
    assert ended == ["answer", "fail", "dropped"] and all(job.request.video.frames is None for job in jobs)
    jobs[0].end()
    assert len(ended) == 3  # told once


WARMED = """
import sys, threading
from types import SimpleNamespace
from videochat.engines.server_runner import ModelRunner

before = "av" in sys.modules or "videochat.frames.pipeline" in sys.modules
runner = ModelRunner(SimpleNamespace(display_name="tiny", family="internvl2"), lambda progress: SimpleNamespace(unload=lambda: None))
runner.start()
runner.stop()
runner._thread.join(30)
print(before, "av" in sys.modules and "videochat.frames.pipeline" in sys.modules)
"""


def test_the_video_stack_is_imported_once_the_model_has_loaded_not_at_the_first_question():
    result = subprocess.run([sys.executable, "-c", WARMED], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["False", "True"], result.stderr
