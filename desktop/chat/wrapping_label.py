"""A selectable label whose long unbroken text wraps anywhere, while `text()` and copies give it as set."""

from __future__ import annotations

import re

from PySide6.QtCore import QEvent, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QMenu

# QLabel's word wrap breaks only at spaces: a path, a URL or a model's run-on tokens would set the
# bubble's minimum width, widening the whole conversation past the pane. For display only, a
# zero-width space goes into every long unbroken run; what is copied is the text as given.
BREAK = "\u200b"
_LONG_RUN = re.compile(r"\S{25,}")
_BREAK_EVERY = 12
# Never beside Markdown's punctuation: "*\u200b*" would no longer be bold, nor "]\u200b(" a link.
_MARKUP = frozenset("*_`~[]()<>!#|\\")


def breakable(text: str) -> str:
    """`text` with a break opportunity at least every few characters of its long unbroken runs (after a "/" sooner)."""
    return _LONG_RUN.sub(lambda match: _break_run(match.group()), text)


def _break_run(run: str) -> str:
    pieces: list[str] = []
    since_break = 0
    for position, character in enumerate(run):
        before = run[position - 1] if position else ""
        due = since_break >= _BREAK_EVERY or (before == "/" and since_break >= 4)
        if due and character not in _MARKUP and before not in _MARKUP:
            pieces.append(BREAK)
            since_break = 0
        pieces.append(character)
        since_break += 1
    return "".join(pieces)


class WrappingLabel(QLabel):
    """A selectable label whose long unbroken text wraps anywhere; `text()` and copies give the text as set."""

    sig_pressed = Signal()  # a mouse button went down on it (a selectable label keeps the press from its parent)

    def __init__(self, text: str = ""):
        super().__init__()
        self._given = ""
        self._shown = None  # what QLabel was given for it, to tell whether it still shows that
        self._heights: dict[int, int] = {}
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        if text == self._given and QLabel.text(self) == self._shown:
            return  # as QLabel does, and the heights it was laid out at stay known (a Markdown layout is ms)
        self._given = text
        self._heights.clear()
        super().setText(breakable(text))
        self._shown = QLabel.text(self)

    # QLabel lays its text out again at each call, and the chat's layouts ask every label of every
    # bubble, at several widths, each time a streamed piece makes the last one grow.
    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt's name)
        height = self._heights.get(width)
        if height is None:
            height = self._heights[width] = super().heightForWidth(width)
        return height

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange, QEvent.Type.ContentsRectChange):
            self._heights.clear()
        super().changeEvent(event)

    def text(self) -> str:
        return self._given

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.sig_pressed.emit()
        super().mousePressEvent(event)

    def copy_selection(self) -> None:
        if self.hasSelectedText():
            QApplication.clipboard().setText(self.selectedText().replace(BREAK, ""))

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selection()
            event.accept()
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        # QLabel's own menu would copy the break characters too.
        menu = QMenu(self)
        copy = menu.addAction("Copy", self.copy_selection)
        copy.setEnabled(self.hasSelectedText())
        shown = super().text()
        menu.addAction("Select All", lambda: self.setSelection(0, len(shown)))
        menu.exec(event.globalPos())
