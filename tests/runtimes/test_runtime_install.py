"""Installing a runtime is all or nothing: a failed, cancelled or interrupted install leaves no runtime and no
temporary folder, and the pip (or venv) it ran is ended. The successful install (4+ GB) runs in `.ci/run`."""

from __future__ import annotations

import os
import shlex
import sys
import time

import pytest

from videochat import errors
from videochat.file_lock import locked
from videochat.runtimes import install as installing
from videochat.runtimes import problem, runtimes_folder


@pytest.fixture(autouse=True)
def data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


def leftovers() -> list[str]:
    folder = runtimes_folder()
    return sorted(path.name for path in folder.iterdir() if path.name != ".install.lock") if folder.exists() else []


def requirements(tmp_path, text="surely-no-such-package-videochat==1.0\n"):
    path = tmp_path / "current-requirements.txt"
    path.write_text(text)
    return path


def test_requirements_that_cannot_be_resolved_fail_the_install_and_leave_nothing(tmp_path, monkeypatch):
    # pip offline with nothing to find: it fails at resolving, as with an index that lacks a pin.
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    with pytest.raises(errors.RuntimeInstallError, match="failed .*nothing was kept"):
        installing.install("current", requirements=requirements(tmp_path))
    assert problem("current") == "not installed" and leftovers() == []


def a_slow_python(tmp_path, monkeypatch):
    """The venv step's Python: writes its pid and sleeps, as a long pip download would.

    The pid file appears whole (written aside, then renamed): the tests stop the install as soon as it
    exists, and a step killed between `>` creating it and `echo` filling it left it empty."""
    pid_file = tmp_path / "pid"
    script = tmp_path / "slow-python"
    part, whole = shlex.quote(f"{pid_file}.part"), shlex.quote(str(pid_file))
    script.write_text(f"#!/bin/sh\necho $$ > {part}\nmv {part} {whole}\nexec sleep 60\n")
    script.chmod(0o755)
    monkeypatch.setattr(installing, "base_python", lambda: script)
    return pid_file


def ended(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_cancel_mid_install_ends_the_step_and_leaves_nothing_not_even_an_earlier_killed_install(tmp_path, monkeypatch):
    pid_file = a_slow_python(tmp_path, monkeypatch)
    killed_before = runtimes_folder() / ".installing-current-old"
    (killed_before / "bin").mkdir(parents=True)
    stages = []
    with pytest.raises(errors.Cancelled, match="nothing was kept"):
        installing.install("current", lambda what, fraction: stages.append(what), pid_file.exists, requirements=requirements(tmp_path))
    assert stages[0].startswith("Making the Python environment")
    assert ended(int(pid_file.read_text()))
    assert problem("current") == "not installed" and leftovers() == []


def test_ctrl_c_mid_install_ends_the_step_and_leaves_nothing(tmp_path, monkeypatch):
    pid_file = a_slow_python(tmp_path, monkeypatch)

    def interrupt() -> bool:
        if pid_file.exists():
            raise KeyboardInterrupt
        return False

    with pytest.raises(KeyboardInterrupt):
        installing.install("current", None, interrupt, requirements=requirements(tmp_path))
    assert ended(int(pid_file.read_text()))
    assert leftovers() == []


def test_a_second_install_at_the_same_time_is_refused(tmp_path):
    runtimes_folder().mkdir(parents=True)
    with locked(runtimes_folder() / ".install.lock"):
        with pytest.raises(errors.RuntimeInstallError, match="Another install"):
            installing.install("current", requirements=requirements(tmp_path))


def test_an_app_without_the_runtime_s_package_list_says_so(tmp_path):
    with pytest.raises(errors.RuntimeInstallError, match="no list of packages"):
        installing.install("current", requirements=tmp_path / "missing.txt")
    assert leftovers() == []


def test_the_pair_is_the_app_s_torch_from_pypi_with_the_torchvision_built_for_it():
    from videochat.runtimes.sources import NEWEST_PAIR, torch_pair

    assert torch_pair("2.13.0+cpu") == ("2.13.0", "0.28.0")
    assert torch_pair("2.12.1") == ("2.12.1", "0.27.1")
    assert torch_pair("1.13.1") == NEWEST_PAIR == torch_pair("2.13.0a0+git")


def test_the_project_is_installed_from_a_copy_never_built_in_the_source_tree(tmp_path):
    from videochat.runtimes.sources import project_source

    with project_source(tmp_path) as source:
        assert (source / "videochat" / "runtimes" / "install.py").is_file() and (source / "pyproject.toml").is_file()
        assert not list(source.rglob("__pycache__"))
    assert not source.exists()
