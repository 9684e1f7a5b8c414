"""Small pictures of the frames an answer was based on, decoded off the GUI thread.

Requests run one at a time, in order, on a pool of their own (one thread), so thumbnails never
wait behind an answer nor compete with each other. Each decodes the frames at preview size in
the decoder (`VideoSource.iter_frames(..., size=...)`) from its own opening of the file (it
never touches the model thread's readers) and hands back `QImage`s, which may be built on any
thread (unlike `QPixmap`). A file's probe (a demux of the whole file) is kept for the next
answer about it, as long as the file is unchanged.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThreadPool, Signal

from desktop.player.probes import probes
from desktop.threads.background import run_job

if TYPE_CHECKING:
    from PySide6.QtGui import QImage

THUMBNAIL_HEIGHT = 54


def to_qimage(rgb) -> QImage:
    """An upright H x W x 3 uint8 RGB array as a QImage that owns its pixels."""
    import numpy as np
    from PySide6.QtGui import QImage  # here: its type costs the window's first paint ~0.5 ms

    rgb = np.ascontiguousarray(rgb)
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


class ThumbnailLoader(QObject):
    sig_ready = Signal(int, list)  # (key given to request(), list[QImage] in the order of the indices)
    sig_failed = Signal(int, object)  # (key, exception): the chips simply stay without pictures

    def __init__(self, parent: QObject | None = None, height: int = THUMBNAIL_HEIGHT):
        super().__init__(parent)
        self._height = height
        self._closed = threading.Event()
        closed = self._closed  # not self: once the object is gone, a failure's receiver only sees this
        self.destroyed.connect(lambda *_: closed.set())
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)

    def request(self, key: int, video_path: str | Path, indices: list[int]) -> None:
        if self._closed.is_set() or not indices:
            return
        job = (key, Path(video_path), [int(i) for i in indices], self._height, self._closed)
        run_job(_decode_job, *job, returned=self._on_done, errored=lambda error: self._on_failed(key, error), pool=self._pool)

    def shutdown(self, timeout_s: float = 1.0) -> bool:
        """Drop what is waiting, stop between two frames, and wait; True if the running one ended in time."""
        self._closed.set()
        self._pool.clear()
        return self._pool.waitForDone(round(timeout_s * 1000))

    def _on_done(self, result: tuple) -> None:
        key, images = result
        if not self._closed.is_set() and images is not None:
            self.sig_ready.emit(key, images)

    def _on_failed(self, key: int, error: Exception) -> None:
        if not self._closed.is_set():
            self.sig_failed.emit(key, error)


def _decode_job(key: int, path: Path, indices: list[int], height: int, closed: threading.Event) -> tuple:
    """On the pool's thread: (key, the pictures in the order of `indices`, or None if closed meanwhile)."""
    return key, _decode(path, indices, height, closed)


def _decode(path: Path, indices: list[int], height: int, closed: threading.Event) -> list[QImage] | None:
    from videochat.video.source import VideoSource

    with VideoSource.from_info(probes.info(path)) as source:
        info = source.info
        # Even sizes: some scalers round odd widths, which would shift the picture by a pixel.
        height -= height % 2
        width = max(2, round(height * info.width / max(1, info.height) / 2) * 2)
        images = {}
        for index, frame in source.iter_frames(indices, size=(width, height)):
            if closed.is_set():
                return None
            images[index] = to_qimage(frame)
    return [images[i] for i in indices]
