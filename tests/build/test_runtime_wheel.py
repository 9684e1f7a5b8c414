"""build/runtime_wheel.py: the wheel the bundle carries installs VideoChat's code into another Python, and the
spec's data entries put it (and the runtime's package list) where the frozen app looks for them."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.support import REPO_ROOT
from tests.support.build_scripts import runtime_wheel
from videochat.families import all_families
from videochat.runtimes.sources import bundled_wheel, requirements_file


def source_tree_listing() -> set[str]:
    """Where building in the tree would leave something: egg-info at the top, build output in build/ or the package."""
    inside = [path for folder in ("videochat", "build") for path in (REPO_ROOT / folder).rglob("*") if "__pycache__" not in path.parts]
    return {str(path.relative_to(REPO_ROOT)) for path in [*REPO_ROOT.glob("*.egg-info"), *inside]}


def without_pythonpath() -> dict[str, str]:
    """The environment less PYTHONPATH: a checkout on it whose editable install left egg-info there reads to pip as
    VideoChat already installed in the new venv, and it would skip the wheel (as the installer, it drops it)."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    before = source_tree_listing()
    made = runtime_wheel().make_wheel(tmp_path_factory.mktemp("wheel"))
    assert source_tree_listing() == before  # built from a copy: no build/ output, no egg-info in the tree
    return made


def test_the_wheel_holds_every_module_of_the_package_and_the_runtime_s_package_list(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    package = REPO_ROOT / "videochat"
    sources = {path.relative_to(REPO_ROOT).as_posix() for path in package.rglob("*.py")} | {"videochat/runtimes/current-requirements.txt"}
    assert sources <= names
    assert not [name for name in names if name.startswith(("desktop/", "tests/")) or name.endswith(".pyc")]


def test_the_wheel_installs_without_dependencies_into_another_python_where_the_families_and_package_list_import(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "--quiet",
                    "--disable-pip-version-check", str(wheel)], check=True, timeout=300, env=without_pythonpath())  # fmt: skip
    # The families need numpy and the like, which a runtime has: lent from this venv, after the runtime's
    # own packages (a .pth line is appended to the path; this venv's editable finder is not installed there).
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    Path(purelib, "lent-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    check = (
        "import json, videochat; from videochat.families import all_families; from videochat.runtimes.sources import requirements_file; "
        "print(json.dumps({'code': videochat.__file__, 'families': sorted(all_families()), 'requirements': requirements_file('current').read_text()}))"
    )
    result = subprocess.run([str(python), "-I", "-c", check], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout)
    assert Path(answer["code"]).is_relative_to(venv)
    assert answer["families"] == sorted(all_families())
    assert answer["requirements"] == requirements_file("current").read_text()


def test_the_spec_s_data_entries_put_the_wheel_and_package_list_where_the_frozen_app_finds_them(tmp_path, monkeypatch):
    work = tmp_path / "pyinstaller-work"
    work.mkdir()
    entries = runtime_wheel().bundle_datas(work)
    internal = tmp_path / "VideoChat" / "_internal"
    for source, destination in entries:  # as PyInstaller's COLLECT lays data files out
        (internal / destination).mkdir(parents=True, exist_ok=True)
        (internal / destination / Path(source).name).write_bytes(Path(source).read_bytes())
    package_list = requirements_file("current")
    assert (internal / package_list.relative_to(REPO_ROOT)).read_text() == package_list.read_text()
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(internal), raising=False)
    assert zipfile.ZipFile(bundled_wheel()).getinfo("videochat/runtimes/sources.py")


def test_a_folder_that_already_holds_a_wheel_is_refused_so_the_bundle_never_carries_two(wheel):
    with pytest.raises(SystemExit, match="already holds a wheel"):
        runtime_wheel().make_wheel(wheel.parent)


def smoke_test():
    spec = importlib.util.spec_from_file_location("smoke_test", REPO_ROOT / "build" / "smoke_test.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bundle_s_smoke_test_finds_the_wheel_the_spec_lays_out_and_refuses_a_second(tmp_path, capsys):
    work = tmp_path / "pyinstaller-work"
    work.mkdir()
    bundle = tmp_path / "VideoChat"
    for source, destination in runtime_wheel().bundle_datas(work):
        (bundle / "_internal" / destination).mkdir(parents=True, exist_ok=True)
        (bundle / "_internal" / destination / Path(source).name).write_bytes(Path(source).read_bytes())
    checks = smoke_test()
    assert checks._carries_the_runtime_wheel(bundle)
    (bundle / "_internal" / "runtime" / "videochat_desktop-0.0.1-py3-none-any.whl").write_bytes(b"PK")
    assert not checks._carries_the_runtime_wheel(bundle)
    assert "should hold one regular videochat_desktop" in capsys.readouterr().err
