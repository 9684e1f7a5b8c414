"""The system packages the window needs are one list (scripts/system-packages.txt): README's apt line
names them, .ci/run installs them, run.sh's check looks for each one's library and names each missing one once."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path
from tests.support import REPO_ROOT

ROOT = REPO_ROOT
LIST = ROOT / "scripts" / "system-packages.txt"
CHECK = ROOT / "scripts" / "check-system.sh"


def listed() -> list[tuple[str, str, str]]:
    rows = []
    for line in LIST.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            package, library, *scope = line.split()
            rows.append((package, library, scope[0] if scope else ""))
    return rows


def test_readme_names_exactly_the_listed_packages():
    readme = ROOT.joinpath("README.md").read_text()
    [apt_line] = re.findall(r"sudo apt-get install ([^`]+)`", readme.replace("\n", " "))
    assert sorted(apt_line.split()) == sorted(package for package, _, _ in listed())


def test_run_sh_and_ci_read_the_list_and_name_no_package_of_their_own():
    packages = {package for package, _, _ in listed()}
    run_sh, ci = ROOT.joinpath("run.sh").read_text(), ROOT.joinpath(".ci", "run").read_text()
    assert "scripts/check-system.sh" in run_sh and "scripts/system-packages.txt" in CHECK.read_text()
    assert "scripts/system-packages.txt" in ci
    for text in (run_sh, ci, CHECK.read_text()):
        assert not packages & set(re.findall(r"[\w.+-]+", text))


def run_check(tmp_path, known_libraries: list[str], **env) -> subprocess.CompletedProcess:
    """The check with a stand-in `ldconfig` that knows only `known_libraries`."""
    ldconfig = tmp_path / "ldconfig"
    lines = "".join(f"\t{library} (libc6,x86-64) => /usr/lib/{library}\\n" for library in known_libraries)
    ldconfig.write_text(f"#!/bin/sh\nprintf '{lines}'\n")
    ldconfig.chmod(ldconfig.stat().st_mode | stat.S_IXUSR)
    environment = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    environment.update(PATH=f"{tmp_path}:{os.environ['PATH']}", **env)
    return subprocess.run([str(CHECK)], env=environment, capture_output=True, text=True, timeout=30)


def test_the_check_names_each_missing_package_once_with_one_apt_line(tmp_path):
    rows = listed()
    result = run_check(tmp_path, [library for _, library, _ in rows[1:]], DISPLAY=":0")
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.endswith(f"sudo apt-get install {rows[0][0]}")
    everything_missing = run_check(tmp_path, [], DISPLAY=":0").stderr
    assert sorted(everything_missing.split("install", 1)[1].split()) == sorted(package for package, _, _ in rows)


def test_the_check_asks_for_x11_libraries_only_when_the_window_uses_x11(tmp_path):
    rows = listed()
    not_x11 = [library for _, library, scope in rows if scope != "x11"]
    assert run_check(tmp_path, not_x11, WAYLAND_DISPLAY="wayland-0").returncode == 0
    assert run_check(tmp_path, not_x11, QT_QPA_PLATFORM="offscreen").returncode == 0
    assert run_check(tmp_path, not_x11, DISPLAY=":0").returncode == 1
    assert run_check(tmp_path, [library for _, library, _ in rows], DISPLAY=":0").returncode == 0


def test_with_no_display_the_check_says_so_and_how_to_run_without_one(tmp_path):
    result = run_check(tmp_path, [library for _, library, _ in listed()])
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert "no display" in line and "xvfb-run" in line and "QT_QPA_PLATFORM=offscreen" in line
