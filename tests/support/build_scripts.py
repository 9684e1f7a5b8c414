"""The build's scripts (build/), loaded by their path as the bundle's spec loads them."""

from __future__ import annotations

import importlib.util

from tests.support import REPO_ROOT


def runtime_wheel():
    """build/runtime_wheel.py as a module."""
    spec = importlib.util.spec_from_file_location("runtime_wheel", REPO_ROOT / "build" / "runtime_wheel.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
