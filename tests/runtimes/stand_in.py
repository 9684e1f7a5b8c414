"""A stand-in installed runtime for tests: the layout and marker of an install, its interpreter this test's Python.

The real one is several GB of torch and transformers 5.x (`.ci/run` makes it with the CLI); the
machinery around it (where it is, when it counts as installed, which process runs in it) is the same.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from videochat.runtimes import MARKER, MARKER_FORMAT, python_in, runtime_folder


def make_runtime(name: str = "current", python_script: str | None = None) -> Path:
    """An installed-looking runtime in the data folder (XDG_DATA_HOME must point at a test's folder)."""
    folder = runtime_folder(name)
    python = python_in(folder)
    python.parent.mkdir(parents=True)
    os.chmod(folder.parent, 0o755)
    # A wrapper rather than a link: a link's venv would look for packages beside it and find none.
    python.write_text(python_script or f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    (folder / "pyvenv.cfg").write_text(f"home = {Path(sys.executable).parent}\n")
    (folder / MARKER).write_text(json.dumps({"name": name, "format": MARKER_FORMAT, "complete": True}))
    folder.chmod(0o755)
    return folder
