"""Where the current runtime's interpreter is, for tests that run transformers 5.x code in a subprocess.

The seed runtime (the test suite's own interpreter, transformers 4.48) cannot import transformers 5,
so tests of the current runtime's families run their checks with that runtime's Python. Found, in
order: `VIDEOCHAT_CURRENT_PYTHON`; the runtime installed in the app's data folder (`videochat runtime
install current`, as CI does); else the tests skip, saying how to get one.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV_VAR = "VIDEOCHAT_CURRENT_PYTHON"
MISSING = (
    "no current runtime: install it (`videochat runtime install current`) or set "
    f"{ENV_VAR} to the python of a venv with videochat/runtimes/current-requirements.txt installed"
)


def current_python() -> Path | None:
    """The current runtime's interpreter, or None where there is none."""
    given = os.environ.get(ENV_VAR)
    if given:
        return Path(given)
    try:
        from videochat.runtimes import interpreter
    except ImportError:  # the runtime machinery is not on this branch yet
        return None
    try:
        return interpreter("current")
    except Exception:  # a broken install is no interpreter for the tests
        return None


def require_current_python() -> Path:
    import pytest  # not in the current runtime, which imports this module to run bench/turns.py

    python = current_python()
    if python is None or not python.exists():
        pytest.skip(MISSING)
    return python


def run_in_current(python: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """`python args...` in the source tree with the hub offline; its output as text."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    return subprocess.run([str(python), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def checked(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stderr[-4000:]}"
    return result.stdout


__all__ = ["checked", "current_python", "require_current_python", "run_in_current"]
