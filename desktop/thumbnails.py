"""Small pictures of the frames an answer was based on, decoded off the GUI thread.

One daemon thread takes requests in order, decodes the frames at preview size in the decoder
(`VideoSource.iter_frames(..., size=...)`) and hands back `QImage`s, which may be built on any
thread (unlike `QPixmap`). It never touches the model thread's video readers: each request
opens the file on its own, so thumbnails never wait behind an answer.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage

from desktop.background import drain

THUMBNAIL_HEIGHT = 54

_SHUTDOWN = object()


def to_qimage(rgb) -> QImage:
    """An upright H x W x 3 uint8 RGB array as a QImage that owns its pixels."""
    import numpy as np

    rgb = np.ascontiguousarray(rgb)
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


class ThumbnailLoader(QObject):
    sig_ready = Signal(int, list)  # (key given to request(), list[QImage] in the order of the indices)
    sig_failed = Signal(int, object)  # (key, exception): the chips simply stay without pictures

    _sig_post = Signal(str, object)

    def __init__(self, parent: QObject | None = None, height: int = THUMBNAIL_HEIGHT):
        super().__init__(parent)
        self._height = height
        self._requests: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()
        self._sig_post.connect(self._on_post, Qt.ConnectionType.QueuedConnection)

    def request(self, key: int, video_path: str | Path, indices: list[int]) -> None:
        if self._closed.is_set() or not indices:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="videochat-thumbnails", daemon=True)
            self._thread.start()
        self._requests.put((key, Path(video_path), [int(i) for i in indices]))

    def shutdown(self, timeout_s: float = 1.0) -> bool:
        """Drop what is waiting, stop between two frames, and join; True if the thread ended in time."""
        self._closed.set()
        if self._thread is None:
            return True
        drain(self._requests)
        self._requests.put(_SHUTDOWN)
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _on_post(self, event: str, payload) -> None:
        if self._closed.is_set():
            return
        if event == "ready":
            self.sig_ready.emit(*payload)
        else:
            self.sig_failed.emit(*payload)

    def _post(self, event: str, payload) -> None:
        if self._closed.is_set():
            return
        try:
            self._sig_post.emit(event, payload)
        except RuntimeError:  # deleted while the thread finished its last request
            pass

    def _run(self) -> None:
        while True:
            job = self._requests.get()
            if job is _SHUTDOWN:
                return
            key, path, indices = job
            try:
                images = self._decode(path, indices)
            except BaseException as error:  # reported, never lost
                self._post("failed", (key, error))
            else:
                if images is not None:
                    self._post("ready", (key, images))

    def _decode(self, path: Path, indices: list[int]) -> list[QImage] | None:
        from videochat.video import VideoSource

        with VideoSource.open(path) as source:
            info = source.info
            # Even sizes: some scalers round odd widths, which would shift the picture by a pixel.
            height = self._height - self._height % 2
            width = max(2, round(height * info.width / max(1, info.height) / 2) * 2)
            images = {}
            for index, frame in source.iter_frames(indices, size=(width, height)):
                if self._closed.is_set():
                    return None
                images[index] = to_qimage(frame)
        return [images[i] for i in indices]
