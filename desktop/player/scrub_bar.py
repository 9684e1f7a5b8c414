"""The scrub bar under the video: played position, the in/out segment, the answer's frame ticks.

Painted by hand because a QSlider can draw neither a shaded band nor ticks at arbitrary times.
A press seeks where it lands; dragging then asks for seeks through a leading-edge throttler (at
most one per `SEEK_INTERVAL_MS`, the release position always last), so the player shows live
frames while the newest position wins, instead of working through a queue of stale seeks.
Hovering (not dragging) says the time under the mouse, which the frame preview shows
(desktop/scrub_preview.py).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop import style
from desktop.threads.throttle import Throttler

# 20 seeks a second keeps up with the hand on short-GOP footage without flooding the decoder.
SEEK_INTERVAL_MS = 50
HANDLE_RADIUS = 7
GROOVE_HEIGHT = 6
TICK_COLOR = QColor(style.TICK_COLOR)
NOTE_COLOR = QColor(style.NOTE_COLOR)
NOTE_LANE_HEIGHT = 4


class ScrubBar(QWidget):
    """Times are seconds from the start of the video; the bar spans 0 to `duration`."""

    sig_seek_requested = Signal(float)
    sig_drag_started = Signal()
    sig_drag_finished = Signal()
    sig_hovered = Signal(float)  # seconds under the mouse, while it hovers without dragging
    sig_hover_ended = Signal()  # the mouse left the bar, or started a drag

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._duration = 0.0
        self._position = 0.0
        self._segment: tuple[float, float] | None = None
        self._ticks: list[float] = []
        self._notes: list[tuple[float, float]] = []
        self._dragging = False
        self._pending_seek = 0.0
        self._seek_throttler = Throttler(SEEK_INTERVAL_MS, parent=self)
        self._seek_throttler.triggered.connect(self._on_seek_throttler_triggered)

    def sizeHint(self) -> QSize:
        return QSize(400, 2 * HANDLE_RADIUS + 10)

    # The model the pane sets

    def duration(self) -> float:
        return self._duration

    def set_duration(self, seconds: float) -> None:
        self._duration = max(0.0, float(seconds))
        self.update()

    def position(self) -> float:
        return self._position

    def set_position(self, seconds: float) -> None:
        """Where playback is; ignored while the user drags, so the handle stays under the mouse."""
        if not self._dragging:
            self._position = float(seconds)
            self.update()

    def segment(self) -> tuple[float, float] | None:
        return self._segment

    def set_segment(self, segment: tuple[float, float] | None) -> None:
        self._segment = segment
        self.update()

    def ticks(self) -> list[float]:
        return list(self._ticks)

    def set_ticks(self, times: list[float]) -> None:
        self._ticks = [float(t) for t in times]
        self.update()

    def note_spans(self) -> list[tuple[float, float]]:
        return list(self._notes)

    def set_note_spans(self, spans: list[tuple[float, float]]) -> None:
        """The timeline notes' (start, end) times, drawn along the bottom edge."""
        self._notes = [(float(start), float(end)) for start, end in spans]
        self.update()

    def is_dragging(self) -> bool:
        return self._dragging

    # Geometry

    def _groove_span(self) -> tuple[float, float]:
        return float(HANDLE_RADIUS), float(max(HANDLE_RADIUS + 1, self.width() - HANDLE_RADIUS))

    def x_for_seconds(self, seconds: float) -> float:
        left, right = self._groove_span()
        if self._duration <= 0:
            return left
        fraction = min(1.0, max(0.0, seconds / self._duration))
        return left + fraction * (right - left)

    def seconds_at_x(self, x: float) -> float:
        left, right = self._groove_span()
        fraction = min(1.0, max(0.0, (x - left) / (right - left)))
        return fraction * self._duration

    # Mouse

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._duration <= 0 or not self.isEnabled():
            super().mousePressEvent(event)
            return
        self._dragging = True
        self.sig_hover_ended.emit()
        self.sig_drag_started.emit()
        self._request_seek(self.seconds_at_x(event.position().x()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        # Follows our own drag state rather than event.buttons(): synthetic events (tests,
        # accessibility tools) do not always carry the held button.
        if self._dragging:
            self._request_seek(self.seconds_at_x(event.position().x()))
        elif self._duration > 0:
            self.sig_hovered.emit(self.seconds_at_x(event.position().x()))

    def leaveEvent(self, event: QEvent) -> None:
        self.sig_hover_ended.emit()
        super().leaveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not self._dragging:
            super().mouseReleaseEvent(event)
            return
        self._request_seek(self.seconds_at_x(event.position().x()))
        self._seek_throttler.flush()
        self._dragging = False
        self.sig_drag_finished.emit()

    def _request_seek(self, seconds: float) -> None:
        self._position = seconds
        self._pending_seek = seconds
        self._seek_throttler.throttle()
        self.update()

    def _on_seek_throttler_triggered(self) -> None:
        self.sig_seek_requested.emit(self._pending_seek)

    # Painting

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        left, right = self._groove_span()
        middle = self.height() / 2
        groove = QRectF(left, middle - GROOVE_HEIGHT / 2, right - left, GROOVE_HEIGHT)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.color(QPalette.ColorRole.Mid))
        painter.drawRoundedRect(groove, GROOVE_HEIGHT / 2, GROOVE_HEIGHT / 2)
        if self._duration > 0:
            self._paint_segment(painter, palette)
            self._paint_notes(painter)
            self._paint_played(painter, palette, groove)
            self._paint_ticks(painter)
            self._paint_handle(painter, palette, middle)
        painter.end()

    def _paint_segment(self, painter: QPainter, palette: QPalette) -> None:
        if self._segment is None:
            return
        start, end = (self.x_for_seconds(t) for t in self._segment)
        band = palette.color(QPalette.ColorRole.Highlight)
        band.setAlpha(70)
        painter.setBrush(band)
        painter.drawRect(QRectF(start, 1, max(1.0, end - start), self.height() - 2))
        edge = palette.color(QPalette.ColorRole.Highlight)
        painter.setPen(QPen(edge, 2))
        painter.drawLine(QPointF(start, 1), QPointF(start, self.height() - 1))
        painter.drawLine(QPointF(end, 1), QPointF(end, self.height() - 1))
        painter.setPen(Qt.PenStyle.NoPen)

    def _paint_notes(self, painter: QPainter) -> None:
        colour = QColor(NOTE_COLOR)
        colour.setAlpha(190)  # overlapping notes show darker where they overlap
        painter.setBrush(colour)
        for start, end in self._notes:
            left, right = self.x_for_seconds(start), self.x_for_seconds(end)
            painter.drawRect(QRectF(left, self.height() - NOTE_LANE_HEIGHT, max(2.0, right - left), NOTE_LANE_HEIGHT))

    def _paint_played(self, painter: QPainter, palette: QPalette, groove: QRectF) -> None:
        played = QRectF(groove)
        played.setRight(self.x_for_seconds(self._position))
        painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
        painter.drawRoundedRect(played, GROOVE_HEIGHT / 2, GROOVE_HEIGHT / 2)

    def _paint_ticks(self, painter: QPainter) -> None:
        painter.setPen(QPen(TICK_COLOR, 2))
        for seconds in self._ticks:
            x = self.x_for_seconds(seconds)
            painter.drawLine(QPointF(x, 2), QPointF(x, self.height() - 2))
        painter.setPen(Qt.PenStyle.NoPen)

    def _paint_handle(self, painter: QPainter, palette: QPalette, middle: float) -> None:
        centre = QPointF(self.x_for_seconds(self._position), middle)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 2))
        painter.setBrush(palette.color(QPalette.ColorRole.Button))
        painter.drawEllipse(centre, HANDLE_RADIUS - 1, HANDLE_RADIUS - 1)
