"""The chat pane: the model and sampling settings, the conversation, and the question box.

A view: it shows what the main window hands it (model list and status, the family's frame rule,
streamed text, finished answers, errors) and turns clicks into `sig_*_requested` signals. It runs
no model and reads no video itself, except for chip thumbnails, which a `ThumbnailLoader` decodes
on its own thread. Its parts: the model list (`model_list.py`), the generation controls and their
frame rule (`controls.py`), the bubbles (`bubbles.py`), the question box (`question_box.py`).
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from desktop.chat.column_layout import ColumnLayout
from desktop.chat.wrapping_label import WrappingLabel
from desktop.chat.controls import GenerationControls
from desktop.chat.model_list import ModelList
from desktop.chat.question_box import QuestionBox
from desktop.player.thumbnails import ThumbnailLoader

if TYPE_CHECKING:
    from desktop.chat.bubbles import AnswerBubble
    from videochat.generation import GenerationSettings

SCROLL_MARGIN = 8  # around an answer brought into view
NO_MODEL_TEXT = (
    "No model loaded. Choose a downloaded model above, or “Model folder…” for a folder holding one; "
    "to download one, open Model ▸ Model manager (Ctrl+M)."
)


def _bubbles():  # imported with the first bubble: ~2 ms of the window's first paint, where there is none
    from desktop.chat import bubbles
    return bubbles


def _looks():  # as the bubbles (which import it)
    from desktop.chat import looks
    return looks


class ChatPane(QWidget):
    sig_model_chosen = Signal(str)  # catalog name, repo id or folder path
    sig_hd_toggled = Signal(bool)
    sig_ask_requested = Signal(str)  # the question
    sig_stop_requested = Signal()
    sig_regenerate_requested = Signal()
    sig_seek_requested = Signal(float, int)  # (seconds, frame index)
    sig_answer_selected = Signal(list)  # list[float]: the selected answer's frame times
    sig_note_requested = Signal(int)  # the answer's turn in the video's session
    sig_alternative_chosen = Signal(int, int)  # (the turn in the video's session, which of its answers it shows now)

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

        self.model_combo = ModelList()
        self.model_combo.sig_model_chosen.connect(self.sig_model_chosen)
        self.status_label = WrappingLabel(NO_MODEL_TEXT)  # it names model folders: a long path wraps
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)  # and a folder named like markup is no markup
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.controls = GenerationControls()
        self.controls.sig_hd_toggled.connect(self.sig_hd_toggled)
        # The controls' widgets, as the window and its tests reach them.
        self.frames_spin = self.controls.frames_spin
        self.hd_check = self.controls.hd_check
        self.tokens_spin = self.controls.tokens_spin
        self.temperature_spin = self.controls.temperature_spin
        self.temperature_spin.valueChanged.connect(self._update_regenerate)  # greedy: Regenerate would say the same

        self.messages = QWidget()
        # It grows at its bottom, its bubbles never move (ColumnLayout): only what grows is painted again.
        self.messages.setAttribute(Qt.WidgetAttribute.WA_StaticContents)
        self.message_layout = ColumnLayout(self.messages)
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
        input_row = QHBoxLayout()
        input_row.addWidget(self.question_box, 1)
        input_row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        layout = QVBoxLayout(self)
        layout.addLayout(model_row)
        layout.addWidget(self.status_label)
        layout.addWidget(self.controls)
        layout.addWidget(self.scroll, 1)
        layout.addLayout(input_row)

    # -- settings -------------------------------------------------------------------------

    def set_models(self, models: list[tuple[str, str]]) -> None:
        self.model_combo.set_models(models)

    def has_models(self) -> bool:
        return self.model_combo.has_models()

    def set_current_model(self, model_id: str, label: str | None = None) -> None:
        self.model_combo.set_current_model(model_id, label)

    def set_model_status(self, text: str) -> None:
        self.status_label.setText(text)

    def set_frame_rule(self, family, default: int) -> None:
        """The loaded model's family's frame counts (`GenerationControls.set_frame_rule`); a count it
        changed is noted in the chat."""
        note = self.controls.set_frame_rule(family, default)
        if note:
            self.show_error(note)

    def set_hd_available(self, available: bool, checked: bool = False) -> None:
        self.controls.set_hd_available(available, checked)

    def hd(self) -> bool:
        return self.controls.hd()

    def frames(self) -> int:
        return self.controls.frames()

    def settings(self) -> GenerationSettings:
        return self.controls.settings()

    def generation_values(self) -> tuple[int, float]:
        return self.controls.generation_values()

    def set_generation_values(self, max_new_tokens: int, temperature: float) -> None:
        self.controls.set_generation_values(max_new_tokens, temperature)

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
        self._add(_bubbles().QuestionBubble(question))
        bubble = self._new_answer_bubble()
        self._open = bubble
        self._add(bubble)
        self._update_regenerate()
        return bubble.answer_id

    def _new_answer_bubble(self) -> AnswerBubble:
        bubble = _bubbles().AnswerBubble()
        bubble.answer_id = next(self._answer_ids)
        bubble.sig_seek_requested.connect(self.sig_seek_requested)
        bubble.sig_selected.connect(lambda: self._select(bubble))
        bubble.sig_regenerate_requested.connect(self._on_regenerate)
        bubble.sig_note_requested.connect(lambda: bubble.turn_index is not None and self.sig_note_requested.emit(bubble.turn_index))
        bubble.sig_alternative_chosen.connect(lambda choice: self._on_alternative_chosen(bubble, choice))
        self._answers[bubble.answer_id] = bubble
        return bubble

    def append_answer_text(self, text: str) -> None:
        if self._open is not None:
            self._open.append_text(text)

    def set_frames_progress(self, done: int, total: int) -> None:
        if self._open is not None:
            self._open.set_status(f"Reading frames {done}/{total}")

    def begin_regenerate(self, bubble: AnswerBubble) -> None:
        """The regenerated answer streams into the bubble of the answer it replaces."""
        if self._open is not None:
            self._open.fail("Interrupted.")
        bubble.begin_again()
        self._open = bubble
        self._update_regenerate()

    def finish_answer(self, answer, video_path: str | Path | None = None, turn_index: int | None = None, answers=None) -> int:
        """Fill the streaming answer with the finished one (its chips, its meta line) and select it.

        `turn_index` is its place in the video's session, which lets it become a timeline note;
        `answers` (a session's `Alternatives`), every answer of its turn when it was regenerated.
        """
        bubble = self._open
        if bubble is None and answers is not None:  # regenerated while its video was opened again: the turn is shown anew
            bubble = next((b for b in self.answer_bubbles() if b.turn_index == turn_index and not b.open), None)
        if bubble is None:  # its video was opened again while it was answered: the chat was cleared
            self.begin_answer(answer.question)
            bubble = self._open
        self._open = None
        if bubble.answer is not None:  # regenerated: thumbnails still coming for its old answer are not this one's
            self._renumber(bubble)
        bubble.finish(answer, turn_index, *((answers.answers, answers.shown) if answers is not None else ()))
        self._update_regenerate()
        self._select(bubble)
        self._request_thumbnails(bubble, video_path or self._video_path)
        return bubble.answer_id

    def _request_thumbnails(self, bubble: AnswerBubble, video_path: str | Path | None) -> None:
        if video_path is not None and bubble.answer.indices:
            self.thumbnails.request(bubble.answer_id, video_path, list(bubble.answer.indices))

    def show_session(self, session, answering: bool = False) -> None:
        """Show a saved conversation (`videochat.sessions.session.Session`) above whatever the chat shows now.

        `answering`: a question about this video is being answered, so the session's unanswered
        question is that one, not one a crash left behind.
        """
        position = 0
        restored = []
        for index, answer in enumerate(session.turns):
            bubble = self._new_answer_bubble()
            answers = session.answers_of(index)
            bubble.finish(answer, index, answers.answers, answers.shown)
            for widget in (_bubbles().QuestionBubble(answer.question), bubble):
                self.message_layout.insertWidget(position, widget)
                position += 1
            restored.append(bubble)
        if session.interrupted and not answering:
            question = session.interrupted["question"]
            notice = "No answer: VideoChat stopped before this answer was finished. It is back in the question box: press Enter to ask it again."
            for widget in (_bubbles().QuestionBubble(question), _bubbles().NoticeBubble(notice)):
                self.message_layout.insertWidget(position, widget)
                position += 1
            if not self.question_box.toPlainText().strip():
                self.question_box.setPlainText(question)
        if restored:
            when = time.strftime("%d %b %Y %H:%M", time.localtime(session.updated_at))
            text = f"Saved conversation, last changed {when}. The next question continues it: the model sees these turns, on the same frames (with the same model, frame count and segment)."
            self.message_layout.insertWidget(position, _looks().secondary_note(text, "restoredNote"))
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
        self._add(_bubbles().NoticeBubble(message))

    def show_note(self, text: str) -> None:
        """A line about the conversation itself (a new one starts, and why), in the meta lines' style."""
        self._add(_looks().secondary_note(text, "conversationNote"))

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
        questions = [w for w in self.bubbles() if isinstance(w, _bubbles().QuestionBubble)]
        return questions[-1].label.text() if questions else None

    def answer_bubbles(self) -> list[AnswerBubble]:
        return [w for w in self.bubbles() if isinstance(w, _bubbles().AnswerBubble)]

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
        self.message_layout.insertWidget(self.message_layout.count(), widget)
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
        top = widgets[place - 1] if place > 0 and isinstance(widgets[place - 1], _bubbles().QuestionBubble) else bubble
        if bubble.geometry().bottom() - top.y() + 2 * SCROLL_MARGIN > self.scroll.viewport().height():
            self.scroll.verticalScrollBar().setValue(top.y() - SCROLL_MARGIN)
        else:
            self.scroll.ensureWidgetVisible(bubble, 0, SCROLL_MARGIN)
            self.scroll.ensureWidgetVisible(top, 0, SCROLL_MARGIN)

    def _select(self, bubble: AnswerBubble) -> None:
        if bubble.open:
            return
        if self._selected is not None and self._selected is not bubble:
            self._selected.set_outlined(False)
        self._selected = bubble
        bubble.set_outlined(True)
        self.sig_answer_selected.emit(list(bubble.times))

    def _update_regenerate(self) -> None:
        """Only the last answer can be regenerated (the later turns were asked after it); at
        temperature 0 its button is off and says why: the answer would be the same."""
        answers = self.answer_bubbles()
        for bubble in answers:
            bubble.regenerate_button.setEnabled(False)
        if answers and not self._busy and not answers[-1].open:
            last = answers[-1]
            greedy = last.answer is not None and self.generation_values()[1] == 0
            last.regenerate_button.setEnabled(not greedy)
            last.regenerate_button.setToolTip(_bubbles().GREEDY_TIP if greedy else _bubbles().REGENERATE_TIP)

    def _on_alternative_chosen(self, bubble: AnswerBubble, choice: int) -> None:
        self._renumber(bubble)
        self._select(bubble)
        self._request_thumbnails(bubble, self._video_path)
        if bubble.turn_index is not None:
            self.sig_alternative_chosen.emit(bubble.turn_index, choice)

    def _renumber(self, bubble: AnswerBubble) -> None:
        self._answers.pop(bubble.answer_id, None)
        bubble.answer_id = next(self._answer_ids)
        self._answers[bubble.answer_id] = bubble

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
