"""The one table of torch ↔ torchvision pairs, the fix command built from it, and the check in a model interpreter."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.standins import without_timm
from videochat.models import torch_pairs
from videochat.models.torch_pairs import fix_command, install_arguments, installed_torch, not_installed_line, torchvision_series


@pytest.mark.parametrize("torch_version, series", [("2.13.0+cpu", "0.28.*"), ("2.13.1", "0.28.*"), ("2.4.1+cu121", "0.19.*"), ("2.10.0", "0.25.*"), ("2.1.2", None)])
def test_each_torch_release_gets_the_torchvision_series_built_for_it(torch_version, series):
    assert torchvision_series(torch_version) == series


def test_the_install_holds_torch_where_it_is_and_a_labelled_torch_s_fix_uses_pytorch_s_index_of_that_label():
    assert install_arguments("2.13.0+cpu") == ["torch==2.13.0+cpu", "torchvision==0.28.0+cpu", "timm>=0.9,<2", "einops", "easydict"]
    assert install_arguments("2.12.0")[:2] == ["torch==2.12.0", "torchvision==0.27.*"]
    assert install_arguments("2.13.0+cpu", with_index=True)[-2:] == ["--extra-index-url", "https://download.pytorch.org/whl/cpu"]
    assert "--extra-index-url" not in install_arguments("2.12.0", with_index=True)
    assert install_arguments("2.2.0") is None


def test_the_fix_is_one_command_for_the_model_s_own_interpreter():
    command = fix_command("/opt/app env/bin/python", "2.11.0")
    assert command == "'/opt/app env/bin/python' -m pip install torch==2.11.0 'torchvision==0.26.*' 'timm>=0.9,<2' einops easydict"


def test_setup_s_line_is_one_line_that_names_torch_and_the_fix_and_says_so_when_no_release_pairs_with_it():
    line = not_installed_line("2.13.0+cpu", ".venv/bin/python")
    assert line.startswith("timm/torchvision not installed: no torchvision build matches torch 2.13.0+cpu here")
    assert "\n" not in line and line.endswith(f"(fix: {fix_command('.venv/bin/python', '2.13.0+cpu')})")
    assert "no torchvision release is known for torch 2.2.0" in not_installed_line("2.2.0", "python") and "torch from 2.4 to 2.14" in not_installed_line("2.2.0", "python")


def test_setup_reads_the_table_through_the_module_s_command_line():
    run = [sys.executable, "-m", "videochat.models.torch_pairs"]
    answered = subprocess.run([*run, "install-args", "2.12.0"], capture_output=True, text=True, check=True)
    assert answered.stdout.split() == install_arguments("2.12.0")
    assert subprocess.run([*run, "install-args", "2.0.0"], capture_output=True).returncode == 1


def test_the_check_runs_in_the_interpreter_it_is_asked_about_once_and_says_what_to_run(monkeypatch):
    for name, value in without_timm(dict(os.environ)).items():
        monkeypatch.setenv(name, value)
    torch_pairs.forget_checks()
    runs = []
    real_run = subprocess.run
    monkeypatch.setattr(torch_pairs.subprocess, "run", lambda *a, **k: runs.append(a) or real_run(*a, **k))
    try:
        check = torch_pairs.check_interpreter(sys.executable)
        again = torch_pairs.check_interpreter(sys.executable)
    finally:
        torch_pairs.forget_checks()
    assert len(runs) == 1 and again is check
    assert not check.ok and check.problem and check.torch == installed_torch()
    assert check.fix == fix_command(sys.executable, installed_torch())


def test_a_check_that_cannot_run_is_a_problem_not_a_crash():
    torch_pairs.forget_checks()
    try:
        check = torch_pairs.check_interpreter("/nonexistent/python")
    finally:
        torch_pairs.forget_checks()
    assert not check.ok and "did not run" in check.problem
