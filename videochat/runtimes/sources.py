"""What a runtime is made from: the system Python, the torch/torchvision pair, the pinned requirements, this project's code.

From the source tree (or an installed copy) the project's `videochat` package is copied into the
temporary folder with a small pyproject of its own and installed from there without dependencies:
the project's pyproject pins the seed's transformers, and building in the source tree would leave
build/ and egg-info behind. The bundle's frozen code cannot be imported by another interpreter, so
the bundle carries a wheel of the project in `_internal/runtime/` (sys._MEIPASS; docs/runtimes.md "The bundle").
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import stat
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from videochat.errors import RuntimeInstallError
from videochat.models.torch_pairs import TORCHVISION_FOR_TORCH
from videochat.safe_text import shown

NEWEST_PAIR = ("2.13.0", "0.28.0")  # what a runtime gets when the app's torch is unknown or has no torchvision here
BUNDLE_WHEELS = "runtime"  # in the bundle's _internal/ (sys._MEIPASS): the project's wheel, put there by build/videochat.spec
MIN_PYTHON = (3, 10)


def torch_pair(app_torch: str | None = None) -> tuple[str, str]:
    """(torch, torchvision) release versions: the app's torch where a torchvision was built for it, else `NEWEST_PAIR`.

    The public version only (2.13.0 of 2.13.0+cpu): the runtime takes PyPI's build, which the
    PyPI torchvision of the same series was built against.
    """
    if app_torch is None:
        try:
            app_torch = importlib.metadata.version("torch")
        except importlib.metadata.PackageNotFoundError:
            return NEWEST_PAIR
    public = app_torch.split("+", 1)[0]
    parts = public.split(".")
    series = TORCHVISION_FOR_TORCH.get(".".join(parts[:2]))
    if series is None or len(parts) != 3 or not all(part.isdigit() for part in parts):
        return NEWEST_PAIR
    return public, f"{series}.{parts[2]}"


def base_python() -> Path:
    """The system Python the runtime's venv is made from: the one under this venv, or a python3 on PATH (the bundle)."""
    candidates = [] if getattr(sys, "frozen", False) else [getattr(sys, "_base_executable", ""), sys.executable]
    candidates += [shutil.which(name) or "" for name in ("python3", "python")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and _is_usable(candidate):
            return Path(candidate)
    raise RuntimeInstallError(
        f"No Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer with its venv module was found: install Python 3 (and python3-venv on Debian or Ubuntu), then try again."
    )


def _is_usable(python: str) -> bool:
    if python == sys.executable and not getattr(sys, "frozen", False):
        return sys.version_info >= MIN_PYTHON
    try:
        check = f"import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= {MIN_PYTHON} else 1)"
        return subprocess.run([python, "-I", "-c", check], stdin=subprocess.DEVNULL, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def requirements_file(name: str) -> Path:
    """The runtime's pinned packages, shipped with the code (in the bundle, as a data file in the same place)."""
    return Path(__file__).with_name(f"{name}-requirements.txt")


PIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?==[A-Za-z0-9][A-Za-z0-9.+!_-]*")
_COMMENT = re.compile(r"(^|\s+)#.*$")  # pip's own rule: a # at the start, or after a space
MAX_LIST_BYTES = 64 * 1024


def pinned_packages(path: Path) -> list[str]:
    """The runtime's package list as pip's arguments: its `name==version` lines (comments and blank lines aside).

    pip would read options from the file itself (--extra-index-url, -e git+..., a URL, a path, -r
    another file), so it is never given the file, and a line that is anything but a plain pin is
    refused, naming it: no text from it can become an option or another source of packages.
    """
    from videochat.app_files import BadAppFile, read_regular_file

    try:
        text = read_regular_file(path, MAX_LIST_BYTES).decode("utf-8")
    except (OSError, BadAppFile, UnicodeDecodeError) as error:
        raise RuntimeInstallError(f"The list of packages {path} cannot be read ({shown(str(error), keep='')}): reinstall the app.") from None
    pins = []
    for number, line in enumerate(text.splitlines(), 1):
        line = _COMMENT.sub("", line).strip()
        if line and not PIN.fullmatch(line):
            raise RuntimeInstallError(f"{path}, line {number}, is not a package pinned as name==version ({shown(line[:100], keep='')}): reinstall the app.")
        pins += [line] if line else []
    return pins


def _version() -> str:
    try:
        return importlib.metadata.version("videochat-desktop")
    except importlib.metadata.PackageNotFoundError:
        return "0"


PYPROJECT = """[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "videochat-desktop"
version = "{version}"
requires-python = ">=3.10"

[project.scripts]
videochat = "videochat.cli:main"

[tool.setuptools.packages.find]
include = ["videochat*"]

[tool.setuptools.package-data]
"*" = ["*.txt"]
"""


def write_project(folder: Path) -> Path:
    """The one installable form of this project: a copy of the `videochat` package with a small pyproject of its own, in `folder`.

    Installed from directly by a runtime made from the source tree; built into the bundle's wheel by
    build/runtime_wheel.py. Either way nothing is built inside the source tree.
    """
    import videochat

    shutil.copytree(Path(videochat.__file__).parent, folder / "videochat", ignore=_not_the_package)
    (folder / "pyproject.toml").write_text(PYPROJECT.format(version=_version()), encoding="utf-8")
    return folder


def _not_the_package(folder: str, names: list[str]) -> list[str]:
    """Caches, and what is not a plain file or folder: a link's target (copied as if it were the package's, into
    every runtime and the bundle's wheel) or a FIFO (copytree fails on it) is no part of the package."""
    def plain(path: str) -> bool:
        return not os.path.islink(path) and (os.path.isdir(path) or os.path.isfile(path))

    return [name for name in names if name == "__pycache__" or name.endswith(".pyc") or not plain(os.path.join(folder, name))]


@contextmanager
def project_source(work: Path) -> Iterator[Path]:
    """What pip installs as this project: the wheel in the bundle, or a copy of the `videochat` package (removed after)."""
    if getattr(sys, "frozen", False):
        yield bundled_wheel()
        return
    copy = write_project(work / "videochat-source")
    try:
        yield copy
    finally:
        shutil.rmtree(copy, ignore_errors=True)


WHEEL_NAME = re.compile(r"videochat_desktop-[A-Za-z0-9.+!_]+-py3-none-any\.whl")
REBUILD = "build the app again with scripts/build-app.sh (or install the runtime from a source checkout: videochat runtime install current)"


def bundled_wheel() -> Path:
    """The one wheel of this project in the bundle's `runtime/` folder (sys._MEIPASS/runtime, where the spec puts it).

    Refused, saying what to do: no wheel, several, a name that is not a wheel of this project for
    any Python, a folder or wheel that leads out of the app's folder through a link (macOS bundles
    link their data folders within the app, so links inside it are fine), a wheel that is not
    a regular file (a FIFO would hang pip), or one that others may change (`open_to_others`).
    """
    internal = Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent))
    app = internal.resolve().parent
    folder = internal / BUNDLE_WHEELS
    if not os.path.lexists(folder):
        raise RuntimeInstallError(f"This app was built without the wheel of its own code ({folder}) that a runtime is installed from: {REBUILD}.")
    _inside_app(folder, app)
    if not folder.is_dir():
        raise RuntimeInstallError(f"{folder} should be the folder of the app's own wheel but is not a folder: {REBUILD}.")
    try:
        found = sorted(entry for entry in folder.iterdir() if entry.name.endswith(".whl"))
    except OSError as error:
        raise RuntimeInstallError(f"The app's wheel folder {folder} cannot be read ({error.strerror}): {REBUILD}.") from None
    if len(found) != 1:
        named = ", ".join(shown(entry.name, keep='') for entry in found[:5]) or "none"
        raise RuntimeInstallError(f"{folder} should hold exactly one wheel of the app's own code and holds {len(found)} ({named}): {REBUILD}.")
    wheel = found[0]
    if not WHEEL_NAME.fullmatch(wheel.name):
        raise RuntimeInstallError(f"{shown(wheel.name, keep='')} in {folder} is not a wheel of VideoChat's own code: {REBUILD}.")
    _inside_app(wheel, app)
    try:
        regular = stat.S_ISREG(wheel.stat().st_mode)
    except OSError:
        regular = False  # a link to nothing
    if not regular:
        raise RuntimeInstallError(f"{wheel} is not a regular file: {REBUILD}.")
    if (reason := open_to_others(wheel)) is not None:  # another user could put their code in every runtime made from it
        raise RuntimeInstallError(f"The app's wheel {wheel} is not used: {reason}. Install the app where only you (or root) may change it.")
    return wheel


def open_to_others(path: Path) -> str | None:
    """Why others could change `path` or rename what is in a folder above it (another owner, or writable
    by others without the sticky bit of /tmp), or None. A group that is the user's own (a private group,
    whose umask 002 makes folders 0775) is the user."""
    if os.name != "posix":
        return None
    for place in (path, *path.parents):
        info = os.stat(place)
        if info.st_uid not in (os.getuid(), 0):
            return f"{place} belongs to another user"
        writable = info.st_mode & stat.S_IWOTH or (info.st_mode & stat.S_IWGRP and info.st_gid != os.getgid())
        if writable and not (stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_ISVTX):
            return f"others may write to {place}"
    return None


def _inside_app(path: Path, app: Path) -> None:
    target = path.resolve()
    if target != app and app not in target.parents:
        raise RuntimeInstallError(f"{path} is a link to {shown(str(target), keep='')}, outside the app's folder: {REBUILD}.")
