"""The Python programs the app starts never import from the folder the app was started in.

`python -m` puts the working folder first on the import path: a json.py or argparse.py in a user's
Downloads ran inside the model process and the runtime installer. They start in an empty folder of
the app's own (`paths.child_working_folder`), with PYTHONSAFEPATH set too."""

from __future__ import annotations

import os
import stat

import pytest

PLANTED = "import os\nopen(os.environ['PLANTED_RAN'], 'a').write(__name__ + ' ')\nraise SystemExit(7)\n"


@pytest.fixture
def downloads(tmp_path, monkeypatch):
    """The working folder, holding modules a stray download could be."""
    folder = tmp_path / "Downloads"
    folder.mkdir()
    for name in ("json", "argparse", "venv", "numpy"):
        (folder / f"{name}.py").write_text(PLANTED)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("PLANTED_RAN", str(tmp_path / "ran.txt"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "ran.txt"


def test_the_model_process_imports_nothing_from_the_working_folder(downloads, tmp_path):
    from videochat.engines.local_process import LocalModelProcess
    from videochat.errors import ModelProcessEnded

    (tmp_path / "Downloads" / "no-model-here").mkdir()
    process = LocalModelProcess("no-model-here")  # a folder named from the working folder still reaches the child whole
    assert os.path.isabs(process.arguments[process.arguments.index("--model") + 1])
    with pytest.raises(ModelProcessEnded):  # not a model: it ends, having imported the real json and argparse
        process.start()
    assert not downloads.exists(), downloads.read_text()


def test_the_working_folder_of_children_is_the_app_s_own_and_private(downloads, tmp_path):
    from videochat.paths import child_working_folder

    folder = child_working_folder()
    assert folder.is_relative_to(tmp_path / "cache") and list(folder.iterdir()) == []
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_the_package_check_imports_nothing_from_the_working_folder(downloads):
    import sys

    from videochat.models import torch_pairs

    torch_pairs.forget_checks()
    try:
        checked = torch_pairs.check_interpreter(sys.executable)
    finally:
        torch_pairs.forget_checks()
    assert "did not run" not in (checked.problem or "") and not downloads.exists()


def test_the_runtime_installer_s_steps_import_nothing_from_the_working_folder(downloads, tmp_path, monkeypatch):
    import sys

    from videochat.runtimes import install

    with pytest.raises(install.RuntimeInstallError):  # the step fails on its own (an unknown option), in the app's folder
        install._run([sys.executable, "-m", "venv", "--no-such-option", str(tmp_path / "env")], "Making it", 0.0, lambda *a: None, lambda: False)
    assert not downloads.exists(), downloads.read_text()

    steps = []

    def run(argv, *rest):
        steps.append(argv)
        if len(steps) == 2:
            raise KeyboardInterrupt  # enough seen
    monkeypatch.setattr(install, "_run", run)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("transformers==5.0.0\n")
    with pytest.raises(KeyboardInterrupt):
        install._build("current", tmp_path / "env", lambda *a: None, lambda: False, requirements)
    assert [argv[1:3] for argv in steps] == [["-I", "-m"], ["-I", "-m"]]  # venv and pip: isolated from PYTHON* and the user site too
