"""Files the app ships beside its code (`resources/` at the top of the source tree, or of the bundle)."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_folder() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)  # PyInstaller unpacks data files here
    return Path(frozen) / "resources" if frozen else Path(__file__).resolve().parent.parent / "resources"


def application_icon():
    """The window icon, every size there is (an empty icon when the files are not installed)."""
    from PySide6.QtGui import QIcon

    icon = QIcon()
    for path in sorted((resources_folder() / "icons").glob("videochat-*.png")):
        icon.addFile(str(path))
    return icon
