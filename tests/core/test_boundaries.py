"""The core stays Qt-free, torchvision-free and does nothing at import time."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys
from tests.support import REPO_ROOT

CORE = REPO_ROOT / "videochat"
FORBIDDEN = {"PySide6", "shiboken6", "desktop", "torchvision", "timm"}


def test_no_core_module_imports_qt_desktop_or_torchvision():
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.name}: {name}" for name in names if name.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_importing_the_core_loads_nothing_heavy():
    code = (
        "import sys, videochat, videochat.video, videochat.frames.sampling, videochat.families, videochat.frames.pipeline, videochat.cli.commands;"
        "print(sorted(m for m in ('torch', 'av', 'decord', 'PySide6', 'torchvision', 'transformers') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
