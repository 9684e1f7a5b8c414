"""`videochat-desktop --self-test`: the check a built bundle runs, here on the installed app."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from tests.support import REPO_ROOT


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from tests.support.tiny_native import build_llava_onevision

    return build_llava_onevision(tmp_path_factory.mktemp("llava-tiny"))


def self_test(clip, model, tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")}
    return subprocess.run(
        [sys.executable, "-m", "desktop", str(clip), "--model", str(model), "--self-test", "--timeout", "120"],
        capture_output=True, text=True, timeout=180, env=env,
    )  # fmt: skip


def test_the_self_test_opens_the_clip_loads_the_model_answers_and_exits_0(tiny_model, clips, tmp_path):
    result = self_test(clips("plain.mp4"), tiny_model, tmp_path)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["frozen"] is False and answer["question"] and len(answer["times"]) == answer["frames"] == 8
    assert not (tmp_path / "config" / "videochat" / "settings.json").exists()  # the user's settings are left alone


def test_the_self_test_says_what_failed_and_exits_1(clips, tmp_path):
    result = self_test(clips("short.mp4"), tmp_path / "no-such-model", tmp_path)
    assert result.returncode == 1
    assert "self-test failed: the model did not load" in result.stderr


def test_when_qt_cannot_load_the_launcher_says_why_and_leaves_a_report(tmp_path):
    """What the bundle's launchers do when Qt itself fails (a missing system library): no silent exit."""
    script = (
        "import sys; sys.modules['PySide6'] = None\n"  # `import PySide6` now fails as a broken install would
        "from desktop.startup import run_app\n"
        "sys.exit(run_app([]))\n"
    )
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "PATH": ""}  # no zenity & co: stderr and the report only
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 1
    assert "ImportError" in result.stderr or "ModuleNotFoundError" in result.stderr
    [report] = (tmp_path / "state").rglob("start-failure-*.txt")
    assert "PySide6" in report.read_text(encoding="utf-8")


def test_the_console_launcher_knows_every_command_of_the_cli():
    import importlib.util

    from videochat.cli.commands import build_parser

    path = REPO_ROOT / "build" / "launch_console.py"
    spec = importlib.util.spec_from_file_location("launch_console", path)
    launcher = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launcher)
    [commands] = [action.choices for action in build_parser()._actions if getattr(action, "choices", None) and isinstance(action.choices, dict)]
    assert launcher.COMMANDS == set(commands)
