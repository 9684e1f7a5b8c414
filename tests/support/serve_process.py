"""Running `videochat serve` as a user does (`python -m videochat.cli serve ... --port 0`) and talking to it."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

START_TIMEOUT_S = 240


class ServeProcess:
    """One `videochat serve` subprocess: its address (read from its first stdout line) and its stderr lines."""

    def __init__(self, *argv: str, env: dict | None = None):
        environment = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "videochat.cli", "serve", "--port", "0", "--device", "cpu", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        self.stderr: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()
        self.address: str | None = None

    def _drain(self) -> None:
        with self.process.stderr:
            for line in self.process.stderr:
                self.stderr.append(line)

    def wait_listening(self) -> str:
        if self.address is None:
            line = self.process.stdout.readline()
            assert line.startswith("http://127.0.0.1:"), f"no address line: {line!r}; stderr: {''.join(self.stderr)}"
            self.address = line.strip()
        return self.address

    def wait_ready(self, key: str | None = None) -> None:
        self.wait_listening()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            status, body = self.get("/health")
            assert status == 200
            if body["model"] is not None or "error" in body:
                assert "error" not in body, body
                return
            time.sleep(0.2)
        raise AssertionError("the model did not load: " + "".join(self.stderr))

    def connection(self) -> http.client.HTTPConnection:
        parts = urlsplit(self.wait_listening())
        return http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)

    def get(self, path: str, key: str | None = None):
        connection = self.connection()
        connection.request("GET", path, headers=_headers(key))
        response = connection.getresponse()
        return response.status, json.loads(response.read())

    def post(self, body, key: str | None = None, raw: bytes | None = None):
        """(status, JSON answer) of a whole answer or an error."""
        connection = self.connection()
        data = raw if raw is not None else json.dumps(body).encode()
        connection.request("POST", "/v1/chat/completions", body=data, headers={**_headers(key), "Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())

    def stream(self, body, key: str | None = None) -> list:
        """The `data:` payloads of a streamed answer, `[DONE]` as the string."""
        connection = self.connection()
        connection.request("POST", "/v1/chat/completions", body=json.dumps({**body, "stream": True}).encode(), headers=_headers(key))
        response = connection.getresponse()
        assert response.status == 200, response.read()
        assert response.getheader("content-type").startswith("text/event-stream")
        events = []
        for line in response:
            line = line.decode().strip()
            if line.startswith("data: "):
                payload = line[len("data: "):]
                events.append(payload if payload == "[DONE]" else json.loads(payload))
        return events

    def wait_for_log(self, text: str, timeout: float = 60, since: int = 0) -> str:
        """The first line of the server's stderr (from line `since` on) that holds `text`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.stderr)[since:]:
                if text in line:
                    return line
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not in the server's log: {''.join(self.stderr)}")

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


def _headers(key: str | None) -> dict:
    return {"Authorization": f"Bearer {key}"} if key else {}


def video_request(video_parts: list, question: str = "What happens?", history=(), **extra) -> dict:
    """A chat request: the video's parts and the first question, then the history's answers and questions."""
    asked = [question for question, _ in history] + [question]
    messages = []
    for number, text in enumerate(asked):
        messages.append({"role": "user", "content": [*video_parts, {"type": "text", "text": text}] if number == 0 else text})
        if number < len(history):
            messages.append({"role": "assistant", "content": history[number][1]})
    return {"messages": messages, "max_tokens": 6, **extra}


def file_request(path, question: str = "What happens?", history=(), **extra) -> dict:
    return video_request([{"type": "video_url", "video_url": {"url": path.as_uri()}}], question, history, **extra)


def answer_text(events: list) -> str:
    return "".join(event["choices"][0]["delta"].get("content", "") for event in events if isinstance(event, dict) and "choices" in event)
