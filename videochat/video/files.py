"""Which files are taken for videos: by extension, the same for the batch and the app's Open dialog;
and which paths may be opened at all (`check_video_file`).

Light to import (no numpy, no PyAV): the player pane checks a path with it before Qt sees it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from videochat.errors import UnreadableVideo

VIDEO_EXTENSIONS = (".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".wmv", ".flv")


def is_video_file(name: str | os.PathLike) -> bool:
    return os.path.splitext(name)[1].lower() in VIDEO_EXTENSIONS


def check_video_file(path: str | os.PathLike) -> Path:
    """`path` if it is a readable, non-empty regular file (links followed); `UnreadableVideo` otherwise.

    Only a stat, never an open: opening a FIFO blocks until a writer comes (Qt's player then
    holds the GUI thread for good), and a device such as /dev/zero never ends. Both stat as
    0 bytes, so they are named for what they are rather than called empty.
    """
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise UnreadableVideo(f"{path} does not exist. Check the path, or whether the drive is connected.") from None
    except OSError as error:
        raise UnreadableVideo(f"{path} cannot be read: {error.strerror or error}.") from None
    if stat.S_ISDIR(info.st_mode):
        raise UnreadableVideo(f"{path} is a folder, not a video file.")
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableVideo(f"{path} is not a regular file ({_kind_of(info.st_mode)}): give the video file itself.")
    if not os.access(path, os.R_OK):
        raise UnreadableVideo(f"{path} cannot be read: permission denied.")
    if info.st_size == 0:
        raise UnreadableVideo(f"{path} is empty (0 bytes): the copy or recording did not finish.")
    return path


def _kind_of(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO, or named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file with contents"
