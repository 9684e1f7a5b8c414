"""Runtimes: the Python environments that model processes run in (docs/runtimes.md).

"seed" is the app's own interpreter (transformers 4.48, which the seed checkpoints' code needs);
"current" is a virtual environment in the app's data folder with transformers 5.x for the families
released since (`Family.runtime` says which a family needs). Both use the same Hugging Face cache.
An installed runtime is a folder with a marker file written last (`videochat.runtimes.install`);
anything else in its place — no marker, a marker that is not ours, a missing interpreter, a folder
others may write to — is reported as not installed and its interpreter is never run.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from videochat.errors import RuntimeNotInstalled

SEED = "seed"
CURRENT = "current"
RUNTIMES = (SEED, CURRENT)
MANAGED = (CURRENT,)  # the ones the app installs into its data folder
MARKER = "videochat-runtime.json"
MARKER_FORMAT = 1
SHOWN = {SEED: "the seed runtime (transformers 4.48)", CURRENT: "the current runtime (transformers 5.x)"}
# Below this transformers version an interpreter is the seed runtime (DESIGN.md: 4.49 breaks the seed code).
FIRST_NOT_SEED = (4, 49)

__all__ = ["CURRENT", "RUNTIMES", "SEED", "interpreter", "require_interpreter", "runtime_environment", "runtime_folder", "runtimes_folder", "this_runtime"]


def runtimes_folder() -> Path:
    from videochat.paths import data_folder

    return data_folder() / "runtimes"


def runtime_folder(name: str) -> Path:
    if name not in MANAGED:
        raise ValueError(f"unknown runtime {name!r}; the app installs: {', '.join(MANAGED)}")
    return runtimes_folder() / name


def python_in(folder: Path) -> Path:
    """Where a virtual environment keeps its interpreter."""
    return folder / "Scripts" / "python.exe" if os.name == "nt" else folder / "bin" / "python"


def problem(name: str) -> str | None:
    """Why the managed runtime `name` cannot be run here ("not installed", ...), or None when it can."""
    from videochat.app_files import BadAppFile, read_json

    folder = runtime_folder(name)
    try:
        info = os.lstat(folder)
    except FileNotFoundError:
        return "not installed"
    except OSError as error:
        return f"its folder cannot be read ({error.strerror or error})"
    if not stat.S_ISDIR(info.st_mode):
        return "its folder is not a folder"
    if os.name == "posix" and (info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)):
        return "its folder belongs to another user or others may write to it"
    try:
        marker = read_json(folder / MARKER, max_bytes=64 * 1024)
    except (BadAppFile, OSError):  # none (an install that did not finish), or not a small regular JSON file
        return "its install did not finish (no readable marker)"
    if not (isinstance(marker, dict) and marker.get("name") == name and marker.get("format") == MARKER_FORMAT and marker.get("complete") is True):
        return "its marker is not one this app wrote"
    python = python_in(folder)
    if not (os.path.isfile(python) and os.access(python, os.X_OK)) or not (folder / "pyvenv.cfg").is_file():
        return "its Python interpreter is missing"
    return None


def interpreter(name: str) -> Path | None:
    """The interpreter of runtime `name`, or None where it is not installed (see `problem`).

    The seed runtime is this app's own: the interpreter running it (in the bundle, its console
    program, which `videochat.engines.local_process.serve_command` names instead).
    """
    if name == SEED:
        return Path(sys.executable)
    return None if problem(name) else python_in(runtime_folder(name))


def this_runtime() -> str:
    """Which runtime this interpreter is, by its transformers (read from metadata, nothing imported)."""
    # Here, not at the top: the window's model manager imports this package on the GUI thread, and
    # importlib.metadata (with email) cost it 68 ms there; the window never asks which runtime it is.
    import importlib.metadata

    try:
        version = importlib.metadata.version("transformers")
    except importlib.metadata.PackageNotFoundError:
        return SEED
    numbers = tuple(int(part) for part in version.split(".")[:2] if part.isdigit())
    return runtime_for_version(numbers)


def runtime_for_version(transformers: tuple[int, ...]) -> str:
    """The runtime whose transformers writes configs like one written by `transformers` (major, minor); seed where unknown."""
    return CURRENT if transformers and transformers >= FIRST_NOT_SEED else SEED


def require_interpreter(name: str, model: str) -> Path:
    """The interpreter of runtime `name`; `RuntimeNotInstalled` saying how to install it where it is not."""
    if name not in RUNTIMES:
        raise RuntimeNotInstalled(f"{model} needs a runtime named {name!r}, which this version of the app does not know: update the app.", name)
    found = interpreter(name)
    if found is None:
        raise RuntimeNotInstalled(
            f"{model} needs {SHOWN[name]}: install it with `videochat runtime install {name}` or from the model manager.", name
        )
    return found


def runtime_environment(runtime: str) -> dict[str, str]:
    """The child's environment: ours, with this source tree first on its path when it runs from one;
    for another runtime nothing else of ours. Never the working folder on the path (PYTHONSAFEPATH; it
    starts in `paths.child_working_folder()` too)."""
    environment = dict(os.environ)
    environment["PYTHONSAFEPATH"] = "1"
    source = Path(__file__).resolve().parents[2]  # this source tree, where it runs from one
    # From a source tree the child runs this very code (never a site-packages: the seed's transformers
    # would come first for another runtime); elsewhere the copy installed in its environment.
    in_source_tree = not getattr(sys, "frozen", False) and (source / "pyproject.toml").is_file()
    if runtime != SEED:
        environment.pop("PYTHONHOME", None)
        environment["PYTHONPATH"] = str(source) if in_source_tree else ""
        environment["PYTHONNOUSERSITE"] = "1"
    elif in_source_tree:  # it found the code in the working folder before
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(source), environment.get("PYTHONPATH")]))
    return environment
