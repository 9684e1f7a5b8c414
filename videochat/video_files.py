"""Which files are taken for videos: by extension, the same for the batch and the app's Open dialog."""

from __future__ import annotations

import os

VIDEO_EXTENSIONS = (".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".wmv", ".flv")


def is_video_file(name: str | os.PathLike) -> bool:
    return os.path.splitext(name)[1].lower() in VIDEO_EXTENSIONS
