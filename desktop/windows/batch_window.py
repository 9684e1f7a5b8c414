"""Tools ▸ Batch: every question of every clip in a folder (or a list), answered by the loaded model.

The same work as `videochat batch`, through the same core (`videochat.batch`): the plan (which
clips, which answers are already in the results file) is made on a pool thread, the answers on
the model thread, and this window shows the queue as the events come. A second run over the
same inputs does only what is missing; Cancel stops within one answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.threads.background import run_job
from desktop.plain_text import tooltip
from desktop.style import ERROR_TEXT_STYLE

if TYPE_CHECKING:
    from videochat.generation import GenerationSettings

CLIP, STATUS, ANSWERS = range(3)


def _plan_job(source: Path, questions_text: str, out_path: Path, ref, frames: int | None):
    """On a pool thread: the plan; raises why there is none."""
    from videochat.batch.inputs import find_clips, parse_questions
    from videochat.batch.plan import plan_batch

    clips = find_clips(source)
    questions = parse_questions(questions_text)
    # A served model's lines are the CLI's `engine:<model>`, whichever address serves it today.
    return plan_batch(clips, questions, out_path, ref.display_name, frames, ref.revision, getattr(ref, "batch_source", ref.source))


def _no_plan_text(error: Exception, source: Path) -> str:
    from videochat.errors import VideoChatError

    if isinstance(error, VideoChatError):
        return str(error)
    if isinstance(error, OSError):
        return f"{error.filename or source}: {error.strerror or error}"
    return f"{type(error).__name__}: {error}"


def _shown_name(clip: Path, clips: list[Path]) -> str:
    """The clip's path below the folder the clips share: crossing.mp4 in street/ reads street/crossing.mp4."""
    import os

    try:
        common = Path(os.path.commonpath([str(c.parent) for c in clips]))
        return str(clip.relative_to(common))
    except ValueError:
        return clip.name


class BatchWindow(QDialog):
    sig_finished = Signal()

    def __init__(self, worker, generation_settings: Callable[[], GenerationSettings], parent: QWidget | None = None):
        """`generation_settings`: the answers' length and temperature, as the chat pane has them when Start is pressed."""
        super().__init__(parent)
        self.setWindowTitle("Batch — VideoChat")
        self.resize(820, 600)
        self.worker = worker
        self._generation_settings = generation_settings
        self._plan = None
        self._planning = False
        self._planned_source: Path | None = None  # the clips being planned, for an error that names no file
        self._rows: dict[str, int] = {}  # clip path -> row
        self._answered_per_clip: dict[str, int] = {}

        self.source_edit = QLineEdit()
        self.source_edit.setPlaceholderText("A folder of clips, or a text file listing one clip per line")
        folder_button = QPushButton("Folder…")
        folder_button.clicked.connect(self._on_choose_folder)
        list_button = QPushButton("List…")
        list_button.clicked.connect(self._on_choose_list)
        source_row = QHBoxLayout()
        source_row.addWidget(self.source_edit, 1)
        source_row.addWidget(folder_button)
        source_row.addWidget(list_button)

        self.questions_edit = QPlainTextEdit()
        self.questions_edit.setPlaceholderText("One question per line (lines starting with # are skipped)")
        self.questions_edit.setFixedHeight(self.questions_edit.fontMetrics().lineSpacing() * 5)
        self.frames_spin = QSpinBox()
        self._frame_multiple = 1
        self.frames_spin.setRange(0, 512)  # until a model is loaded; then its family's counts (see `_follow_frame_rule`)
        self.frames_spin.setSpecialValueText("the model's default")
        self.frames_spin.valueChanged.connect(self._on_frames_changed)
        self.frames_spin.setMaximumWidth(self.frames_spin.fontMetrics().horizontalAdvance("the model's default") + 60)
        self.out_edit = QLineEdit()
        self.out_edit.setPlaceholderText("results.jsonl (answers already in it are not asked again)")
        out_button = QPushButton("Choose…")
        out_button.clicked.connect(self._on_choose_out)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out_edit, 1)
        out_row.addWidget(out_button)
        self.model_label = QLabel()
        self.model_label.setTextFormat(Qt.TextFormat.PlainText)  # a model folder's name, as typed

        form = QFormLayout()
        form.addRow("Clips", source_row)
        form.addRow("Questions", self.questions_edit)
        form.addRow("Frames", self.frames_spin)
        form.addRow("Results", out_row)
        form.addRow("Model", self.model_label)

        self.queue = QTableWidget(0, 3)
        self.queue.setHorizontalHeaderLabels(["Clip", "Status", "Answers"])
        self.queue.verticalHeader().hide()
        self.queue.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.queue.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.queue.horizontalHeader()
        header.setSectionResizeMode(CLIP, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(STATUS, QHeaderView.ResizeMode.Stretch)  # a long reason is cut; its tooltip has it all
        header.setSectionResizeMode(ANSWERS, QHeaderView.ResizeMode.ResizeToContents)
        self.queue.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.queue.setWordWrap(False)
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m answers")
        self.message = QLabel()
        self.message.setTextFormat(Qt.TextFormat.PlainText)  # names files and says errors: never markup
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop after at most one answer; running the batch again goes on from there")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.queue, 1)
        layout.addWidget(self.progress)
        layout.addLayout(buttons)

        worker.sig_batch_event.connect(self._on_event)
        worker.sig_batch_finished.connect(self._on_finished)
        worker.sig_batch_failed.connect(self._on_failed)
        worker.sig_loaded.connect(lambda _ref: self.refresh_model())
        worker.sig_unloaded.connect(self.refresh_model)
        self.refresh_model()

    # -- inputs ---------------------------------------------------------------------------

    def refresh_model(self) -> None:
        ref = self.worker.loaded_ref
        if ref is None:
            self.model_label.setText("No model is loaded: load one in the chat (or the model manager) first.")
        else:
            self.model_label.setText(f"{ref.shown_name} (the model loaded in the chat)")
            self._follow_frame_rule(ref)
            if self.frames_spin.value() == 0:
                self.frames_spin.setToolTip(f"0: the model's default, {ref.default_frames} frames")
        self._update_buttons()

    def _follow_frame_rule(self, ref) -> None:
        """Take the counts the model's family takes, as the chat's control does (0 stays the model's
        default); a chosen count the family does not take becomes the nearest it does, and the
        message says so in the family's own words."""
        from videochat.errors import InvalidFrameCount
        from videochat.families import get_family  # loaded with the model by now

        family = get_family(ref.family)
        chosen = self.frames_spin.value()
        self._frame_multiple = max(1, family.frame_multiple)
        top = max(self._frame_multiple, family.max_frames - family.max_frames % self._frame_multiple)
        self.frames_spin.blockSignals(True)
        self.frames_spin.setRange(0, top)
        self.frames_spin.setSingleStep(self._frame_multiple)
        self.frames_spin.blockSignals(False)
        if not chosen:
            return
        try:
            family.check_frame_count(chosen)
        except InvalidFrameCount as refusal:
            adjusted = self._snap(chosen)
            self.frames_spin.setValue(adjusted)
            self._show_message(f"{refusal} Frames set to {adjusted}.")

    def _snap(self, frames: int) -> int:
        """The nearest count the family takes (0, the model's default, stays 0)."""
        if frames == 0:
            return 0
        snapped = max(self._frame_multiple, int(round(frames / self._frame_multiple)) * self._frame_multiple)
        return min(snapped, self.frames_spin.maximum())

    def _on_frames_changed(self, value: int) -> None:
        snapped = self._snap(value)
        if snapped != value:
            self.frames_spin.setValue(snapped)

    def _frame_refusal(self, ref, frames: int | None) -> str | None:
        """Why the loaded model cannot take `frames`, in its family's words (its range); None if it can."""
        from videochat.errors import InvalidFrameCount
        from videochat.families import get_family

        try:
            if frames is not None:
                get_family(ref.family).check_frame_count(frames)
        except InvalidFrameCount as error:
            return str(error)
        return None

    def _on_choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "A folder of clips")
        if folder:
            self.set_source(folder)

    def _on_choose_list(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "A list of clips, one per line", "", "Text files (*.txt *.lst);;All files (*)")
        if path:
            self.set_source(path)

    def _on_choose_out(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Results file", self.out_edit.text(), "JSON Lines (*.jsonl);;All files (*)")
        if path:
            self.out_edit.setText(path)

    def set_source(self, path: str | Path) -> None:
        self.source_edit.setText(str(path))
        if not self.out_edit.text():
            source = Path(path)
            folder = source if source.is_dir() else source.parent
            self.out_edit.setText(str(folder / "results.jsonl"))

    # -- running --------------------------------------------------------------------------

    def start(self) -> None:
        ref = self.worker.loaded_ref
        if ref is None:
            self._show_message("No model is loaded: load one in the chat first.", error=True)
            return
        if self.worker.is_busy:
            self._show_message("The model is busy (an answer or a load): start when it is done.", error=True)
            return
        source, out = self.source_edit.text().strip(), self.out_edit.text().strip()
        if not source or not out:
            self._show_message("Choose the clips and the results file first.", error=True)
            return
        self.frames_spin.interpretText()
        frames = self.frames_spin.value() or None
        refusal = self._frame_refusal(ref, frames)
        if refusal is not None:  # before any clip is looked at or any answer asked
            self._show_message(refusal, error=True)
            return
        self._planning = True
        self._update_buttons()
        self._show_message("Looking at the clips and the results so far…")
        self._planned_source = Path(source).expanduser()
        run_job(_plan_job, self._planned_source, self.questions_edit.toPlainText(), Path(out).expanduser(), ref, frames, returned=self._on_planned, errored=self._on_not_planned)

    def _on_not_planned(self, error: Exception) -> None:
        self._on_planned(None, _no_plan_text(error, self._planned_source))

    def _on_planned(self, plan, error: str | None = None) -> None:
        self._planning = False
        ref = self.worker.loaded_ref
        if plan is not None and (ref is None or not plan.is_for(ref)):
            plan, error = None, "The model changed while the batch was being planned: press Start again."
        elif plan is not None and self.worker.is_busy:
            plan, error = None, "The model got busy meanwhile (an answer or a load): start when it is done."
        if plan is None:
            self._show_message(error, error=True)
            self._update_buttons()
            return
        self._plan = plan
        self._fill_queue(plan)
        if not plan.pending:
            self._show_message(f"Nothing to do: every answer is already in {plan.out_path.name}.")
            self._update_buttons()
            return
        self._show_message(f"Answering {len(plan.pending)} question(s)…")
        self.cancel_button.setEnabled(True)
        self.worker.run_batch(plan, self._generation_settings())
        self._update_buttons()

    def cancel(self) -> None:
        self.worker.stop_batch()
        self.cancel_button.setEnabled(False)
        self._show_message("Stopping after the current answer…")

    def _fill_queue(self, plan) -> None:
        self._rows.clear()
        self._answered_per_clip.clear()
        pending = plan.pending_by_clip()
        self.queue.setRowCount(len(plan.clips))
        for row, clip in enumerate(plan.clips):
            key = str(clip)
            self._rows[key] = row
            todo = pending.get(key, 0)
            total = len(plan.questions)
            if key in plan.failed_clips:
                status = f"skipped: could not be read before ({plan.failed_clips[key]})"
            elif todo == 0:
                status = "done"
            else:
                status = "queued"
            self._answered_per_clip[key] = total - todo if key not in plan.failed_clips else 0
            self._set_row(row, _shown_name(clip, plan.clips), status, f"{self._answered_per_clip[key]}/{total}")
            self.queue.item(row, CLIP).setToolTip(tooltip(key))
            self.queue.item(row, STATUS).setToolTip(tooltip(status))
        self.progress.setRange(0, max(1, len(plan.pending)))
        self.progress.setValue(0)

    def _set_row(self, row: int, *texts: str | None) -> None:
        for column, text in enumerate(texts):
            if text is not None:
                self.queue.setItem(row, column, QTableWidgetItem(text))

    def _on_event(self, event) -> None:
        from videochat.batch.run import ClipFailed, ClipFinished, ClipStarted, QuestionAnswered

        key = str(event.clip)
        row = self._rows.get(key)
        if row is None:
            return
        total = len(self._plan.questions) if self._plan else 0
        if isinstance(event, ClipStarted):
            self._set_row(row, None, "answering…", None)
            self.queue.scrollToItem(self.queue.item(row, CLIP))
        elif isinstance(event, QuestionAnswered):
            self._answered_per_clip[key] = self._answered_per_clip.get(key, 0) + 1
            self._set_row(row, None, None, f"{self._answered_per_clip[key]}/{total}")
            self.progress.setValue(event.done)
        elif isinstance(event, ClipFailed):
            self._set_row(row, None, f"could not be read: {event.message}", None)
            self.queue.item(row, STATUS).setToolTip(tooltip(event.message))
        elif isinstance(event, ClipFinished):
            self._set_row(row, None, "done", None)

    def _on_finished(self, summary) -> None:
        bad = f"; {len(summary.failed_clips)} clip(s) could not be read" if summary.failed_clips else ""
        if summary.stopped:
            text = f"Stopped after {summary.answered} answer(s){bad}. Start again to go on where it stopped."
        else:
            text = f"Done: {summary.answered} answer(s) written to {summary.out_path}{bad}."
        self._show_message(text)
        self.cancel_button.setEnabled(False)
        self._update_buttons()
        self.sig_finished.emit()

    def _on_failed(self, error) -> None:
        from videochat.errors import InvalidQuestion

        # A refused question comes before any answer: its message says the batch did not start.
        self._show_message(str(error) if isinstance(error, InvalidQuestion) else f"The batch stopped: {error}", error=True)
        self.cancel_button.setEnabled(False)
        self._update_buttons()
        self.sig_finished.emit()

    def _show_message(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_TEXT_STYLE if error else "")

    def _update_buttons(self) -> None:
        self.start_button.setEnabled(self.worker.loaded_ref is not None and not self.worker.batch_running and not self._planning)
