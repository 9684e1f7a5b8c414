"""A model process: `videochat serve` for one model, on loopback, with a key of its own, in the model's runtime.

torch, transformers and the model live there, not in the window: a crash, an out-of-memory kill or
a CUDA error ends that process only, unloading returns all of its memory, and loading a model never
switches the window's downloads offline. The key is random per process and handed over in the
environment (a command line is visible to every local user); the child reads no file the window
did not grant it (`grant`: one resolved regular file at a time, no folders); it ends when its
standard input closes, so it never outlives a window that was killed.

The model runs in its runtime's interpreter (`videochat.runtimes`): the app's own for the seed
runtime, the current runtime's venv for the families that need transformers 5.x (from the source
tree, with this tree first on its path, so that it runs the same code as its parent). The window
(`desktop.threads.model_process`) and `videochat ask/batch` (for a model of another runtime) both
start it. Plain Python: the caller blocks in it; `kill()` is safe from any thread.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Callable

from videochat import paths, safe_text
from videochat.cli.serve import KEY_VARIABLE
from videochat.engines.client import EngineClient
from videochat.engines.errors import error_from
from videochat.errors import ModelProcessEnded

log = logging.getLogger("videochat.model_process")

ADDRESS = re.compile(r"http://127\.0\.0\.1:(\d{1,5})")
START_TIMEOUT_S = 120.0  # to the address line: the child imports the core and starts listening
POLL_S = 0.1
STOP_GRACE_S = 0.6  # after SIGTERM, before SIGKILL: quitting must end it within 2 s
MAX_LINE_CHARS = 2000
TAIL_LINES = 20


def serve_command(runtime: str = "seed", model: str = "the model") -> list[str]:
    """The model process's program: for the seed runtime the bundle's console program (it dispatches
    `serve`) or this Python running the CLI; for another, that runtime's interpreter running the CLI
    (`RuntimeNotInstalled` where it is not installed)."""
    from videochat.runtimes import SEED, require_interpreter

    if runtime != SEED:
        return [str(require_interpreter(runtime, model)), "-m", "videochat.cli", "serve"]
    if getattr(sys, "frozen", False):
        name = "videochat-console.exe" if os.name == "nt" else "videochat-console"
        return [str(Path(sys.executable).with_name(name)), "serve"]
    return [sys.executable, "-m", "videochat.cli", "serve"]


class LocalModelProcess:
    def __init__(self, model: str, device: str = "auto", precision: str = "auto", approved_code: str | None = None, revision: str | None = None,
                 runtime: str = "seed"):
        self.key = secrets.token_urlsafe(32)
        safe_text.register_secret(self.key)
        self.model = model
        self.runtime = runtime
        given = os.path.abspath(model) if os.path.isdir(model) else model  # a folder named from another working folder
        self.arguments = ["--model", given, "--host", "127.0.0.1", "--port", "0", "--device", device, "--precision", precision, "--exit-with-stdin"]
        if approved_code:
            self.arguments += ["--approved-code", approved_code]
        if revision:
            self.arguments += ["--revision", revision]
        self.process: subprocess.Popen | None = None
        self.address: str | None = None
        self.client: EngineClient | None = None
        self.granted: set[Path] = set()
        self._tail: deque[str] = deque(maxlen=TAIL_LINES)
        self._address_found = threading.Event()
        self._killed = False

    # -- life ---------------------------------------------------------------------------------------

    def program(self) -> list[str]:
        return serve_command(self.runtime, self.model)

    def started(self, pid: int) -> None:
        """Called once the child exists, before it imports anything heavy (the window lowers its priority here)."""

    def start(self) -> str:
        """Start the child and wait for its address line; `ModelProcessEnded` if it ends first, `RuntimeNotInstalled` before."""
        from videochat.runtimes import runtime_environment

        self.argv = [*self.program(), *self.arguments]
        environment = {**runtime_environment(self.runtime), KEY_VARIABLE: self.key}
        self.process = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment, cwd=paths.child_working_folder(),
            start_new_session=os.name == "posix",  # a Ctrl-C in the parent's terminal is the parent's to handle
        )
        self.started(self.process.pid)
        threading.Thread(target=self._read_stdout, name="videochat-model-stdout", daemon=True).start()
        threading.Thread(target=self._read_stderr, name="videochat-model-stderr", daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._address_found.wait(POLL_S):
            if self.process.poll() is not None:
                raise ModelProcessEnded(self.ended_message("before it started listening"))
            if time.monotonic() > deadline:
                self.kill()
                raise ModelProcessEnded(f"The model process did not start within {START_TIMEOUT_S:.0f} s.{self._last_words()}")
        self.client = EngineClient(self.address, self.key)
        return self.address

    def wait_loaded(self, progress: Callable[[str, float], None] | None = None) -> None:
        """Poll `/health` until the model is loaded; its load error (typed, as the core raises it), or `ModelProcessEnded`."""
        last = None
        while True:
            if self.died:
                raise ModelProcessEnded(self.ended_message("while the model was loading"))
            try:
                health = self._call("GET", "/health")
            except (OSError, http.client.HTTPException, ValueError):
                if self.died:
                    continue
                raise
            if isinstance(health.get("error"), dict):
                error = health["error"]
                raise error_from(error.get("code"), error.get("message"), 500)
            if health.get("model") is not None:
                if progress is not None:
                    progress("Loaded", 1.0)  # polled: the process's own last step may fall between two looks
                return
            loading = health.get("loading")
            if progress is not None and isinstance(loading, dict) and loading != last:
                last = loading
                stage, fraction = loading.get("stage"), loading.get("fraction")
                progress(safe_text.shown(str(stage))[:120], float(fraction) if isinstance(fraction, (int, float)) else 0.0)
            time.sleep(POLL_S)

    def grant(self, path: Path) -> None:
        """Let the child read this one file (resolved: the child checks the same resolved path)."""
        resolved = Path(os.path.realpath(path))
        if resolved in self.granted:
            return
        status, body = self._call("POST", "/v1/videochat/grants", {"path": str(resolved)}, with_status=True)
        if status != 200:
            error = body.get("error") if isinstance(body.get("error"), dict) else {}
            raise error_from(error.get("code"), error.get("message"), status)
        self.granted.add(resolved)

    @property
    def died(self) -> bool:
        """The child ended without being asked to."""
        return self.process is not None and not self._killed and self.process.poll() is not None

    def died_within(self, seconds: float) -> bool:
        """Whether the child ended unasked, waiting up to `seconds` for it (a connection it dropped
        as it died closes a moment before it can be reaped)."""
        if self.process is None or self._killed:
            return False
        try:
            self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            return False
        return self.died

    def kill(self, grace_s: float = STOP_GRACE_S) -> None:
        """End the child (SIGTERM, then SIGKILL after `grace_s`) and reap it; from any thread."""
        process = self.process
        if process is None:
            return
        self._killed = True
        if process.poll() is None:
            try:
                process.terminate()
                process.wait(grace_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            except OSError:
                pass
        if self.client is not None:
            self.client.stop()

    def ended_message(self, when: str) -> str:
        """What the user is told when the child ended unasked: how it ended, and its last words."""
        try:
            code = self.process.wait(1.0)
        except subprocess.TimeoutExpired:
            code = None
        if code is None:
            how = "stopped answering"
        elif code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else f"signal {-code}"
            why = {
                "SIGKILL": " — the system kills a process this way when memory runs out",
                "SIGSEGV": " — it crashed",
                "SIGABRT": " — it aborted (a CUDA or library error)",
            }.get(name, "")
            how = f"was ended by {name}{why}"
        else:
            how = f"exited with status {code}"
        return f"The model process {how} {when}.{self._last_words()} Your question is kept: send it again to start the model anew."

    def _last_words(self) -> str:
        lines = [line for line in self._tail if line.strip()]
        return f" Its last message: {lines[-1]}" if lines else ""

    # -- pipes ------------------------------------------------------------------------------------

    def _read_stdout(self) -> None:
        with self.process.stdout:
            for raw in self.process.stdout:
                line = raw.decode("utf-8", "replace").strip()[:MAX_LINE_CHARS]
                match = ADDRESS.fullmatch(line)
                if match and not self._address_found.is_set():
                    self.address = line
                    self._address_found.set()
                elif line:
                    log.info("model process: %s", safe_text.shown(line))

    def _read_stderr(self) -> None:
        with self.process.stderr:
            for raw in self.process.stderr:
                line = safe_text.shown(raw.decode("utf-8", "replace").rstrip()[:MAX_LINE_CHARS])
                self._tail.append(line)
                log.info("model process: %s", line)

    def _call(self, method: str, path: str, body: dict | None = None, with_status: bool = False):
        """One small JSON request to the child (health, grants): no streaming, short timeout."""
        host, port = "127.0.0.1", int(ADDRESS.fullmatch(self.address).group(1))
        connection = http.client.HTTPConnection(host, port, timeout=10)
        try:
            payload = None if body is None else json.dumps(body).encode("utf-8")
            headers = {"Authorization": f"Bearer {self.key}", **({"Content-Type": "application/json"} if payload else {})}
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            data = json.loads(response.read(64 * 1024) or b"{}")
        finally:
            connection.close()
        data = data if isinstance(data, dict) else {}
        return (response.status, data) if with_status else data
