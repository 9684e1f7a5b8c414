"""The window's model process: the core's `LocalModelProcess` (videochat/engines/local_process.py), at a lower priority.

torch, transformers and the model live there, not in the window: a crash, an out-of-memory kill or
a CUDA error ends that process only, unloading returns all of its memory, and loading a model never
switches the window's downloads offline. A model of the current runtime runs in that runtime's
interpreter; where it is not installed, `start` raises `RuntimeNotInstalled` and the load fails with it.
"""

from __future__ import annotations

from videochat.engines import local_process
from videochat.engines.local_process import ADDRESS, LocalModelProcess  # noqa: F401  (what callers and tests name)
from videochat.runtimes import SEED

__all__ = ["ADDRESS", "ModelProcess", "serve_command"]


def serve_command() -> list[str]:
    """The seed runtime's model process program (tests replace it here)."""
    return local_process.serve_command(SEED)


class ModelProcess(LocalModelProcess):
    def program(self) -> list[str]:
        return serve_command() if self.runtime == SEED else super().program()

    def started(self, pid: int) -> None:
        from desktop.threads.priority import yield_to_the_gui

        yield_to_the_gui(pid)
