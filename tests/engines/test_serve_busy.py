"""`videochat serve` holds the decoded frames of the requests waiting for its model within one budget:
past it a request is 503 `server_busy` with a Retry-After, and the frames are let go as each job ends.

Before, every request that had been read waited with its frames decoded (up to ~550 MB each), so a
few hundred connections, with no key needed on loopback, could take all the memory there is."""

from __future__ import annotations

import json
import socket
import time
from types import SimpleNamespace

import numpy as np

from tests.support.running_app import running
from videochat.engines import server_app
from videochat.engines.media import image_data_url
from videochat.engines.server_runner import Job

FRAME = np.zeros((48, 64, 3), dtype=np.uint8)
FRAME_PIXELS = 48 * 64


class QueueOnly:
    """A model runner that takes jobs and answers none: they wait, holding their frames, until ended here."""

    def __init__(self):
        self.ref = SimpleNamespace(display_name="tiny", family="internvl2")
        self.load_error, self.backend, self.jobs = None, object(), []

    def submit(self, job: Job) -> None:
        self.jobs.append(job)

    def cancel(self, job: Job) -> None:
        job.cancelled.set()


def _ask(port: int, frames: int) -> socket.socket:
    """A chat request with `frames` frames as image_url parts, sent; its answer is not waited for."""
    parts = [{"type": "image_url", "image_url": {"url": image_data_url(FRAME)}} for _ in range(frames)]
    body = json.dumps({"messages": [{"role": "user", "content": [*parts, {"type": "text", "text": "What happens?"}]}]}).encode()
    connection = socket.create_connection(("127.0.0.1", port), timeout=10)
    connection.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    return connection


def _response(connection: socket.socket) -> bytes:
    """A whole answer: its headers, and its body as long as they say (the two may come in two reads)."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += connection.recv(4096)
    head, _, body = received.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")))
    while len(body) < length:
        body += connection.recv(4096)
    return head + b"\r\n\r\n" + body


def _waits(connection: socket.socket) -> bool:
    connection.settimeout(0.5)
    try:
        return not connection.recv(1)
    except (TimeoutError, socket.timeout):
        return True


def _until(condition, timeout: float = 10.0) -> None:
    give_up = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < give_up
        time.sleep(0.01)


def test_past_the_budget_of_frames_waiting_a_request_is_503_busy_until_a_job_ends_and_lets_its_frames_go(monkeypatch):
    monkeypatch.setattr(server_app, "MAX_HELD_PIXELS", 3 * FRAME_PIXELS)
    runner = QueueOnly()
    app = server_app.ServerApp(runner, None, [])
    with running(app.starlette()) as port:
        first = _ask(port, 2)
        _until(lambda: len(runner.jobs) == 1)
        with _ask(port, 2) as second:
            answer = _response(second)
        assert answer.startswith(b"HTTP/1.1 503") and b"retry-after: 2" in answer.lower() and b'"code":"server_busy"' in answer
        assert len(runner.jobs) == 1
        with _ask(port, 1) as small:  # still within the budget: waits its turn as before
            _until(lambda: len(runner.jobs) == 2)
            assert _waits(small)
        held = runner.jobs[0].request.video
        runner.jobs[0].end()
        assert held.frames is None  # let go now, though its response still waits
        third = _ask(port, 2)
        _until(lambda: len(runner.jobs) == 3)
        assert _waits(third)
        for job in runner.jobs[1:]:
            job.end()
        assert app._held_frames.held == 0
        first.close(), third.close()


def test_a_request_over_the_whole_budget_alone_is_still_answered_when_nothing_else_waits(monkeypatch):
    monkeypatch.setattr(server_app, "MAX_HELD_PIXELS", FRAME_PIXELS)
    runner = QueueOnly()
    with running(server_app.ServerApp(runner, None, []).starlette()) as port, _ask(port, 3) as alone:
        _until(lambda: len(runner.jobs) == 1)
        assert _waits(alone)
