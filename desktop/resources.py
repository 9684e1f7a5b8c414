"""Files the app ships beside its code (`resources/` at the top of the source tree, or of the bundle)."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_folder() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)  # PyInstaller unpacks data files here
    return Path(frozen) / "resources" if frozen else Path(__file__).resolve().parent.parent / "resources"


# The window icon's largest size. On X11 Qt copies every size of it into the window's properties
# when the window shows: the 256 and 512 px files cost the first paint about 12 ms there, for
# nothing, since docks and menus take the large sizes from the icon theme (the desktop entry's
# install) and the bundles carry their own (.ico, .icns).
WINDOW_ICON_MAX_PX = 128


def application_icon():
    """The window icon, in the sizes a title bar or a task switcher asks for (an empty icon when the files are not installed)."""
    from PySide6.QtGui import QIcon

    icon = QIcon()
    for path, side in icon_files():
        if side <= WINDOW_ICON_MAX_PX:
            icon.addFile(str(path))
    return icon


def icon_files() -> list[tuple[Path, int]]:
    """The icon's files, `videochat-<side>.png`, with their sides in pixels, smallest first."""
    files = []
    for path in (resources_folder() / "icons").glob("videochat-*.png"):
        side = path.stem.rpartition("-")[2]
        if side.isdigit():
            files.append((path, int(side)))
    return sorted(files, key=lambda file: file[1])
