"""A runtime install given hostile inputs: a package list that would add pip options, indexes, URLs or paths,
and a runtimes folder others may write to (where they could swap the folder pip runs from).

Nothing is run in either case: the venv step's Python is a booby trap that leaves a file if it runs.
"""

from __future__ import annotations

import os

import pytest

from videochat import errors
from videochat.runtimes import install as installing
from videochat.runtimes import runtimes_folder
from videochat.runtimes.sources import pinned_packages, requirements_file


@pytest.fixture(autouse=True)
def data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture
def trap(tmp_path, monkeypatch):
    ran = tmp_path / "ran"
    script = tmp_path / "trapped-python"
    script.write_text(f"#!/bin/sh\necho ran >> {ran}\n")
    script.chmod(0o755)
    monkeypatch.setattr(installing, "base_python", lambda: script)
    return ran


HOSTILE_LINES = [
    "--extra-index-url https://evil.example/simple",
    "--index-url=https://evil.example/simple",
    "numpy==2.4.6 --index-url https://evil.example/simple",
    "-e git+https://evil.example/x.git#egg=x",
    "git+https://evil.example/x.git",
    "https://evil.example/x-1.0-py3-none-any.whl",
    "x @ file:///tmp/x",
    "./x",
    "/tmp/x-1.0-py3-none-any.whl",
    "-r /tmp/other.txt",
    "--trusted-host evil.example",
    "numpy>=1.0",
    "numpy==2.4.6 --hash=sha256:00",
]


@pytest.mark.parametrize("line", HOSTILE_LINES)
def test_a_package_list_line_that_is_not_a_plain_pin_is_refused_before_anything_runs(tmp_path, trap, line):
    listed = tmp_path / "current-requirements.txt"
    listed.write_text(f"# the pins\ntorch==2.13.0\n{line}\nnumpy==2.4.6\n")
    with pytest.raises(errors.RuntimeInstallError, match="line 3"):
        installing.install("current", requirements=listed)
    assert not trap.exists()
    assert [p.name for p in runtimes_folder().iterdir() if p.name != ".install.lock"] == []


def test_the_shipped_package_list_is_plain_pins_and_pip_gets_them_as_arguments_not_as_a_file(tmp_path, monkeypatch):
    pins = pinned_packages(requirements_file("current"))
    assert "transformers==5.25.0" in pins and all(not pin.startswith("-") for pin in pins)
    steps = []

    def run(argv, what, fraction, progress, should_stop):
        steps.append(argv)
        if len(steps) == 3:
            raise errors.Cancelled("enough")

    monkeypatch.setattr(installing, "_run", run)
    monkeypatch.setattr(installing, "base_python", lambda: tmp_path / "python")
    with pytest.raises(errors.Cancelled):
        installing.install("current", requirements=requirements_file("current"))
    assert "-r" not in steps[2] and steps[2][-len(pins):] == pins


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
@pytest.mark.parametrize("mode", [0o777, 0o757])
def test_a_runtimes_folder_others_may_write_to_is_refused_before_anything_runs(tmp_path, trap, mode):
    folder = runtimes_folder()
    folder.mkdir(parents=True)
    folder.chmod(mode)
    with pytest.raises(errors.RuntimeInstallError, match="others may write"):
        installing.install("current", requirements=requirements_file("current"))
    assert not trap.exists()


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
@pytest.mark.parametrize("opened", ["wheel", "folder"])
def test_a_bundled_wheel_others_may_write_to_or_in_a_folder_they_may_is_refused(tmp_path, monkeypatch, opened):
    import sys

    from videochat.runtimes.sources import BUNDLE_WHEELS, bundled_wheel

    internal = tmp_path / "VideoChat" / "_internal"
    folder = internal / BUNDLE_WHEELS
    folder.mkdir(parents=True)
    wheel = folder / "videochat_desktop-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"PK")
    monkeypatch.setattr(sys, "_MEIPASS", str(internal), raising=False)
    assert bundled_wheel() == wheel
    (wheel if opened == "wheel" else folder).chmod(0o666 if opened == "wheel" else 0o777)
    with pytest.raises(errors.RuntimeInstallError, match="others may write"):
        bundled_wheel()


@pytest.mark.skipif(os.name != "posix", reason="links and FIFOs")
def test_the_copy_of_the_package_a_runtime_installs_leaves_out_links_and_fifos(tmp_path, monkeypatch):
    import videochat
    from videochat.runtimes.sources import write_project

    package = tmp_path / "source" / "videochat"
    (package / "runtimes").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "runtimes" / "current-requirements.txt").write_text("numpy==2.4.6\n")
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "id_rsa").write_text("PRIVATE")
    (package / "linked_folder").symlink_to(secret)
    (package / "linked_file.py").symlink_to(secret / "id_rsa")
    os.mkfifo(package / "pipe.py")
    monkeypatch.setattr(videochat, "__file__", str(package / "__init__.py"))
    copy = write_project(tmp_path / "project")
    names = sorted(str(path.relative_to(copy)) for path in copy.rglob("*"))
    assert names == ["pyproject.toml", "videochat", "videochat/__init__.py", "videochat/runtimes", "videochat/runtimes/current-requirements.txt"]
