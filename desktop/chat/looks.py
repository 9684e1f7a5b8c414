"""How the chat's bubbles and secondary lines look: painted, and set through palettes, not style sheets.

A style sheet on the chat made Qt style every widget in it (each label, button and frame chip of
every bubble) through its style-sheet style, which matches the rules at each widget's polish and
wraps its size hints and its painting. The chat alone under xcb, the GUI thread's CPU time in the
turn, medians of 3 runs taken in turns: a question's bubbles 8.3 ms with it, 5.0 without; an
answer's finish 19.8 and 12.8 (then the column too: `bench/chat_turns.py`). The colours are the
palette's, as the style sheet's `palette(...)` were, so they follow the theme (a secondary line's is
now the one for secondary text: more legible than the mid colour it had); the meta line's
"font-size: small" left its font at the others' size (9 pt here), so its size stays.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QWidget

from desktop.style import ERROR_COLOR

BUBBLE_RADIUS = 6.0


class BubbleFrame(QFrame):
    """A bubble's rounded outline (midlight, or 2 px of the highlight colour once outlined), on the
    alternate base colour when `filled` (a question)."""

    def __init__(self, filled: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self._filled = filled
        self.outlined = False
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_outlined(self, outlined: bool) -> None:
        if outlined != self.outlined:
            self.outlined = outlined
            self.update()

    def outline_color(self) -> QColor:
        return self.palette().color(QPalette.ColorRole.Highlight if self.outlined else QPalette.ColorRole.Midlight)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        width = 2.0 if self.outlined else 1.0
        painter.setPen(QPen(self.outline_color(), width))
        painter.setBrush(self.palette().alternateBase() if self._filled else Qt.BrushStyle.NoBrush)
        inset = width / 2  # the whole line inside the frame
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(inset, inset, -inset, -inset), BUBBLE_RADIUS, BUBBLE_RADIUS)
        painter.end()  # not left to the garbage: a profiler or a traceback holding this frame would keep it painting


def look_secondary(widget: QWidget) -> None:
    """A secondary line (an answer's meta line, a note about the conversation): in the palette's colour
    for secondary text (the style sheet had the mid colour: 1.7:1 against Fusion's window, hard to
    read; this is 3.9:1 there, and follows a dark theme as well)."""
    widget.setForegroundRole(QPalette.ColorRole.PlaceholderText)


def secondary_note(text: str, name: str) -> QLabel:
    """A line about the conversation itself, as plain text (it may quote outside text), named `name`."""
    note = QLabel(text)
    note.setObjectName(name)
    note.setTextFormat(Qt.TextFormat.PlainText)
    note.setWordWrap(True)
    look_secondary(note)
    return note


def look_error(widget: QWidget) -> None:
    """An error's text, in the app's error colour."""
    palette = widget.palette()
    palette.setColor(QPalette.ColorRole.WindowText, QColor(ERROR_COLOR))
    widget.setPalette(palette)
