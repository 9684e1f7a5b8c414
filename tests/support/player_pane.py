"""The player pane as its tests and the window's read it: the frame on screen (from its pixels), the readout, a clip opened."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import QLabel

from tests.support.clips import read_frame_code


def open_clip(qtbot, pane, path):
    """Open `path` in a player pane and wait for it: its `VideoInfo`."""
    with qtbot.waitSignal(pane.sig_opened, timeout=10_000) as blocker:
        pane.open(path)
    return blocker.args[0]


def shown_frame(pane) -> int | None:
    """The index coded in the picture the video widget has now."""
    frame = pane.findChild(QVideoWidget).videoSink().videoFrame()
    if not frame.isValid():
        return None
    image = frame.toImage().convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return read_frame_code(rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3))


def frame_interval(info, index: int) -> tuple[float, float]:
    end = info.times[index + 1] if index + 1 < info.frame_count else info.times[0] + info.duration
    return float(info.times[index]), float(end)


def readout(pane) -> tuple[str, str]:
    """The transport's time (without the duration) and frame number, as the user reads them."""
    return pane.findChild(QLabel, "playerTime").text().split(" / ")[0], pane.findChild(QLabel, "playerFrame").text()
