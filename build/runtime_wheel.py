"""What the bundle carries for installing the current runtime: a wheel of the project's `videochat` package, and its list of packages.

    .venv/bin/python build/runtime_wheel.py OUT_FOLDER     (makes OUT_FOLDER/videochat_desktop-*.whl)

The bundle's code is frozen, so another interpreter cannot import it: a runtime installed from the
bundle installs this wheel instead (videochat/runtimes/sources.py `bundled_wheel`). The wheel is
built from `write_project`'s copy of the package in a temporary folder, the same copy a runtime made
from the source tree installs from, so nothing is built inside the source tree. Offline and without
build isolation: the building interpreter's setuptools (PyInstaller's own dependency) builds it.
`bundle_datas` is what build/videochat.spec adds to the bundle's data files.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from videochat.errors import RuntimeInstallError  # noqa: E402
from videochat.runtimes.sources import BUNDLE_WHEELS, pinned_packages, requirements_file, write_project  # noqa: E402

WHEELS = "videochat_desktop-*.whl"


def make_wheel(out_folder: Path, python: str = sys.executable) -> Path:
    """Build the project's wheel into `out_folder` (which must hold no other); its path."""
    out_folder.mkdir(parents=True, exist_ok=True)
    if list(out_folder.glob(WHEELS)):
        raise SystemExit(f"{out_folder} already holds a wheel of the project: the bundle must carry exactly one")
    with tempfile.TemporaryDirectory(prefix="videochat-wheel-") as scratch:
        project = write_project(Path(scratch) / "project")
        command = [python, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--no-cache-dir",
                   "--disable-pip-version-check", "--quiet", "-w", str(out_folder), str(project)]  # fmt: skip
        result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=scratch)
        if result.returncode != 0:
            raise SystemExit(f"building the project's wheel failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    wheels = list(out_folder.glob(WHEELS))
    if len(wheels) != 1:
        raise SystemExit(f"expected one wheel of the project in {out_folder}, found {[wheel.name for wheel in wheels]}")
    return wheels[0]


def bundle_datas(work_folder: Path) -> list[tuple[str, str]]:
    """The spec's data entries: the wheel (made in `work_folder`) into `runtime/`, the list of packages beside its module."""
    requirements = requirements_file("current")
    try:
        pinned_packages(requirements)  # what every install of the bundle will check: better the build fails than they do
    except RuntimeInstallError as error:
        raise SystemExit(f"the runtime's package list cannot ship: {error}") from None
    wheel = make_wheel(Path(tempfile.mkdtemp(prefix="runtime-wheel-", dir=work_folder)))
    return [(str(wheel), BUNDLE_WHEELS), (str(requirements), requirements.parent.relative_to(ROOT).as_posix())]


if __name__ == "__main__":
    print(make_wheel(Path(sys.argv[1]).resolve()))
