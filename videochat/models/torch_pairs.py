"""Which torchvision goes with which torch, and the packages the OpenGVLab models' own code imports.

The seed checkpoints' remote code imports timm (`from timm.models.layers import DropPath`), and
timm imports torchvision, whose builds are made for exactly one torch release: a bare
`pip install timm` pulls the newest torchvision, which pins a newer torch and replaces the one
installed. This module is the one table of the pairs, read by scripts/setup-venv.sh (through
`python -m videochat.models.torch_pairs`), by the model manager and by the load error; it
imports nothing heavy, and `check` runs in the interpreter that runs the models.

    python -m videochat.models.torch_pairs install-args TORCH_VERSION   # what pip installs, one a line
    python -m videochat.models.torch_pairs not-installed TORCH_VERSION PYTHON   # setup's one line
    python -m videochat.models.torch_pairs check                          # JSON: this interpreter's state
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import shlex
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass

# torch major.minor -> the torchvision release series built for it. Each pair was read from the
# torchvision wheels' own metadata on PyPI (Requires-Dist: torch==X.Y.0), 0.19.0 to 0.29.0.
TORCHVISION_FOR_TORCH = {
    "2.14": "0.29",
    "2.13": "0.28",
    "2.12": "0.27",
    "2.11": "0.26",
    "2.10": "0.25",
    "2.9": "0.24",
    "2.8": "0.23",
    "2.7": "0.22",
    "2.6": "0.21",
    "2.5": "0.20",
    "2.4": "0.19",
}
# `timm.models.layers` (what the remote code imports) is the old name timm 0.9 introduced the
# new one beside; 1.x keeps it as a deprecated alias.
TIMM_REQUIREMENT = "timm>=0.9,<2"
# Also imported by the remote code (the cards say `pip install timm easydict einops`).
OTHER_PACKAGES = ("einops", "easydict")
# The families whose checkpoints' own code imports timm: every OpenGVLab seed family.
TIMM_FAMILIES = frozenset({"internvl2", "internvideo2.5", "internvideo2", "internvideo2-hd"})
# A torch with a local label (2.13.0+cpu, +cu126, +rocm6.4, +xpu) came from PyTorch's own index,
# which has the torchvision of the same label; PyPI's torchvision is the plain (CUDA on Linux) build.
PYTORCH_INDEX = "https://download.pytorch.org/whl/"
NEEDS = "needs timm/torchvision"
CHECK_TIMEOUT_S = 180.0


def torchvision_series(torch_version: str) -> str | None:
    """"0.28.*" for torch 2.13.x, or None where no torchvision release is known for it."""
    public = torch_version.split("+", 1)[0]
    series = TORCHVISION_FOR_TORCH.get(".".join(public.split(".")[:2]))
    return f"{series}.*" if series else None


def local_label(torch_version: str) -> str:
    """"cpu" for 2.13.0+cpu, "" for a plain release."""
    return torch_version.split("+", 1)[1] if "+" in torch_version else ""


def torchvision_requirement(torch_version: str) -> str | None:
    """The torchvision to install beside this torch; None where no release pairs with it.

    A plain torch gets the series, and pip picks the patch release whose own `torch==` pin matches.
    A labelled torch gets the one build of its label: that pin cannot tell 2.13.0+cpu from PyPI's
    2.13.0, whose torchvision (a CUDA build on Linux) installs beside it and then fails to import.
    Patch releases pair by number (torch 2.Y.Z with torchvision 0.(Y+15).Z).
    """
    series = torchvision_series(torch_version)
    label = local_label(torch_version)
    if series is None or not label:
        return f"torchvision=={series}" if series else None
    patch = torch_version.split("+", 1)[0].split(".")[2:3] or ["0"]
    return f"torchvision=={series[:-1]}{patch[0]}+{label}"


def install_arguments(torch_version: str, with_index: bool = False) -> list[str] | None:
    """pip's arguments for the packages the remote code imports, torch held where it is; None without a pair.

    `with_index`: add PyTorch's index of the torch's label (the fix for a labelled torch).
    """
    torchvision = torchvision_requirement(torch_version)
    if torchvision is None:
        return None
    arguments = [f"torch=={torch_version}", torchvision, TIMM_REQUIREMENT, *OTHER_PACKAGES]
    label = local_label(torch_version)
    if with_index and label:
        arguments += ["--extra-index-url", PYTORCH_INDEX + label]
    return arguments


def _quoted(words: list[str]) -> str:
    return subprocess.list2cmdline(words) if os.name == "nt" else shlex.join(words)


def fix_command(python: str, torch_version: str | None) -> str:
    """The one command that installs what the remote code imports into `python`'s environment, or what to do instead."""
    if getattr(sys, "frozen", False):
        return "build the app again on a machine where timm and torchvision import beside torch (scripts/build-app.sh)"
    if torch_version is None:
        return _quoted([python, "-m", "pip", "install", "torch", "torchvision", TIMM_REQUIREMENT, *OTHER_PACKAGES])
    arguments = install_arguments(torch_version, with_index=True)
    if arguments is None:
        known = sorted(TORCHVISION_FOR_TORCH, key=lambda v: tuple(map(int, v.split("."))))
        return (f"install a torch from {known[0]} to {known[-1]} and its torchvision "
                f"(e.g. {_quoted([python, '-m', 'pip', 'install', f'torch=={known[-1]}.*', f'torchvision=={TORCHVISION_FOR_TORCH[known[-1]]}.*'])}), "
                f"then {_quoted([python, '-m', 'pip', 'install', TIMM_REQUIREMENT, *OTHER_PACKAGES])}")
    return _quoted([python, "-m", "pip", "install", *arguments])


def not_installed_line(torch_version: str, python: str) -> str:
    """What setup says, in one line, when no torchvision that imports beside this torch could be installed."""
    why = (f"no torchvision build matches torch {torch_version} here" if torchvision_series(torch_version)
           else f"no torchvision release is known for torch {torch_version}")
    return f"timm/torchvision not installed: {why}; the OpenGVLab models will not load (fix: {fix_command(python, torch_version)})"


# -- the check, in the interpreter that runs the models -----------------------------------------


@dataclass(frozen=True)
class PackageCheck:
    """Whether the remote code's imports work in one interpreter; `problem` says why not, `fix` what to run."""

    python: str
    torch: str | None
    problem: str | None
    fix: str

    @property
    def ok(self) -> bool:
        return self.problem is None


def import_problem() -> str | None:
    """In this process (the model process, never the window): why timm or torchvision do not import, or None.

    A missing package is found without importing anything; when both are there, they are
    imported with transformers, which is where a torchvision built for another torch fails.
    """
    for name in ("torchvision", "timm"):
        try:
            if importlib.util.find_spec(name) is None:
                return f"{name} is not installed"
        except (ImportError, ValueError) as error:
            return f"{name} does not import ({type(error).__name__}: {error})"
    try:
        # A probe of what the remote code imports, by name: the core itself uses neither timm nor torchvision.
        for name in ("torch", "torchvision", "timm.models.layers", "transformers"):
            importlib.import_module(name)
    except Exception as error:  # a torchvision for another torch fails in several ways (RuntimeError, AttributeError, ...)
        return f"timm/torchvision do not import ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})"
    return None


def installed_torch() -> str | None:
    """The installed torch's version, read from its metadata (torch itself is not imported)."""
    import importlib.metadata  # here: the window's model manager imports this module on the GUI thread (31 ms)

    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return None


def check_here() -> PackageCheck:
    problem = import_problem()
    return PackageCheck(sys.executable, installed_torch(), problem, fix_command(sys.executable, installed_torch()))


_checked: dict[str, PackageCheck] = {}
_checking = threading.Lock()


def check_interpreter(python: str | None = None) -> PackageCheck:
    """The check in a subprocess of `python` (default: this interpreter), once per interpreter; blocks: call it off the GUI thread.

    In the bundle the model process is the bundle itself, whose packages are fixed when it is built:
    whether timm and torchvision are in it is read from its archive, with nothing imported.
    """
    python = python or sys.executable
    with _checking:
        if python not in _checked:
            _checked[python] = _frozen_check(python) if getattr(sys, "frozen", False) else _run_check(python)
        return _checked[python]


def forget_checks() -> None:
    """After the environment changed (tests; a user who installed the fix): check again."""
    with _checking:
        _checked.clear()


def _frozen_check(python: str) -> PackageCheck:
    missing = [name for name in ("torchvision", "timm") if importlib.util.find_spec(name) is None]
    return PackageCheck(python, None, f"this build has no {' or '.join(missing)}" if missing else None, fix_command(python, None))


def _run_check(python: str) -> PackageCheck:
    try:
        from videochat.paths import child_working_folder
        from videochat.runtimes import runtime_environment

        result = subprocess.run([python, "-m", "videochat.models.torch_pairs", "check"], capture_output=True, text=True, timeout=CHECK_TIMEOUT_S,
                                stdin=subprocess.DEVNULL, env=runtime_environment("seed"), cwd=child_working_folder())
        answer = json.loads(result.stdout.strip().splitlines()[-1])
        return PackageCheck(python, answer.get("torch"), answer.get("problem"), str(answer.get("fix", "")))
    except (OSError, subprocess.SubprocessError, ValueError, IndexError, AttributeError) as error:
        return PackageCheck(python, None, f"the check did not run ({type(error).__name__}: {error})", fix_command(python, None))


def main(argv: list[str]) -> int:
    if argv[:1] == ["check"]:
        print(json.dumps(asdict(check_here())))
        return 0
    if argv[:1] == ["install-args"] and len(argv) == 2:
        arguments = install_arguments(argv[1])
        if arguments is None:
            return 1
        print("\n".join(arguments))
        return 0
    if argv[:1] == ["not-installed"] and len(argv) == 3:
        print(not_installed_line(argv[1], argv[2]))
        return 0
    print(__doc__.split("\n\n")[-1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
