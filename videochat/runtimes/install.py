"""Installing a managed runtime: a virtual environment made in a temporary folder and renamed into place last.

The steps (docs/runtimes.md): a venv from the system Python; PyPI's build of the app's torch
version with the torchvision built for it; the runtime's pinned requirements; this project's own
code without its dependencies (its pyproject pins the seed's transformers); a check that torch,
torchvision and transformers import together; the marker; the rename. Any failure or a cancel
kills pip (its whole process group) and removes the temporary folder, so a runtime is either
complete or absent. One install at a time (a lock in the runtimes folder); a temporary folder
left by an installer that was killed is removed by the next.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Callable

from videochat.errors import Cancelled, RuntimeInstallError
from videochat.runtimes import MARKER, MARKER_FORMAT, SHOWN, python_in, runtime_folder, runtimes_folder
from videochat.runtimes.sources import base_python, open_to_others, pinned_packages, project_source, requirements_file, torch_pair
from videochat.runtimes.versions import kill_group, read_versions

Progress = Callable[[str, float], None]
TEMPORARY_PREFIX = ".installing-"
POLL_S = 0.1
TAIL_LINES = 15


def install(name: str, progress: Progress | None = None, should_stop: Callable[[], bool] | None = None, *,
            reinstall: bool = False, requirements: Path | None = None) -> Path:
    """Install runtime `name` (see the module's docstring); its folder. `Cancelled` when `should_stop` says so."""
    from videochat.file_lock import LockBusy, locked
    from videochat.runtimes import problem

    progress = progress or (lambda what, fraction: None)
    should_stop = should_stop or (lambda: False)
    final = runtime_folder(name)
    if not reinstall and problem(name) is None:
        progress(f"{SHOWN[name].capitalize()} is already installed.", 1.0)
        return final
    folder = runtimes_folder()
    folder.mkdir(parents=True, exist_ok=True)
    if (reason := open_to_others(folder)) is not None:
        raise RuntimeInstallError(f"No runtime is installed in {folder}: {reason}, who could swap the folder pip runs from. "
                                  "Make it yours and run chmod go-w on it, or set XDG_DATA_HOME to a folder of your own.")
    try:
        with locked(folder / ".install.lock", timeout_s=0.0):
            _remove_leftovers(folder)
            work = Path(tempfile.mkdtemp(prefix=f"{TEMPORARY_PREFIX}{name}-", dir=folder))
            try:
                _build(name, work, progress, should_stop, requirements or requirements_file(name))
                _put_in_place(work, final)
            except BaseException:
                shutil.rmtree(work, ignore_errors=True)
                raise
    except LockBusy:
        raise RuntimeInstallError(f"Another install of {SHOWN[name]} is running: wait for it to finish.") from None
    progress(f"{SHOWN[name].capitalize()} is installed.", 1.0)
    return final


def _build(name: str, work: Path, progress: Progress, should_stop: Callable[[], bool], requirements: Path) -> None:
    if not requirements.is_file():
        raise RuntimeInstallError(f"This copy of the app has no list of packages for {SHOWN[name]} ({requirements}): reinstall the app.")
    listed = pinned_packages(requirements)  # before anything runs: pip gets the pins, never the file
    python = python_in(work)
    torch, torchvision = torch_pair()
    pins = [f"torch==={torch}", f"torchvision==={torchvision}"]  # ===: PyPI's own build, never a +cpu/+cu wheel found elsewhere
    # -I: nothing of the working folder, the user site or PYTHON* variables (pip's own settings stay).
    pip = [str(python), "-I", "-m", "pip", "install", "--no-input", "--disable-pip-version-check"]
    steps = [
        ("Making the Python environment", [str(base_python()), "-I", "-m", "venv", str(work)]),
        (f"Installing torch {torch} and torchvision {torchvision} (about 4 GB with its CUDA libraries)", [*pip, *pins]),
        ("Installing transformers and the other pinned packages", [*pip, *pins, *listed]),
    ]
    for number, (what, argv) in enumerate(steps):
        _run(argv, what, number / 6, progress, should_stop)
    with project_source(work) as source:
        _run([*pip, "--no-deps", str(source)], "Installing VideoChat's own code", 3 / 6, progress, should_stop)
    progress("Checking that torch, torchvision and transformers import together", 4 / 6)
    versions = read_versions(python, check_imports=True, should_stop=should_stop)
    if versions.get("problem"):
        raise RuntimeInstallError(
            f"The packages of {SHOWN[name]} installed but do not work together ({versions['problem']}): nothing was kept. "
            "Check the package index in your pip configuration, then install again."
        )
    marker = {"name": name, "format": MARKER_FORMAT, "complete": True, "installed_at": time.time(),
              "requirements": "\n".join(listed) + "\n", "versions": versions}
    from videochat.app_files import write_atomically

    write_atomically(work / MARKER, json.dumps(marker, indent=1))
    progress("Putting it in place", 5 / 6)


def _put_in_place(work: Path, final: Path) -> None:
    """Rename the finished environment into place; an earlier one (a reinstall) goes only once the new one is there."""
    os.chmod(work, 0o755)  # mkdtemp made it 0700; others may run it, never write to it
    old = None
    if os.path.lexists(final):
        old = final.with_name(f"{TEMPORARY_PREFIX}{final.name}-old-{os.getpid()}")
        os.rename(final, old)
    os.rename(work, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True) if old.is_dir() and not old.is_symlink() else old.unlink()


def _remove_leftovers(folder: Path) -> None:
    """Temporary folders of installs that were killed (this runs under the lock: no install is live)."""
    for path in folder.glob(f"{TEMPORARY_PREFIX}*"):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _run(argv: list[str], what: str, fraction: float, progress: Progress, should_stop: Callable[[], bool]) -> None:
    """Run one step, its output's telling lines as progress; killed at once on a cancel, Ctrl-C or failure."""
    if should_stop():
        raise Cancelled("The runtime install was cancelled; nothing was kept.")
    progress(what, fraction)
    environment = {**os.environ, "PIP_NO_INPUT": "1", "PYTHONNOUSERSITE": "1"}
    environment.pop("PYTHONPATH", None)  # the new environment's packages only
    from videochat.paths import child_working_folder

    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=environment,
                               cwd=child_working_folder(), start_new_session=os.name == "posix")
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    reader = threading.Thread(target=_read, args=(process, tail, lambda line: progress(f"{what}: {line}", fraction)), daemon=True)
    reader.start()
    try:
        while process.poll() is None:
            if should_stop():
                raise Cancelled("The runtime install was cancelled; nothing was kept.")
            time.sleep(POLL_S)
    except BaseException:
        kill_group(process)
        raise
    reader.join(5.0)
    if process.returncode != 0:
        last = " | ".join(line for line in list(tail)[-4:] if line)
        raise RuntimeInstallError(f"{what} failed (exit status {process.returncode}): {last[:1500]} — nothing was kept; check the network and try again.")


TELLING = ("Collecting ", "Downloading ", "Installing collected", "Successfully installed", "ERROR", "Building ")


def _read(process: subprocess.Popen, tail: deque, on_line: Callable[[str], None]) -> None:
    from videochat.safe_text import shown

    with process.stdout:
        for raw in process.stdout:
            line = shown(raw.decode("utf-8", "replace").strip()[:300])
            tail.append(line)
            if line.startswith(TELLING):
                on_line(line[:160])
