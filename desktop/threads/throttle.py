"""A leading-edge throttler: the first request goes at once, later ones at most every `interval_ms`.

While scrubbing, the newest position wins: requests that arrive while the timer runs collapse
into one, sent when it expires; `flush()` sends a pending one now (on release).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal


class Throttler(QObject):
    triggered = Signal()

    def __init__(self, interval_ms: int, parent: QObject | None = None):
        super().__init__(parent)
        self._pending = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._on_timeout)

    def throttle(self) -> None:
        if self._timer.isActive():
            self._pending = True
            return
        self.triggered.emit()
        self._timer.start()

    def flush(self) -> None:
        """Send a pending request now, and let the next one go at once."""
        self._timer.stop()
        if self._pending:
            self._pending = False
            self.triggered.emit()

    def _on_timeout(self) -> None:
        if self._pending:
            self._pending = False
            self.triggered.emit()
            self._timer.start()
