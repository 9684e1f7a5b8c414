"""The chat's question box: Enter sends, Shift+Enter starts a new line."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QPlainTextEdit


class QuestionBox(QPlainTextEdit):
    """Enter sends, Shift+Enter starts a new line."""

    sig_submitted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        if event.key() not in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            super().keyPressEvent(event)
        elif event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            # A plain newline: Qt's own Shift+Enter inserts a line separator (U+2028) instead.
            self.insertPlainText("\n")
        else:
            self.sig_submitted.emit()
