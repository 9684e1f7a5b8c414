"""The app's folders have one home, `videochat.paths`, which is light to import."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.support import REPO_ROOT


def _imports_platformdirs(path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        if any(name.split(".")[0] == "platformdirs" for name in names):
            return True
    return False


def test_only_videochat_paths_asks_platformdirs_for_the_apps_folders():
    sources = [*(REPO_ROOT / "videochat").rglob("*.py"), *(REPO_ROOT / "desktop").rglob("*.py"), *(REPO_ROOT / "build").rglob("*.py")]
    askers = sorted(str(path.relative_to(REPO_ROOT)) for path in sources if _imports_platformdirs(path))
    assert askers == ["videochat/paths.py"]


def test_every_app_file_lies_in_the_folder_the_environment_names(tmp_path, monkeypatch):
    from videochat import paths

    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name))
    assert paths.settings_file() == tmp_path / "XDG_CONFIG_HOME" / "videochat" / "settings.json"
    assert paths.sessions_folder() == tmp_path / "XDG_DATA_HOME" / "videochat" / "sessions"
    assert paths.downloads_record() == tmp_path / "XDG_DATA_HOME" / "videochat" / "downloads.json"
    assert paths.consent_file() == tmp_path / "XDG_DATA_HOME" / "videochat" / "remote-code-consent.json"
    assert paths.model_links_folder() == tmp_path / "XDG_CACHE_HOME" / "videochat" / "model-links"
    assert paths.log_file().parent == paths.start_failure_report().parent
    assert paths.start_failure_report().name.startswith("start-failure-")


def test_importing_the_paths_imports_no_platformdirs_until_a_path_is_asked_for():
    code = "import sys, videochat.paths, videochat.settings; print('platformdirs' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
