"""Check a built bundle: it starts offscreen, opens a generated clip, loads a tiny checkpoint, answers, exits 0.

    .venv/bin/python build/smoke_test.py dist/VideoChat

The clip and the checkpoint (random weights, a locally trained tokenizer) are made with the
project's own test helpers; the bundle then runs with no network, its own empty settings, data
and Hugging Face cache, as on a fresh machine. It also checks what installing the current runtime
from the bundle needs (the project's wheel in `_internal/runtime/`, the package list) and that
`videochat-console runtime list` answers; it never installs the runtime (5 GB). Prints how long the
first answer took and what the bundle's size is made of.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    bundle = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "dist" / "VideoChat").resolve()
    program = bundle / ("VideoChat.exe" if sys.platform == "win32" else "VideoChat")
    if not program.exists():
        print(f"no bundle at {bundle}: build it with scripts/build-app.sh", file=sys.stderr)
        return 2
    from videochat.models.torch_pairs import NEEDS, check_interpreter

    # What the spec saw: the bundle carries timm/torchvision exactly where they import in this venv
    # (asked before the stand-ins' builders put the tests' stand-in of timm on the path).
    timm_bundled = check_interpreter(sys.executable).ok
    from tests.support.standins import build_internvl2
    from tests.support.tiny_native import build_llava_onevision
    from tests.support.clips import write_clip

    with tempfile.TemporaryDirectory(prefix="videochat-smoke-") as scratch:
        scratch = Path(scratch)
        clip = write_clip(scratch / "smoke clip.mp4", frames=48, width=160, height=120)
        # One model transformers knows, and one that runs its own code (as the InternVL cards do).
        internvl2 = build_internvl2(scratch / "tiny-internvl2")
        checks = [("LLaVA-OneVision (transformers' own code)", build_llava_onevision(scratch / "tiny-llava"), []),
                  ("InternVL2 stand-in (the checkpoint's own code)", internvl2, ["--trust-remote-code"])]  # fmt: skip
        if not timm_bundled:
            # The stand-in imports timm as the real code does: this bundle must refuse it with the typed
            # error, then answer with the same code once the timm import is taken out of it.
            if not _says_timm_is_missing(program, clip, internvl2, scratch / "home-no-timm", NEEDS):
                return 1
            checks[1] = ("InternVL2 stand-in (its own code, its timm import taken out: this bundle has no timm)",
                         _without_timm_import(internvl2, scratch / "tiny-internvl2-no-timm"), ["--trust-remote-code"])
        for number, (what, model, extra) in enumerate(checks):
            home = scratch / f"home-{number}"
            answer, elapsed = _self_test(program, clip, model, extra, home)
            if answer is None:
                return 1
            sessions = list((home / ".local/share/videochat/sessions").glob("*.json"))
            if len(sessions) != 1:
                print(f"FAILED: the session was not written at the platform's data path ({sessions})", file=sys.stderr)
                return 1
            print(f"OK: {what}: the bundle opened the clip, loaded the model and answered in {elapsed:.1f} s (frames at {answer['times']})")
        if not _command_line_works(bundle, clip):
            return 1
        if not _carries_the_runtime_wheel(bundle) or not _runtime_list_answers(bundle, scratch / "home-runtimes"):
            return 1
    dangling = [str(link.relative_to(bundle)) for link in bundle.rglob("*") if link.is_symlink() and not link.exists()]
    if dangling:
        print(f"FAILED: links to files the build left out: {dangling}", file=sys.stderr)
        return 1
    print(f"bundle size: {_size(bundle) / 2**20:.0f} MiB; the largest parts:")
    for name, size in _largest_parts(bundle):
        print(f"  {size / 2**20:7.0f} MiB  {name}")
    return 0


def _command_line_works(bundle: Path, clip: Path) -> bool:
    """`videochat-console probe CLIP --json`: the command line in the bundle reads video as the installed one does."""
    program = bundle / ("videochat-console.exe" if sys.platform == "win32" else "videochat-console")
    result = subprocess.run([str(program), "probe", str(clip), "--json"], capture_output=True, text=True, timeout=120)
    if result.returncode != 0 or json.loads(result.stdout or "{}").get("frame_count") != 48:
        print(result.stdout[-2000:], result.stderr[-4000:], sep="\n", file=sys.stderr)
        print("FAILED: videochat-console probe did not read the clip", file=sys.stderr)
        return False
    print("OK: videochat-console probe read the clip's 48 frames")
    return True


def _carries_the_runtime_wheel(bundle: Path) -> bool:
    """One wheel of the project in _internal/runtime/ and the runtime's package list: what installing the current runtime needs."""
    from videochat.runtimes.sources import BUNDLE_WHEELS, WHEEL_NAME, requirements_file

    internal = bundle / "_internal"
    wheels = sorted((internal / BUNDLE_WHEELS).glob("*.whl"))
    package_list = internal / requirements_file("current").relative_to(ROOT)
    problems = []
    if len(wheels) != 1 or not WHEEL_NAME.fullmatch(wheels[0].name) or wheels[0].is_symlink() or not wheels[0].is_file():
        problems.append(f"{BUNDLE_WHEELS}/ should hold one regular videochat_desktop-*-py3-none-any.whl, holds {[wheel.name for wheel in wheels]}")
    elif "videochat/runtimes/sources.py" not in zipfile.ZipFile(wheels[0]).namelist():
        problems.append(f"{wheels[0].name} does not hold the videochat package")
    if not package_list.is_file() or package_list.read_bytes() != requirements_file("current").read_bytes():
        problems.append(f"{package_list.relative_to(bundle)} is missing or differs from the source tree's")
    if problems:
        print("FAILED: " + "; ".join(problems), file=sys.stderr)
        return False
    print(f"OK: the bundle carries {wheels[0].name} ({wheels[0].stat().st_size / 2**10:.0f} KiB) and the current runtime's package list")
    return True


def _runtime_list_answers(bundle: Path, home: Path) -> bool:
    """`videochat-console runtime list --json` in an empty home: the bundle's own (seed) runtime, current not installed."""
    program = bundle / ("videochat-console.exe" if sys.platform == "win32" else "videochat-console")
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / ".local/share"), "XDG_CONFIG_HOME": str(home / ".config")}
    env.pop("PYTHONPATH", None)
    result = subprocess.run([str(program), "runtime", "list", "--json"], capture_output=True, text=True, env=env, timeout=120)
    try:
        states = {state["name"]: state for state in json.loads(result.stdout)}
    except (ValueError, TypeError, KeyError):
        states = {}
    if result.returncode != 0 or not states.get("seed", {}).get("installed") or states.get("current", {}).get("installed") is not False:
        print(result.stdout[-2000:], result.stderr[-4000:], sep="\n", file=sys.stderr)
        print("FAILED: videochat-console runtime list did not list the seed runtime and an uninstalled current one", file=sys.stderr)
        return False
    seed = states["seed"]
    print(f"OK: videochat-console runtime list: seed (python {seed.get('python')}, transformers {seed.get('transformers')}), current not installed")
    return True


def _run_self_test(program: Path, clip: Path, model: Path, extra: list[str], home: Path) -> subprocess.CompletedProcess:
    """The bundle's self-test in an empty home, offline, with nothing of this checkout on its path."""
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "HF_HOME": str(home / ".cache/huggingface"),
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("PYTHONPATH", None)
    command = [str(program), str(clip), "--model", str(model), "--self-test", "--timeout", "240", *extra]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def _self_test(program: Path, clip: Path, model: Path, extra: list[str], home: Path):
    """Run the bundle's self-test in an empty home, offline: (the answer, seconds), or (None, seconds) after saying why."""
    started = time.perf_counter()
    result = _run_self_test(program, clip, model, extra, home)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-6000:], sep="\n", file=sys.stderr)
        print(f"FAILED: the bundle exited with {result.returncode} on {model.name}", file=sys.stderr)
        return None, elapsed
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    if not answer.get("frozen") or len(answer["times"]) != len(answer["indices"]) or not answer["times"]:
        print(f"FAILED: unexpected answer {answer}", file=sys.stderr)
        return None, elapsed
    return answer, elapsed


def _says_timm_is_missing(program: Path, clip: Path, model: Path, home: Path, needs: str) -> bool:
    """A bundle without timm answers a model whose code imports it with the typed error (MissingPackages)."""
    result = _run_self_test(program, clip, model, ["--trust-remote-code"], home)
    said = [line for line in result.stderr.splitlines() if needs in line]
    if result.returncode == 0 or not said:
        print(result.stdout[-3000:], result.stderr[-6000:], sep="\n", file=sys.stderr)
        print(f"FAILED: the bundle has no timm, and loading {model.name} did not say '{needs}'", file=sys.stderr)
        return False
    print(f"OK: the bundle has no timm/torchvision (none imports beside this torch here), and says so: {said[0].strip()}")
    return True


def _without_timm_import(model: Path, copy: Path) -> Path:
    """A copy of the InternVL2 stand-in whose vision tower takes DropPath (the identity at inference) from torch."""
    shutil.copytree(model, copy)
    vision = copy / "modeling_intern_vit.py"
    code = vision.read_text(encoding="utf-8")
    assert "from timm.models.layers import DropPath" in code
    vision.write_text(code.replace("from timm.models.layers import DropPath", "from torch.nn import Identity as DropPath"), encoding="utf-8")
    return copy


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def _largest_parts(bundle: Path, count: int = 12) -> list[tuple[str, int]]:
    """Sizes of the top folders of _internal (and of its largest single files)."""
    internal = bundle / "_internal"
    parts = {}
    for entry in internal.iterdir():
        parts[entry.name] = _size(entry) if entry.is_dir() and not entry.is_symlink() else entry.lstat().st_size
    return sorted(parts.items(), key=lambda item: -item[1])[:count]


if __name__ == "__main__":
    sys.exit(main())
