"""The chat pane: the model and sampling settings, the conversation, and the question box.

A view: it shows what the main window hands it (model list and status, the family's frame
rule, streamed text, finished answers, errors) and turns clicks into `sig_*_requested`
signals. It runs no model and reads no video itself, except for chip thumbnails, which a
`ThumbnailLoader` decodes on its own thread.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.chat.bubbles import AnswerBubble, NoticeBubble, QuestionBubble, WrappingLabel
from desktop.plain_text import tooltip
from desktop.style import BUBBLE_STYLE, META_STYLE
from desktop.player.thumbnails import ThumbnailLoader
from videochat.errors import VideoChatError
from videochat.settings import Settings

if TYPE_CHECKING:
    from videochat.generation import GenerationSettings

MODEL_FOLDER_ITEM = "Model folder…"
_FOLDER = "::model-folder::"  # the folder item's data: no model id or path looks like this
SCROLL_MARGIN = 8  # around an answer brought into view
NO_MODEL_TEXT = (
    "No model loaded. Choose a downloaded model above, or “Model folder…” for a folder holding one; "
    "to download one, open Model ▸ Model manager (Ctrl+M)."
)


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


class ChatPane(QWidget):
    sig_model_chosen = Signal(str)  # catalog name, repo id or folder path
    sig_hd_toggled = Signal(bool)
    sig_ask_requested = Signal(str)  # the question
    sig_stop_requested = Signal()
    sig_regenerate_requested = Signal()
    sig_seek_requested = Signal(float, int)  # (seconds, frame index)
    sig_answer_selected = Signal(list)  # list[float]: the selected answer's frame times
    sig_note_requested = Signal(int)  # the answer's turn in the video's session

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._busy = False
        self._answers: dict[int, AnswerBubble] = {}
        self._answer_ids = itertools.count(1)
        self._open: AnswerBubble | None = None
        self._selected: AnswerBubble | None = None
        self._video_path: Path | None = None
        self._follow_bottom = True
        self.thumbnails = ThumbnailLoader(self)
        self.thumbnails.sig_ready.connect(self.set_thumbnails)

        self.model_combo = QComboBox()
        self.model_combo.setPlaceholderText("Choose a model")
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(16)
        self.model_combo.activated.connect(self._on_model_activated)
        self.status_label = WrappingLabel(NO_MODEL_TEXT)  # it names model folders: a long path wraps
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)  # and a folder named like markup is no markup
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.frames_spin = QSpinBox()
        self.frames_spin.setToolTip("How many frames of the clip (or segment) the model sees")
        self.frames_spin.setKeyboardTracking(False)  # typed values are checked when done, not per digit
        self.frames_spin.valueChanged.connect(self._on_frames_changed)
        self._frame_multiple = 1
        self._default_frames = 8
        self.hd_check = QCheckBox("HD")
        self.hd_check.setToolTip("More detail per frame (the model's HD variant): slower")
        self.hd_check.toggled.connect(self.sig_hd_toggled)
        self.hd_check.setEnabled(False)
        self.tokens_spin = QSpinBox()
        self.tokens_spin.setRange(1, 8192)
        self.tokens_spin.setValue(Settings.max_new_tokens)  # the app's defaults; the window shows the user's own
        self.tokens_spin.setToolTip("The longest answer, in tokens")
        self.temperature_spin = QDoubleSpinBox()
        self.temperature_spin.setRange(0.0, 2.0)
        self.temperature_spin.setSingleStep(0.1)
        self.temperature_spin.setValue(Settings.temperature)
        self.temperature_spin.setToolTip("0 answers the same way every time; higher values vary more")
        self._set_frame_range(64, 1)  # until a model is loaded: the most common rule, 1 to 64
        self.frames_spin.setValue(self._default_frames)

        self.messages = QWidget()
        self.messages.setStyleSheet(BUBBLE_STYLE)
        self.message_layout = QVBoxLayout(self.messages)
        self.message_layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.messages)
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        bar = self.scroll.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_scroll_range_changed)

        self.question_box = QuestionBox()
        self.question_box.setPlaceholderText("Ask about the video (Enter sends, Shift+Enter for a new line)")
        self.question_box.setFixedHeight(self.question_box.fontMetrics().lineSpacing() * 4)
        self.question_box.sig_submitted.connect(self._on_submitted)
        self.send_button = QPushButton("Send")
        self.send_button.clicked.connect(self._on_send_clicked)

        model_row = QHBoxLayout()
        model_row.addWidget(QLabel("Model"))
        model_row.addWidget(self.model_combo, 1)
        sampling_row = QHBoxLayout()
        for label, widget in (("Frames", self.frames_spin), (None, self.hd_check), ("Max tokens", self.tokens_spin), ("Temperature", self.temperature_spin)):
            if label:
                sampling_row.addWidget(QLabel(label))
            sampling_row.addWidget(widget)
        sampling_row.addStretch(1)
        input_row = QHBoxLayout()
        input_row.addWidget(self.question_box, 1)
        input_row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        layout = QVBoxLayout(self)
        layout.addLayout(model_row)
        layout.addWidget(self.status_label)
        layout.addLayout(sampling_row)
        layout.addWidget(self.scroll, 1)
        layout.addLayout(input_row)

    # -- settings -------------------------------------------------------------------------

    def set_models(self, models: list[tuple[str, str]]) -> None:
        """(label, repo id or folder) for each model that can be chosen, the repo id its tooltip; "Model folder…" comes last."""
        current = self.model_combo.currentData()
        self.model_combo.clear()
        for label, model_id in models:
            self.model_combo.addItem(label, model_id)
            self.model_combo.setItemData(self.model_combo.count() - 1, tooltip(model_id), Qt.ItemDataRole.ToolTipRole)
        self.model_combo.insertSeparator(self.model_combo.count())
        self.model_combo.addItem(MODEL_FOLDER_ITEM, _FOLDER)
        self.model_combo.setCurrentIndex(self.model_combo.findData(current) if current is not None else -1)

    def has_models(self) -> bool:
        return any(self.model_combo.itemData(index) not in (None, _FOLDER) for index in range(self.model_combo.count()))

    def set_current_model(self, model_id: str, label: str | None = None) -> None:
        """Show `model_id` (a repo id in any spelling, an old name, or a folder) as chosen, added if it
        is not in the list; emits nothing. The list holds no revisions: the repo or folder decides."""
        index = self._model_index(model_id)
        if index < 0:
            self.model_combo.insertItem(0, label or Path(model_id).name or model_id, model_id)
            self.model_combo.setItemData(0, tooltip(model_id), Qt.ItemDataRole.ToolTipRole)
            index = 0
        self.model_combo.setCurrentIndex(index)

    def _model_index(self, model_id: str) -> int:
        from videochat.models.catalog import model_key

        wanted = model_key(model_id, None)
        for index in range(self.model_combo.count()):
            data = self.model_combo.itemData(index)
            if isinstance(data, str) and data != _FOLDER and model_key(data, None) == wanted:
                return index
        return -1

    def set_model_status(self, text: str) -> None:
        self.status_label.setText(text)

    def set_frame_rule(self, family, default: int) -> None:
        """Take only the frame counts the loaded model's family takes (a `videochat.frames.families.Family`):
        from its multiple to its maximum, in steps of the multiple (InternVideo2.5: 4 to 512 in fours).

        A count left at the last model's default follows the new model's default. A count the user
        chose stays where the family takes it; where not, it becomes the nearest count the family
        takes, and a note in the chat says so in the family's own words.
        """
        chosen = self.frames_spin.value()
        untouched = chosen == self._default_frames
        self._set_frame_range(family.max_frames, family.frame_multiple)
        self._default_frames = self._snap(default)
        if untouched:
            self.frames_spin.setValue(self._default_frames)
            return
        try:
            family.check_frame_count(chosen)
        except VideoChatError as refusal:
            adjusted = self._snap(chosen)
            self.frames_spin.setValue(adjusted)
            self.show_error(f"{refusal} Frames set to {adjusted}.")

    def _set_frame_range(self, maximum: int, multiple: int) -> None:
        """Frames from `multiple` to `maximum`, in steps of `multiple`; the value is left to the caller."""
        self._frame_multiple = max(1, int(multiple))
        top = max(self._frame_multiple, maximum - maximum % self._frame_multiple)
        self.frames_spin.blockSignals(True)
        self.frames_spin.setRange(self._frame_multiple, top)
        self.frames_spin.setSingleStep(self._frame_multiple)
        self.frames_spin.blockSignals(False)

    def set_hd_available(self, available: bool, checked: bool = False) -> None:
        """Whether the model has an HD variant, and whether the loaded one is it (no `sig_hd_toggled`)."""
        self.hd_check.setEnabled(available)
        self.hd_check.blockSignals(True)
        self.hd_check.setChecked(available and checked)
        self.hd_check.blockSignals(False)

    def hd(self) -> bool:
        return self.hd_check.isChecked()

    def frames(self) -> int:
        self.frames_spin.interpretText()
        return self._snap(self.frames_spin.value())

    def settings(self) -> GenerationSettings:
        from videochat.generation import GenerationSettings

        max_new_tokens, temperature = self.generation_values()
        return GenerationSettings(max_new_tokens=max_new_tokens, temperature=temperature)

    def generation_values(self) -> tuple[int, float]:
        """(max new tokens, temperature) as the controls show them."""
        return self.tokens_spin.value(), round(self.temperature_spin.value(), 2)

    def set_generation_values(self, max_new_tokens: int, temperature: float) -> None:
        self.tokens_spin.setValue(max_new_tokens)
        self.temperature_spin.setValue(temperature)

    def _snap(self, frames: int) -> int:
        multiple = self._frame_multiple
        snapped = int(round(frames / multiple)) * multiple
        return min(max(snapped, self.frames_spin.minimum()), self.frames_spin.maximum())

    def _on_frames_changed(self, value: int) -> None:
        snapped = self._snap(value)
        if snapped != value:
            self.frames_spin.setValue(snapped)

    def _on_model_activated(self, index: int) -> None:
        model_id = self.model_combo.itemData(index)
        if model_id != _FOLDER:
            self.sig_model_chosen.emit(model_id)
            return
        from PySide6.QtWidgets import QFileDialog  # on first use: its enums cost the start-up a few ms

        folder = QFileDialog.getExistingDirectory(self, "Choose a model folder")
        if folder:
            self.set_current_model(folder)
            self.sig_model_chosen.emit(folder)
        else:
            self.model_combo.setCurrentIndex(-1)

    # -- the conversation -----------------------------------------------------------------

    def set_video(self, path: str | Path | None) -> None:
        """The video answers are about: chips get their thumbnails from it."""
        self._video_path = Path(path) if path else None

    def begin_answer(self, question: str) -> int:
        """Show the question and an empty answer that streams; returns the answer's id."""
        if self._open is not None:
            self._open.fail("Interrupted.")
        if self.question_box.toPlainText().strip() == question.strip():
            self.question_box.clear()
        self._add(QuestionBubble(question))
        bubble = self._new_answer_bubble()
        self._open = bubble
        self._add(bubble)
        self._update_regenerate()
        return bubble.answer_id

    def _new_answer_bubble(self) -> AnswerBubble:
        bubble = AnswerBubble()
        bubble.answer_id = next(self._answer_ids)
        bubble.sig_seek_requested.connect(self.sig_seek_requested)
        bubble.sig_selected.connect(lambda: self._select(bubble))
        bubble.sig_regenerate_requested.connect(self._on_regenerate)
        bubble.sig_note_requested.connect(lambda: bubble.turn_index is not None and self.sig_note_requested.emit(bubble.turn_index))
        self._answers[bubble.answer_id] = bubble
        return bubble

    def append_answer_text(self, text: str) -> None:
        if self._open is not None:
            self._open.append_text(text)

    def set_frames_progress(self, done: int, total: int) -> None:
        if self._open is not None:
            self._open.set_status(f"Reading frames {done}/{total}")

    def finish_answer(self, answer, video_path: str | Path | None = None, turn_index: int | None = None) -> int:
        """Fill the streaming answer with the finished one (its chips, its meta line) and select it.

        `turn_index` is its place in the video's session, which lets it become a timeline note.
        """
        bubble = self._open
        if bubble is None:  # its video was opened again while it was answered: the chat was cleared
            self.begin_answer(answer.question)
            bubble = self._open
        self._open = None
        bubble.finish(answer, turn_index)
        self._update_regenerate()
        self._select(bubble)
        self._request_thumbnails(bubble, video_path or self._video_path)
        return bubble.answer_id

    def _request_thumbnails(self, bubble: AnswerBubble, video_path: str | Path | None) -> None:
        if video_path is not None and bubble.answer.indices:
            self.thumbnails.request(bubble.answer_id, video_path, list(bubble.answer.indices))

    def show_session(self, session, answering: bool = False) -> None:
        """Show a saved conversation (`videochat.sessions.store.Session`) above whatever the chat shows now.

        `answering`: a question about this video is being answered, so the session's unanswered
        question is that one, not one a crash left behind.
        """
        position = 0
        restored = []
        for index, answer in enumerate(session.turns):
            bubble = self._new_answer_bubble()
            bubble.finish(answer, index)
            for widget in (QuestionBubble(answer.question), bubble):
                self.message_layout.insertWidget(position, widget)
                position += 1
            restored.append(bubble)
        if session.interrupted and not answering:
            question = session.interrupted["question"]
            notice = "No answer: VideoChat stopped before this answer was finished. It is back in the question box: press Enter to ask it again."
            for widget in (QuestionBubble(question), NoticeBubble(notice)):
                self.message_layout.insertWidget(position, widget)
                position += 1
            if not self.question_box.toPlainText().strip():
                self.question_box.setPlainText(question)
        if restored:
            when = time.strftime("%d %b %Y %H:%M", time.localtime(session.updated_at))
            note = QLabel(f"Saved conversation, last changed {when}. The next question starts afresh: the model does not see these turns.")
            note.setObjectName("restoredNote")
            note.setWordWrap(True)
            note.setStyleSheet(META_STYLE)
            self.message_layout.insertWidget(position, note)
            position += 1
        if restored and self._open is None and self._selected is None:
            self._select(restored[-1])
        for bubble in restored:
            self._request_thumbnails(bubble, self._video_path)
        self._update_regenerate()

    def fail_answer(self, message: str) -> None:
        """Show the error in the answer that was streaming (its partial text stays)."""
        if self._open is None:
            self.show_error(message)
            return
        self._open.fail(message)
        self._open = None
        self._update_regenerate()

    def show_error(self, message: str) -> None:
        self._add(NoticeBubble(message))

    def set_thumbnails(self, answer_id: int, images: list) -> None:
        bubble = self._answers.get(answer_id)
        if bubble is not None:
            bubble.set_thumbnails(images)

    def set_busy(self, busy: bool) -> None:
        """While answering, Send becomes Stop."""
        self._busy = busy
        self.send_button.setText("Stop" if busy else "Send")
        self.send_button.setToolTip("Stop the answer (what it said so far is kept)" if busy else "Ask the question (Enter)")
        self._update_regenerate()

    @property
    def last_question(self) -> str | None:
        questions = [w for w in self.bubbles() if isinstance(w, QuestionBubble)]
        return questions[-1].label.text() if questions else None

    def answer_bubbles(self) -> list[AnswerBubble]:
        return [w for w in self.bubbles() if isinstance(w, AnswerBubble)]

    def clear(self) -> None:
        for widget in self.bubbles():
            self.message_layout.removeWidget(widget)
            widget.deleteLater()
        self._answers.clear()
        self._open = self._selected = None
        self._follow_bottom = True

    def shutdown(self) -> bool:
        """Stop decoding thumbnails (on quit)."""
        return self.thumbnails.shutdown()

    def bubbles(self) -> list[QWidget]:
        items = (self.message_layout.itemAt(i).widget() for i in range(self.message_layout.count()))
        return [w for w in items if w is not None]

    def _add(self, widget: QWidget) -> None:
        self.message_layout.insertWidget(self.message_layout.count() - 1, widget)
        self._follow_bottom = True

    def show_answer(self, turn_index: int) -> bool:
        """Scroll to the answer of this turn of the video's session and select it; False if the chat does not show it."""
        for bubble in self.answer_bubbles():
            if bubble.turn_index == turn_index and not bubble.open:
                self._follow_bottom = False  # the user is reading this one: new text does not scroll it away
                self._scroll_to(bubble)
                self._select(bubble)
                return True
        return False

    def _scroll_to(self, bubble: AnswerBubble) -> None:
        """Bring the answer and its question into view; an answer taller than the view shows from its beginning."""
        widgets = self.bubbles()
        place = widgets.index(bubble)
        top = widgets[place - 1] if place > 0 and isinstance(widgets[place - 1], QuestionBubble) else bubble
        if bubble.geometry().bottom() - top.y() + 2 * SCROLL_MARGIN > self.scroll.viewport().height():
            self.scroll.verticalScrollBar().setValue(top.y() - SCROLL_MARGIN)
        else:
            self.scroll.ensureWidgetVisible(bubble, 0, SCROLL_MARGIN)
            self.scroll.ensureWidgetVisible(top, 0, SCROLL_MARGIN)

    def _select(self, bubble: AnswerBubble) -> None:
        if bubble.open:
            return
        if self._selected is not None and self._selected is not bubble:
            self._selected.set_selected(False)
        self._selected = bubble
        bubble.set_selected(True)
        self.sig_answer_selected.emit(list(bubble.times))

    def _update_regenerate(self) -> None:
        answers = self.answer_bubbles()
        for bubble in answers:
            bubble.regenerate_button.setEnabled(False)
        if answers and not self._busy and not answers[-1].open:
            answers[-1].regenerate_button.setEnabled(True)

    def _on_regenerate(self) -> None:
        if not self._busy:
            self.sig_regenerate_requested.emit()

    def _on_submitted(self) -> None:
        if self._busy:
            return
        question = self.question_box.toPlainText().strip()
        if question:
            self.sig_ask_requested.emit(question)

    def _on_send_clicked(self) -> None:
        if self._busy:
            self.sig_stop_requested.emit()
        else:
            self._on_submitted()

    def _on_scrolled(self, value: int) -> None:
        self._follow_bottom = value >= self.scroll.verticalScrollBar().maximum() - 4

    def _on_scroll_range_changed(self, _minimum: int, maximum: int) -> None:
        # New text keeps the newest line in view, unless the user scrolled up to read.
        if self._follow_bottom:
            self.scroll.verticalScrollBar().setValue(maximum)
