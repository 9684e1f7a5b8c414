"""What a runtime holds, read from the runtime itself: its Python, torch, torchvision and transformers, and its size.

The versions come from the packages' metadata in a subprocess of the runtime's interpreter (`-I`:
no PYTHONPATH, no user site), so nothing of the app's own environment answers for it; the install
also imports the three there, which is where a torchvision built for another torch fails.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from videochat.errors import Cancelled

PACKAGES = ("torch", "torchvision", "transformers")
KILL_GRACE_S = 0.5  # SIGTERM, then SIGKILL: a cancel ends pip within a second
TIMEOUT_S = 300.0  # importing torch with its CUDA libraries from a cold disk
PROBE = """
import importlib.metadata, json, platform, sys
found = {"python": platform.python_version()}
for name in %r:
    try:
        found[name] = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        found[name] = None
found["problem"] = None
if %r:
    try:
        import torch, torchvision, transformers
        torchvision.ops.nms(torch.zeros(1, 4), torch.zeros(1), 0.5)
    except Exception as error:
        found["problem"] = (type(error).__name__ + ": " + str(error)).splitlines()[0][:300]
print(json.dumps(found))
"""


def read_versions(python: Path, check_imports: bool = False, should_stop: Callable[[], bool] | None = None) -> dict:
    """{"python", "torch", "torchvision", "transformers": version or None, "problem": why they do not import together, or None}."""
    process = subprocess.Popen([str(python), "-I", "-c", PROBE % (PACKAGES, check_imports)], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=os.name == "posix")
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while process.poll() is None:
            if should_stop is not None and should_stop():
                raise Cancelled("The runtime install was cancelled; nothing was kept.")
            if time.monotonic() > deadline:
                kill_group(process)
                return {"problem": f"its interpreter did not answer within {TIMEOUT_S:.0f} s"}
            time.sleep(0.1)
    except BaseException:
        kill_group(process)
        raise
    output = process.stdout.read().decode("utf-8", "replace").strip().splitlines()
    try:
        found = json.loads(output[-1])
    except (IndexError, ValueError):
        found = None
    if not isinstance(found, dict):
        error = process.stderr.read().decode("utf-8", "replace").strip().splitlines()
        return {"problem": f"its interpreter failed ({error[-1][:300] if error else f'exit status {process.returncode}'})"}
    return {key: (value if isinstance(value, str) else None) for key, value in found.items() if key in ("python", *PACKAGES, "problem")}


def kill_group(process: subprocess.Popen) -> None:
    """End the step and everything it started (pip's build subprocesses): SIGTERM, then SIGKILL."""
    if process.poll() is not None:
        return
    try:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGTERM)
        else:
            process.terminate()
        process.wait(KILL_GRACE_S)
    except subprocess.TimeoutExpired:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        process.wait()
    except OSError:
        pass


def folder_size(folder: Path) -> int:
    """Bytes on disk under `folder`, links not followed."""
    total = 0
    for root, folders, files in os.walk(folder):
        for name in files:
            try:
                info = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                total += getattr(info, "st_blocks", 0) * 512 or info.st_size
    return total


@dataclass(frozen=True)
class RuntimeState:
    """One runtime as `videochat runtime list` shows it."""

    name: str
    installed: bool
    location: str
    versions: dict
    size_bytes: int | None
    problem: str | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "installed": self.installed, "location": self.location, **self.versions,
                "size_bytes": self.size_bytes, "problem": self.problem}


def list_runtimes(with_sizes: bool = True) -> list[RuntimeState]:
    """Every runtime: the seed (this app's interpreter) and each managed one, installed or not (and why not)."""
    from videochat.runtimes import MANAGED, SEED, interpreter, this_runtime

    states = []
    if this_runtime() != SEED:  # run inside a managed runtime, this interpreter is not the app's
        states.append(RuntimeState(SEED, False, "", {}, None, "the app's own interpreter: list the runtimes with the app's videochat to see it"))
        return [*states, *_managed(MANAGED, with_sizes)]
    seed_versions = read_versions(interpreter(SEED)) if not getattr(sys, "frozen", False) else _frozen_versions()
    seed_problem = seed_versions.pop("problem", None)
    states.append(RuntimeState(SEED, True, sys.prefix, seed_versions, folder_size(Path(sys.prefix)) if with_sizes else None, seed_problem))
    return [*states, *_managed(MANAGED, with_sizes)]


def _managed(names, with_sizes: bool) -> list[RuntimeState]:
    from videochat.runtimes import interpreter, problem, runtime_folder

    states = []
    for name in names:
        folder = runtime_folder(name)
        why = problem(name)
        if why is not None:
            states.append(RuntimeState(name, False, str(folder), {}, None, why))
            continue
        versions = read_versions(interpreter(name))
        states.append(RuntimeState(name, True, str(folder), versions, folder_size(folder) if with_sizes else None, versions.pop("problem", None)))
    return states


def _frozen_versions() -> dict:
    """The bundle's own packages (its interpreter cannot be asked to run a script)."""
    import importlib.metadata
    import platform

    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found
