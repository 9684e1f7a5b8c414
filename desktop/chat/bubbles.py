"""The chat's bubbles: a question, an answer with the frames it was based on, a notice.

An answer bubble shows its text as Markdown while it streams (paragraph by paragraph,
`streamed_text.py`, so that a piece costs the same at the end of a long answer as at its start),
and whole in one Markdown label once it ends; once finished, a line saying
how it was asked and one chip per frame the model saw (its time, later its picture), which
seeks the player; where the model was told other times than the frames' (`Answer.model_times`),
the line says so and each chip's tooltip gives the time the model was told. A regenerated answer
streams into the bubble of the answer it replaces, whose ‹ 1/2 › arrows then show any of the
turn's answers. The bubbles draw what they are given; the pane decides what that is.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.chat.looks import BubbleFrame, look_error, look_secondary
from desktop.chat.streamed_text import StreamedText
from desktop.chat.wrapping_label import BREAK, WrappingLabel
from videochat.frames_seen import frames_seen
from videochat.safe_text import one_line
from videochat.video.timecode import format_time



def describe(answer) -> str:
    """The meta line of a finished answer: model, frames, scope, and whether it was stopped."""
    if answer.segment:
        start, end = answer.segment
        scope = f"{format_time(start)}–{format_time(end)}"
    else:
        scope = "whole clip"
    model = one_line(shown_model(answer.model))  # from a session file, or a model folder's name: outside text
    if getattr(answer, "engine", None):  # the server's address, recorded without credentials or query
        model = f"{model} on {one_line(answer.engine)}"
    parts = [model, frames_seen(answer), scope]
    if answer.stopped:
        parts.append("stopped")
    if getattr(answer, "model_times", None):
        parts.append("the model was told other frame times (hover a frame)")
    return " · ".join(parts)


def chip_tip(index: int, seconds: float, told: float | None) -> str:
    """A frame chip's tooltip: the frame, its time and, where the model was told another time, that time."""
    said = "" if told is None or format_time(told) == format_time(seconds) else f" (the model was told {format_time(told)})"
    return f"Frame {index} at {format_time(seconds)}{said}: show it in the player"


def shown_model(name: str) -> str:
    """The label of the catalog model an answer names (older answers carry its repo name); other names as stored."""
    from videochat.models.catalog import find_entry

    entry = find_entry(name) if name else None
    return entry.label if entry is not None else name


# Qt's Markdown draws HTML written in it (GitHub's dialect), with its styles: an answer's <span
# style="font-size:3000pt"> made its bubble thousands of pixels high, and a styled line can pass for
# the app's own. A zero-width break after each "<" that would open a tag shows it as the text it is,
# inside code too, and is left out of every copy (`WrappingLabel`).
_TAG_OPENING = re.compile(r"<(?=[A-Za-z/!?])")


class _HtmlShownAsText(QLabel):
    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        super().setText(_TAG_OPENING.sub("<" + BREAK, text))


class MarkdownLabel(WrappingLabel, _HtmlShownAsText):
    """An answer's text: Markdown, with any HTML in it shown as text; `text()` and copies give it as set."""


def _text_label(text: str = "", markdown: bool = False) -> QLabel:
    label = (MarkdownLabel if markdown else WrappingLabel)(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.MarkdownText if markdown else Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class QuestionBubble(BubbleFrame):
    def __init__(self, question: str, parent: QWidget | None = None):
        super().__init__(filled=True, parent=parent)
        self.setObjectName("question")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        self.label = _text_label(question)
        layout.addWidget(self.label)


class NoticeBubble(QFrame):
    """An error or hint that concerns the chat, shown where the user is looking."""

    def __init__(self, message: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("notice")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        self.label = _text_label(message)
        look_error(self.label)
        layout.addWidget(self.label)


REGENERATE_TIP = "Ask the same question again, with the same turns before it; this answer stays a click away (‹ ›)"
GREEDY_TIP = (
    "At temperature 0 the model always picks its most likely next word, so regenerating would give this "
    "same answer again: raise the temperature to get another one."
)


class AnswerBubble(BubbleFrame):
    sig_seek_requested = Signal(float, int)  # (seconds, frame index)
    sig_selected = Signal()
    sig_regenerate_requested = Signal()
    sig_note_requested = Signal()
    sig_alternative_chosen = Signal(int)  # which of the turn's answers it shows now

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("answer")
        self.answer_id = 0  # the pane's key for it
        self.turn_index: int | None = None  # its place in the video's session, once saved
        self.text = ""
        self.answer = None  # the core Answer, once finished
        self.answers: list = []  # every answer of its turn (more than one once regenerated), oldest first
        self.shown = 0  # which of them it shows
        self._replaced: tuple | None = None  # while regenerating: (answer, answers, shown) to go back to on failure
        self.open = True  # still streaming (or waiting for its first words)
        self.times: list[float] = []
        self.chips: list[QToolButton] = []

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        self.text_label = _text_label("…", markdown=True)  # the whole text; hidden while it streams, as `streamed` shows it then
        self.streamed = StreamedText(lambda text: _text_label(text, markdown=True))
        self.streamed.hide()
        self.error_label = _text_label()
        look_error(self.error_label)
        self.error_label.hide()
        self.meta_label = _text_label()
        look_secondary(self.meta_label)
        self.meta_label.hide()

        self.chip_row = QWidget()
        self.chip_layout = QHBoxLayout(self.chip_row)
        self.chip_layout.setContentsMargins(0, 0, 0, 0)
        self.chip_layout.addStretch(1)
        self.chip_scroll = QScrollArea()
        self.chip_scroll.setWidget(self.chip_row)
        self.chip_scroll.setWidgetResizable(True)
        self.chip_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.chip_scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.chip_scroll.hide()

        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the answer's text")
        self.copy_button.clicked.connect(self._on_copy_clicked)
        self.regenerate_button = QPushButton("Regenerate")
        self.regenerate_button.setToolTip(REGENERATE_TIP)
        self.regenerate_button.clicked.connect(self.sig_regenerate_requested)
        self.previous_button, self.next_button = QToolButton(), QToolButton()
        self.previous_button.setText("‹")
        self.previous_button.setToolTip("Show this question's previous answer")
        self.previous_button.clicked.connect(lambda: self.show_answer(self.shown - 1))
        self.next_button.setText("›")
        self.next_button.setToolTip("Show this question's next answer")
        self.next_button.clicked.connect(lambda: self.show_answer(self.shown + 1))
        self.place_label = QLabel()
        look_secondary(self.place_label)
        self.note_button = QPushButton("Note")
        self.note_button.setToolTip("Make a timeline note of this answer, over the frames it saw (or its segment)")
        self.note_button.clicked.connect(self.sig_note_requested)
        buttons = QHBoxLayout()
        for widget in (self.previous_button, self.place_label, self.next_button):
            buttons.addWidget(widget)
            widget.hide()
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.regenerate_button)
        buttons.addWidget(self.note_button)
        buttons.addStretch(1)
        self.copy_button.setEnabled(False)
        self.regenerate_button.setEnabled(False)
        self.note_button.setEnabled(False)

        for widget in (self.text_label, self.streamed, self.error_label, self.meta_label, self.chip_scroll):
            layout.addWidget(widget)
        layout.addLayout(buttons)
        # A click on the bubble selects it, on its selectable labels too (the press is theirs, for
        # selecting text). Not an event filter: that would run Python for every event of the three.
        self.text_label.sig_pressed.connect(self.sig_selected)
        self.meta_label.sig_pressed.connect(self.sig_selected)

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.sig_selected.emit()
        super().mousePressEvent(event)

    def append_text(self, piece: str) -> None:
        self.text += piece
        self.text_label.setText(self.text)  # hidden: no layout, no paint until the answer ends
        self.streamed.set_text(self.text)
        if self.streamed.isHidden():
            self.text_label.hide()
            self.streamed.show()

    def _show_whole_text(self) -> None:
        """The streamed parts give way to the one label that shows an answer whole."""
        if not self.streamed.isHidden():
            self.streamed.hide()
            self.streamed.clear()
            self.text_label.show()

    def set_status(self, text: str) -> None:
        self.meta_label.setText(text)
        self.meta_label.setVisible(bool(text))

    def finish(self, answer, turn_index: int | None = None, answers=None, shown: int = 0) -> None:
        """Show the finished `answer`; `answers` (oldest first, `answer` at `shown`): every answer of its turn."""
        self.open = False
        self.turn_index = turn_index
        if not answers and self._replaced is not None and self._replaced[0] is not None:  # regenerated, its session not read yet
            answers, shown = [*self._replaced[1], answer], len(self._replaced[1])
        self._replaced = None
        self.answers, self.shown = (list(answers), shown) if answers else ([answer], 0)
        self._show(answer)

    def begin_again(self) -> None:
        """Regenerating: the new answer streams here; the one shown now comes back if it fails."""
        self._replaced = (self.answer, self.answers, self.shown)
        self.open = True
        self.text = ""
        self._show_whole_text()
        self.text_label.setText("…")
        self.text_label.show()
        self.error_label.hide()
        self.set_status("")
        self._clear_chips()
        for button in (self.previous_button, self.next_button, self.copy_button, self.note_button):
            button.setEnabled(False)

    def show_answer(self, choice: int) -> None:
        """Show another of the turn's answers (the arrows); `sig_alternative_chosen` says which."""
        if self.open or not 0 <= choice < len(self.answers) or choice == self.shown:
            return
        self.shown = choice
        self._show(self.answers[choice])
        self.sig_alternative_chosen.emit(choice)

    def _show(self, answer) -> None:
        streamed = self.text
        self.answer = answer
        self.text = answer.text
        self.text_label.setText(self.text or "(no answer)")
        if not self.streamed.isHidden() and self.text and self.text.startswith(streamed):
            # The streamed parts stay until the whole text's label is laid out.
            self.streamed.set_text(self.text)
            self.streamed.hand_over(self.text_label, self._show_whole_text)
        else:
            self._show_whole_text()
            self.text_label.show()
        self.error_label.hide()
        self.set_status(describe(answer))
        self._clear_chips()
        self.times = [float(t) for t in answer.times]
        told = getattr(answer, "model_times", None) or [None] * len(self.times)
        for number, (seconds, index) in enumerate(zip(self.times, answer.indices)):
            chip = QToolButton()
            chip.setText(format_time(seconds))
            chip.setToolTip(chip_tip(index, seconds, told[number] if number < len(told) else None))
            chip.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            chip.clicked.connect(lambda _checked=False, s=seconds, i=int(index): self.sig_seek_requested.emit(s, i))
            self.chip_layout.insertWidget(number, chip)
            self.chips.append(chip)
        self._fit_chip_row()  # before it shows: a child shown lays out every visible ancestor at once
        self.chip_scroll.setVisible(bool(self.chips))
        self.copy_button.setEnabled(bool(self.text))
        self.note_button.setEnabled(self.turn_index is not None)
        many = len(self.answers) > 1
        for widget in (self.previous_button, self.place_label, self.next_button):
            widget.setVisible(many)
        self.place_label.setText(f"{self.shown + 1}/{len(self.answers)}")
        self.place_label.setToolTip(f"Answer {self.shown + 1} of {len(self.answers)} to this question: the one shown is the one saved and exported")
        self.previous_button.setEnabled(self.shown > 0)
        self.next_button.setEnabled(self.shown < len(self.answers) - 1)

    def _clear_chips(self) -> None:
        for chip in self.chips:
            self.chip_layout.removeWidget(chip)
            chip.deleteLater()
        self.chips = []
        self.chip_scroll.hide()

    def fail(self, message: str) -> None:
        if self._replaced is not None and self._replaced[0] is not None:  # a regenerated answer failed: the one it was to replace stays
            answer, answers, shown = self._replaced
            self._replaced = None
            self.finish(answer, self.turn_index, answers, shown)
            message = f"Regenerating failed: {message}"
        self.open = False
        self._show_whole_text()
        if not self.text:
            self.text_label.hide()
        self.error_label.setText(message)
        self.error_label.show()
        self.copy_button.setEnabled(bool(self.text))

    def set_thumbnails(self, images: list) -> None:
        for chip, image in zip(self.chips, images):
            pixmap = QPixmap.fromImage(image) if isinstance(image, QImage) else image
            chip.setIcon(pixmap)
            chip.setIconSize(pixmap.size())
            chip.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        self._fit_chip_row()

    def _fit_chip_row(self) -> None:
        # The row scrolls sideways only: its height is the chips' plus room for the scroll bar.
        if self.chips:
            chip_height = max(chip.sizeHint().height() for chip in self.chips)
            bar = self.chip_scroll.horizontalScrollBar().sizeHint().height()
            self.chip_scroll.setFixedHeight(chip_height + bar + 4)

    def _on_copy_clicked(self) -> None:
        QApplication.clipboard().setText(self.text)
