"""One probe per file for the whole window: the player, the thumbnails and the model thread share it.

`probe` demuxes the whole file to build its timestamp table (seconds on a long file), so each
unchanged file is probed once. A file is the same while its path, size and modification time are.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from videochat.video.info import VideoInfo


class ProbeCache:
    """The last few probes, by file; safe to use from any thread."""

    def __init__(self, size: int = 4):
        self._size = size
        self._infos: dict[tuple, VideoInfo] = {}
        self._lock = threading.Lock()

    def info(self, path: str | Path) -> VideoInfo:
        """The file's probe, made now if the file is new or changed; raises what `probe` raises."""
        from videochat.video.info import probe

        path = Path(path)
        key = _file_key(path)
        with self._lock:
            info = self._infos.get(key)
        if info is None:
            info = probe(path)  # outside the lock: other files' lookups do not wait for it
            with self._lock:
                while len(self._infos) >= self._size:
                    del self._infos[next(iter(self._infos))]
                self._infos[key] = info
        return info

    def clear(self) -> None:
        with self._lock:
            self._infos.clear()


def _file_key(path: Path) -> tuple:
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


probes = ProbeCache()
