"""The chat's column: each bubble at its height for the column's width, top to bottom, never squeezed.

In a QVBoxLayout inside the scroll area, a bubble that grew (a streamed piece, a new question)
made the layout fit everything into the column's old height first, squeezing every bubble by a
pixel or two and moving all below it, before the scroll area made the column taller and the layout
moved them back: each visible widget of the chat was painted again, twice moved, at every piece.
Here a bubble's place depends only on the bubbles above it: until the column grows, the last ones
reach past its bottom edge, out of view, and nothing above a change moves.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtWidgets import QApplication, QLayout, QLayoutItem, QSizePolicy, QWidget


class ColumnLayout(QLayout):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._items: list[QLayoutItem] = []

    def insertWidget(self, index: int, widget: QWidget) -> None:  # noqa: N802 (as QBoxLayout's)
        """At `index` (at the end when negative, as QBoxLayout's)."""
        # Qt makes the item (addWidget, then addItem): Qt deletes what `takeAt` gives back, so the
        # item must be one Qt owns, not one made here.
        self.addWidget(widget)
        if 0 <= index < len(self._items) - 1:
            self._items.insert(index, self._items.pop())

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 (Qt's name)
        self._items.append(item)
        self.invalidate()

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 (Qt's name)
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 (Qt's name)
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 (Qt's name)
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt's name)
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt's name)
        margins = self.contentsMargins()
        inner = width - margins.left() - margins.right()
        heights = [self._height(item, inner) for item in self._items if not item.isEmpty()]
        return margins.top() + margins.bottom() + sum(heights) + self._gap() * max(len(heights) - 1, 0)

    def minimumSize(self) -> QSize:  # noqa: N802 (Qt's name)
        margins = self.contentsMargins()
        widest = max((item.minimumSize().width() for item in self._items if not item.isEmpty()), default=0)
        return QSize(widest + margins.left() + margins.right(), margins.top() + margins.bottom())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        margins = self.contentsMargins()
        width = max((item.sizeHint().width() for item in self._items if not item.isEmpty()), default=0)
        width += margins.left() + margins.right()
        return QSize(width, self.heightForWidth(width))

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 (Qt's name)
        super().setGeometry(rect)
        area = self.contentsRect()
        top, gap = area.top(), self._gap()
        for item in self._items:
            if item.isEmpty():
                continue
            height = self._height(item, area.width())
            item.setGeometry(QRect(area.left(), top, area.width(), height))
            top += height + gap

    def _gap(self) -> int:
        # A QLayout's own spacing is the style's; macOS's style answers -1 there (its layouts ask
        # layoutSpacing, as QBoxLayout does): the bubbles would overlap by a pixel.
        gap = self.spacing()
        if gap < 0:
            holder = self.parentWidget()
            style = holder.style() if holder is not None else QApplication.style()
            gap = style.layoutSpacing(QSizePolicy.ControlType.Frame, QSizePolicy.ControlType.Frame, Qt.Orientation.Vertical)
        return max(gap, 0)

    @staticmethod
    def _height(item: QLayoutItem, width: int) -> int:
        return item.heightForWidth(width) if item.hasHeightForWidth() else item.sizeHint().height()
