"""Fixtures shared by the tests that drive the REAL current runtime from the seed interpreter (CLI and window).

Import them by name into a test module: `python` (the current runtime's interpreter, skipped where
there is none), `qwen2_5_vl` (a tiny random Qwen2.5-VL built by that interpreter) and `held_clip`.
"""

from __future__ import annotations

import pytest

from tests.support.current_runtime import checked, require_current_python, run_in_current

FAMILY = "qwen2.5-vl"


@pytest.fixture(scope="module")
def python():
    return require_current_python()


@pytest.fixture(scope="module")
def qwen2_5_vl(python, tmp_path_factory):
    folder = tmp_path_factory.mktemp("qwen2_5_vl")
    checked(run_in_current(python, "-m", "tests.support.tiny_current", FAMILY, str(folder)))
    return folder


@pytest.fixture(scope="module")
def held_clip(tmp_path_factory):
    """A variable-rate clip whose every 20th frame stays on screen for 1.5 s (a recording that froze)."""
    from tests.support.clips import write_clip

    return write_clip(tmp_path_factory.mktemp("held") / "held.mp4", frames=40, durations_ms=[40] * 19 + [1500])
