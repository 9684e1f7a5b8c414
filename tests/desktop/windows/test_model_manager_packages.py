"""The model manager marks the models whose code imports timm when timm/torchvision do not import where the models run."""

from __future__ import annotations

import subprocess
import sys

import pytest

from desktop.threads.model_process import serve_command
from desktop.windows import model_manager as manager_module
from desktop.windows.model_manager import ModelManager
from desktop.windows.model_table import STATUS
from tests.support.hub_server import serving_this_process
from videochat.models import torch_pairs
from videochat.models.torch_pairs import NEEDS, PackageCheck

WAIT_MS = 60_000
FIX = "/app/python -m pip install torch==2.13.0+cpu torchvision==0.28.0+cpu 'timm>=0.9,<2' einops easydict"
MISSING = PackageCheck("/app/python", "2.13.0+cpu", "timm is not installed", FIX)
SEED = ["InternVL2-1B", "InternVideo2-Chat-8B", "InternVideo2_chat_8B_HD", "InternVideo2_5_Chat_8B"]
NATIVE = "llava-onevision-qwen2-0.5b-ov-hf"


@pytest.fixture
def open_manager(qtbot, tmp_path, monkeypatch):
    windows = []

    def open_() -> ModelManager:
        window = ModelManager()
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window

    with serving_this_process(tmp_path, monkeypatch):
        yield open_
        for window in windows:
            window.worker.shutdown()


def test_every_seed_model_is_marked_with_the_fix_on_hover_and_a_native_one_is_not(qtbot, open_manager, monkeypatch):
    monkeypatch.setattr(manager_module, "read_packages", lambda: MISSING)
    manager = open_manager()
    qtbot.waitUntil(lambda: all(manager.status_text(model).endswith(NEEDS) for model in SEED), timeout=WAIT_MS)
    assert NEEDS not in manager.status_text(NATIVE)
    row = manager.models().index("InternVL2-1B")
    assert manager.table.item(row, STATUS).toolTip().endswith(f"Fix: {FIX}")
    manager.select(NATIVE)
    manager.select("InternVideo2_5_Chat_8B")
    assert manager.message_label.text() == f"InternVideo2.5-Chat-8B {NEEDS}: timm is not installed in /app/python, which runs the models. Fix: {FIX}"


def test_where_they_import_nothing_is_marked(qtbot, open_manager, monkeypatch):
    monkeypatch.setattr(manager_module, "read_packages", lambda: PackageCheck("/app/python", "2.13.0", None, FIX))
    manager = open_manager()
    qtbot.waitUntil(lambda: manager.table.packages is not None, timeout=WAIT_MS)
    assert not any(NEEDS in manager.status_text(model) for model in manager.models())


def test_the_check_runs_once_in_a_subprocess_of_the_model_process_s_interpreter(qtbot, open_manager, monkeypatch):
    torch_pairs.forget_checks()
    commands = []
    real_run = subprocess.run
    monkeypatch.setattr(torch_pairs.subprocess, "run", lambda command, **kwargs: commands.append(command) or real_run(command, **kwargs))
    try:
        first, second = open_manager(), open_manager()
        for manager in (first, second):
            qtbot.waitUntil(lambda manager=manager: manager.table.packages is not None, timeout=WAIT_MS)
    finally:
        torch_pairs.forget_checks()
    assert commands == [[serve_command()[0], "-m", "videochat.models.torch_pairs", "check"]]
    check = first.table.packages
    assert second.table.packages is check
    assert first.status_text("InternVL2-1B").endswith(NEEDS) == (not check.ok)


def test_a_column_s_redraw_is_one_change_of_the_table(qtbot, open_manager, monkeypatch):
    # The columns are sized to their contents: each cell changed on its own re-measured the whole column.
    monkeypatch.setattr(manager_module, "read_packages", lambda: MISSING)
    manager = open_manager()
    qtbot.waitUntil(lambda: manager.table.packages is not None, timeout=WAIT_MS)
    changes = []
    manager.table.model().dataChanged.connect(lambda first, last, *_: changes.append((first.row(), last.row(), first.column())))
    manager.table.redraw_statuses()
    assert changes == [(0, len(manager.models()) - 1, STATUS)]
    assert all(manager.status_text(model).endswith(NEEDS) for model in SEED)


def test_the_runtimes_and_the_package_pairs_import_without_importlib_metadata():
    # The model manager imports both on the GUI thread; importlib.metadata (with email) cost it 30-70 ms.
    code = "import sys, videochat.runtimes, videochat.models.torch_pairs; assert 'importlib.metadata' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).returncode == 0
