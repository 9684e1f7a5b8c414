"""The core never imports Qt or the desktop package: a second front end reuses it whole."""

from __future__ import annotations

import subprocess
import sys


def test_importing_every_core_module_loads_no_qt():
    code = (
        "import importlib, pkgutil, sys, videochat\n"
        "for module in pkgutil.walk_packages(videochat.__path__, 'videochat.'):\n"
        "    importlib.import_module(module.name)\n"
        "bad = sorted(name for name in sys.modules if name.split('.')[0] in ('PySide6', 'shiboken6', 'desktop', 'superqt'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
