"""An answer's text while it streams: its settled paragraphs in labels of their own, only the last one drawn again.

A Markdown QLabel lays its whole text out again at every change, several times over (its size
hints, its height for the bubble's width, its paint): re-rendering the whole answer at each
streamed piece cost the GUI thread ~8 ms per 1,000 characters under xcb, 36 ms a piece at 4,000.
Text before a blank line outside a code fence can no longer change how it renders, so it is cut
off into a label of its own, rendered once (Qt's layouts keep its height); only the paragraph
still growing is rendered at each piece. A paragraph or code block that grows past
`LONGEST_TAIL` characters is cut at a line instead (a code block's fence closed in the part
cut off and opened again in the rest). Once the answer ends, the bubble shows it whole in one
Markdown label, exactly as an answer shown at once: until then, Markdown that reaches across a
cut (a loose list's spacing, a reference link) may look a little different. That label is laid
out while still hidden, its height, then its size hints, each in a turn of the event loop of its
own (`hand_over`), and only then shown in the parts' place: shown at once, a 4,000-character
answer's label cost one turn 27 ms.
"""

from __future__ import annotations

import re
from typing import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

LONGEST_TAIL = 1500  # characters re-rendered at each piece at most, unless one line is longer
# Parts of at least a few paragraphs: every part is asked its height at each layout of the bubble.
SHORTEST_PART = 400
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


def _fence_change(line: str, open_fence: str) -> str:
    """The fence open after `line` (CommonMark: a fence closes with the same character, at least as many)."""
    match = _FENCE.match(line)
    if match is None:
        return open_fence
    marks = match.group(1)
    if not open_fence:
        return marks
    closes = marks[0] == open_fence[0] and len(marks) >= len(open_fence) and not line[match.end() :].strip()
    return "" if closes else open_fence


def find_cut(tail: str, open_fence: str = "") -> tuple[int, str]:
    """Where `tail` (which starts inside `open_fence`, or outside any fence) can be cut off: (offset, the fence open there).

    The last blank line's end outside a fence once `tail` has `SHORTEST_PART` characters; when there
    is none and `tail` is longer than `LONGEST_TAIL`, the last line's start. (0, open_fence): nothing
    to cut yet.
    """
    if len(tail) < SHORTEST_PART:
        return 0, open_fence
    cut, cut_fence = 0, open_fence
    line_cut, line_fence = 0, open_fence
    fence = open_fence
    position = 0
    written = False  # a line with text so far: a part is never only blank lines
    while True:
        end = tail.find("\n", position)
        if end < 0:
            break  # the last line is still being written
        line = tail[position:end]
        if line.strip():
            written = True
        elif written and not fence:
            cut, cut_fence = end + 1, ""
        fence = _fence_change(line, fence)
        position = end + 1
        line_cut, line_fence = position, fence
    if cut == 0 and len(tail) > LONGEST_TAIL:
        return line_cut, line_fence
    return cut, cut_fence


class StreamedText(QWidget):
    """The growing answer as Markdown labels: one per settled part, the last for the part still growing."""

    def __init__(self, make_label: Callable[[str], QLabel], parent: QWidget | None = None):
        super().__init__(parent)
        self._make_label = make_label
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(0)
        self.parts: list[QLabel] = []  # the settled parts' labels, in order
        self.tail = make_label("")
        self._layout.addWidget(self.tail)
        self._settled = 0  # characters of the text in `parts`
        self._fence = ""  # the code fence open where the tail begins
        self._handing_over = 0  # which hand-over is current: a new text or a clear cancels one under way

    def set_text(self, text: str) -> None:
        """The answer so far (what was shown before, and more)."""
        self._handing_over += 1
        tail = text[self._settled :]
        cut, fence = find_cut(tail, self._fence)
        if cut:
            shown = self._opened(tail[:cut])
            if fence:  # cut inside a code block: closed here, opened again in the tail
                shown = shown.rstrip("\n") + "\n" + fence + "\n"
            part = self._make_label(shown)
            self._layout.insertWidget(len(self.parts), part)
            self.parts.append(part)
            self._settled += cut
            self._fence = fence
            tail = tail[cut:]
        self.tail.setText(self._opened(tail))

    def hand_over(self, label: QLabel, done: Callable[[], None]) -> None:
        """Lay out the hidden `label` (the whole text) over the next turns of the event loop, then call `done`.

        Cancelled by `set_text` or `clear` before it ends."""
        self._handing_over += 1
        current = self._handing_over
        width = self.width()
        # Polished first: a widget never shown takes its style sheet as it shows, which lays it out again.
        # The layouts ask its height at its width and at its size hint's (each a layout of the whole text).
        steps = [
            lambda: (label.ensurePolished(), label.heightForWidth(width)),
            label.sizeHint,
            label.minimumSizeHint,
            lambda: label.heightForWidth(label.sizeHint().width()),
            done,
        ]

        def next_step() -> None:
            if current != self._handing_over:
                return
            steps.pop(0)()
            if steps:
                QTimer.singleShot(0, self, next_step)

        QTimer.singleShot(0, self, next_step)

    def clear(self) -> None:
        self._handing_over += 1
        for part in self.parts:
            self._layout.removeWidget(part)
            part.deleteLater()
        self.parts = []
        self._settled, self._fence = 0, ""
        self.tail.setText("")

    def _opened(self, text: str) -> str:
        return f"{self._fence}\n{text}" if self._fence else text
