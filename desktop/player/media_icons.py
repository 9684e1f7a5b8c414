"""The transport's icons, drawn: play, pause, one frame back or forward, sound on and muted.

Drawn rather than taken from QStyle's standard icons, for the start-up: QStyle is the class with
the most enums PySide6 builds in Python, which delays the window's first appearance, and nothing
else at start needs it. Drawn in the palette's button text colour; Qt greys them
itself when a button is disabled.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap, QPolygonF

SIZE = 16  # logical pixels; drawn at 1× and 2× so they stay sharp on high-density screens

# Each icon: polygons in a 16 × 16 box.
SHAPES: dict[str, tuple[tuple[tuple[float, float], ...], ...]] = {
    "play": (((4, 2.5), (13.5, 8), (4, 13.5)),),
    "pause": (((3.5, 3), (6.5, 3), (6.5, 13), (3.5, 13)), ((9.5, 3), (12.5, 3), (12.5, 13), (9.5, 13))),
    "frame-back": (((2.5, 3), (4.5, 3), (4.5, 13), (2.5, 13)), ((13.5, 3), (5.5, 8), (13.5, 13))),
    "frame-forward": (((11.5, 3), (13.5, 3), (13.5, 13), (11.5, 13)), ((2.5, 3), (10.5, 8), (2.5, 13))),
    "sound": (
        ((1.5, 6), (4.5, 6), (8.5, 2.5), (8.5, 13.5), (4.5, 10), (1.5, 10)),
        ((10.5, 6), (11.8, 6), (11.8, 10), (10.5, 10)),
        ((13.2, 4), (14.5, 4), (14.5, 12), (13.2, 12)),
    ),
    "muted": (
        ((1.5, 6), (4.5, 6), (8.5, 2.5), (8.5, 13.5), (4.5, 10), (1.5, 10)),
        ((10, 6.2), (10.7, 5.5), (15, 9.8), (14.3, 10.5)),
        ((10, 9.8), (14.3, 5.5), (15, 6.2), (10.7, 10.5)),
    ),
}


def media_icon(kind: str, color: QColor) -> QIcon:
    icon = QIcon()
    for scale in (1, 2):
        pixmap = QPixmap(SIZE * scale, SIZE * scale)
        pixmap.setDevicePixelRatio(scale)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        for polygon in SHAPES[kind]:
            painter.drawPolygon(QPolygonF([QPointF(x, y) for x, y in polygon]))
        painter.end()
        icon.addPixmap(pixmap)
    return icon
