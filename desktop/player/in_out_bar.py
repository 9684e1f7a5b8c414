"""The row under the transport: go to a position, the in and out frames (times and numbers, editable), loop.

A view only: it shows what the pane tells it and emits what was typed; the pane reads the text
with the core's `Timeline.frame_from_text` and shows back the frame it named, or the message.
Its fields are text boxes, so while one has the focus the player's keys type into it; Enter
and Esc hand the focus back to the player.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget

from desktop.style import ERROR_TEXT_STYLE, FIELD_ERROR_STYLE, TIME_STYLE
from videochat.video.timecode import format_time
from videochat.video.timeline import POSITION_HINT

FIELD_WIDTH_CHARS = 13


class PositionEdit(QLineEdit):
    """A time-or-frame field: Enter emits the text, Esc gives up the edit; either leaves the field."""

    sig_typed = Signal(str)
    sig_left = Signal()

    def __init__(self, name: str, placeholder: str, tooltip: str):
        super().__init__()
        self.setObjectName(name)
        self.setPlaceholderText(placeholder)
        self.setToolTip(tooltip)
        self._tooltip = tooltip
        self.setStyleSheet(TIME_STYLE)
        self.setMaximumWidth(self.fontMetrics().horizontalAdvance("0") * FIELD_WIDTH_CHARS + 16)
        self.returnPressed.connect(self._on_return_pressed)

    def _on_return_pressed(self) -> None:
        # Handled once: what the pane then shows replaces the typed text (unless it is refused).
        self.setModified(False)
        self.sig_typed.emit(self.text())

    def event(self, event) -> bool:
        # Esc belongs to the field while it has the focus, not to the player's clear-in/out.
        if event.type() == QEvent.Type.ShortcutOverride and event.key() == Qt.Key.Key_Escape:
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if event.key() == Qt.Key.Key_Escape:
            self.setModified(False)  # the pane shows its marks again over what was typed
            self.sig_left.emit()
            return
        super().keyPressEvent(event)

    def show_error(self, message: str | None) -> None:
        self.setStyleSheet(FIELD_ERROR_STYLE if message else TIME_STYLE)
        self.setToolTip(message or self._tooltip)


class InOutBar(QWidget):
    sig_go_to_typed = Signal(str)
    sig_in_typed = Signal(str)  # an empty text clears the in
    sig_out_typed = Signal(str)
    sig_loop_toggled = Signal(bool)
    sig_done = Signal()  # Esc in a field: the edit is given up, the player takes the focus back

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.go_to = PositionEdit("playerGoTo", "Go to…", f"Go to a time or frame (Ctrl+G). {POSITION_HINT}")
        self.in_edit = PositionEdit("playerIn", "not set", f"The in frame (I), included. {POSITION_HINT} Empty: none.")
        self.out_edit = PositionEdit("playerOut", "not set", f"The out frame (O), included. {POSITION_HINT} Empty: none.")
        self.in_frame = QLabel()
        self.in_frame.setObjectName("playerInFrame")
        self.out_frame = QLabel()
        self.out_frame.setObjectName("playerOutFrame")
        self.message = QLabel()
        self.message.setTextFormat(Qt.TextFormat.PlainText)  # repeats what was typed
        self.message.setObjectName("playerPositionMessage")
        self.message.setStyleSheet(ERROR_TEXT_STYLE)
        self.loop_button = QToolButton()
        self.loop_button.setObjectName("playerLoop")
        self.loop_button.setText("Loop")
        self.loop_button.setCheckable(True)
        self.loop_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.loop_button.setToolTip("Play the in/out segment (or the whole video) over and over (R)")
        self.loop_button.toggled.connect(self.sig_loop_toggled)

        for edit, signal in ((self.go_to, self.sig_go_to_typed), (self.in_edit, self.sig_in_typed), (self.out_edit, self.sig_out_typed)):
            edit.sig_typed.connect(signal)
            edit.sig_left.connect(self.sig_done)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.go_to)
        layout.addSpacing(12)
        for title, edit, frame in (("In", self.in_edit, self.in_frame), ("Out", self.out_edit, self.out_frame)):
            layout.addWidget(QLabel(title))
            layout.addWidget(edit)
            layout.addWidget(frame)
        layout.addWidget(self.loop_button)
        layout.addWidget(self.message, 1)

    def show_marks(self, marks: tuple[tuple[float, int] | None, tuple[float, int] | None]) -> None:
        """The in and out frames as (their own time, their number), or None where unset."""
        for (edit, frame), mark in zip(((self.in_edit, self.in_frame), (self.out_edit, self.out_frame)), marks):
            if not edit.hasFocus() or not edit.isModified():
                edit.setText(format_time(mark[0]) if mark else "")
                edit.setModified(False)
            frame.setText(f"frame {mark[1]}" if mark else "")
            edit.show_error(None)
        self.message.setText("")

    def show_error(self, edit: PositionEdit, message: str | None) -> None:
        edit.show_error(message)
        self.message.setText(message or "")

    def went_to(self) -> None:
        self.go_to.clear()
        self.show_error(self.go_to, None)

    def give_up_edits(self, marks) -> None:
        """Esc: the fields show the marks again, without a message."""
        self.went_to()
        self.show_marks(marks)

    def set_looping(self, looping: bool) -> None:
        self.loop_button.setChecked(looping)

    def start_go_to(self) -> None:
        self.go_to.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.go_to.selectAll()
