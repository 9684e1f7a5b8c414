"""The main window: composes the player pane, the chat pane and the model worker, and wires them.

It holds no video or model logic: user actions become calls on the panes and the worker,
and their results are drawn by the pane they concern.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QDeadlineTimer, Qt, QThreadPool, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QLineEdit, QMainWindow, QPlainTextEdit, QSplitter, QTextEdit

from desktop.threads.background import run_in_background
from desktop.chat.pane import NO_MODEL_TEXT, ChatPane
from desktop.errors import ErrorPresenter
from desktop.keys import commands_by_key_code, keys_of
from desktop.session.notes_panel import NotesPanel
from desktop.plain_text import plain_box
from desktop.player.pane import PlayerPane
from videochat.errors import VideoChatError
from videochat.settings import NOTES_HEIGHT_LEAST, NOTES_HEIGHT_MOST, Settings, default_path as default_settings_path
from videochat.video.files import VIDEO_EXTENSIONS

if TYPE_CHECKING:
    from desktop.threads.model_worker import AskRequest, ModelWorker
    from desktop.session.keeper import SessionKeeper

log = logging.getLogger(__name__)
# Work queued by `after_first_paint` runs this long after the first was queued should no paint come
# (a window that opens minimized, a platform that does not paint).
FIRST_PAINT_WAIT_MS = 1000
VIDEO_FILTER = f"Videos ({' '.join('*' + extension for extension in VIDEO_EXTENSIONS)});;All files (*)"


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings | None = None, settings_path: Path | None = None):
        super().__init__()
        self.settings = settings or Settings()
        self._settings_path = settings_path
        self.setWindowTitle("VideoChat")
        self.resize(1280, 780)
        self.setAcceptDrops(True)

        self.errors = ErrorPresenter(self)
        self.player = PlayerPane(self)
        self.chat = ChatPane(self)
        self.notes = NotesPanel(self)
        self._worker: ModelWorker | None = None  # made on first use: see `worker`
        self._sessions: SessionKeeper | None = None  # made on first use: see `sessions`
        self.model_manager = None  # made on first use: desktop/model_manager.py
        self._making_model_manager = False
        self.batch_window = None  # made on first use: desktop/batch_window.py
        self.shortcuts_dialog = None  # made on first use: desktop/shortcuts_dialog.py
        self._pending_model: str | None = None
        self._last_request: AskRequest | None = None  # for Regenerate
        self._restoring_marks = False  # the player's marks are being set from the conversation
        # The first question after a video opens starts a new conversation, as the restored chat says.
        self._starts_afresh = True

        left = QSplitter(Qt.Orientation.Vertical, self)
        left.addWidget(self.player)
        left.addWidget(self.notes)
        left.setStretchFactor(0, 1)
        left.setStretchFactor(1, 0)
        # The notes stay a strip under the video until dragged taller; then as tall as last dragged.
        left.setSizes([600, self.settings.notes_height])
        left.splitterMoved.connect(self._on_notes_resized)
        self._notes_splitter = left
        self._notes_height = self.settings.notes_height
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(self.chat)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.setCentralWidget(splitter)
        self.chat.set_generation_values(self.settings.max_new_tokens, self.settings.temperature)
        self.player.set_volume(self.settings.volume)
        self._closing = False
        self._shut_down = False
        self._after_paint_due = False  # painted, or waited FIRST_PAINT_WAIT_MS for a paint
        self._after_paint: list[Callable[[], None]] = []
        self._build_menus()
        # Made now, not by the first message (an export, a save failure): made then, it pushed the panes up.
        self.statusBar()
        self._connect()

    # -- first paint -------------------------------------------------------------------------

    def after_first_paint(self, callback: Callable[[], None]) -> None:
        """Run `callback`, at a turn of the event loop of its own, once the window has been painted:
        what starts threads or fills the window waits until the user has the window, instead of
        holding back its first paint (the model thread's imports take the GIL)."""
        if self._after_paint_due:
            QTimer.singleShot(0, self, callback)
            return
        self._after_paint.append(callback)
        if len(self._after_paint) == 1:
            QTimer.singleShot(FIRST_PAINT_WAIT_MS, self, self._release_after_paint)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().paintEvent(event)
        if not self._after_paint_due:
            self._release_after_paint()

    def _release_after_paint(self) -> None:
        # Each at a turn of its own, after this paint is on the screen; one that fails leaves the rest to run.
        self._after_paint_due = True
        callbacks, self._after_paint = self._after_paint, []
        for callback in callbacks:
            QTimer.singleShot(0, self, callback)

    # -- building -----------------------------------------------------------------------------

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        open_action = QAction("&Open video…", self, shortcut=QKeySequence.StandardKey.Open)
        open_action.triggered.connect(self._on_open_requested)
        file_menu.addAction(open_action)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self._fill_recent_menu()
        self.export_menu = file_menu.addMenu("&Export conversation")
        self.export_menu.setEnabled(False)  # its entries are made with the session keeper: _fill_export_menu
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        model_menu = self.menuBar().addMenu("&Model")
        manager_action = QAction("Model &manager…", self, shortcut=QKeySequence("Ctrl+M"))
        manager_action.triggered.connect(self.show_model_manager)
        model_menu.addAction(manager_action)
        folder_action = QAction("Load a model &folder…", self)
        folder_action.triggered.connect(self._on_model_folder_requested)
        model_menu.addAction(folder_action)
        unload_action = QAction("&Unload the model", self)
        unload_action.triggered.connect(lambda: self.worker.unload())
        model_menu.addAction(unload_action)

        tools_menu = self.menuBar().addMenu("&Tools")
        batch_action = QAction("&Batch: every question of every clip…", self, shortcut=QKeySequence("Ctrl+B"))
        batch_action.triggered.connect(self.show_batch_window)
        tools_menu.addAction(batch_action)

        help_menu = self.menuBar().addMenu("&Help")
        # The key is the table's (desktop/keys.py); a text box being typed in keeps its "?" (Qt
        # lets a focused text field override a window's shortcut for a printable key).
        shortcuts_action = QAction("&Keyboard shortcuts", self, shortcut=QKeySequence(keys_of("show-shortcuts")[0]))
        shortcuts_action.triggered.connect(self.show_shortcuts)
        help_menu.addAction(shortcuts_action)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.recent_files:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _checked=False, p=path: self.open_video(p))
        self.recent_menu.setEnabled(bool(self.settings.recent_files))

    def _fill_export_menu(self) -> None:
        from desktop.session.exporting import EXPORT_CHOICES

        for name, title in EXPORT_CHOICES:
            action = self.export_menu.addAction(title)
            action.triggered.connect(lambda _checked=False, n=name: self.export_conversation(n))

    def _connect(self) -> None:
        self.errors.install()
        self.player.sig_opened.connect(self._on_video_opened)
        self.player.sig_segment_changed.connect(self._on_segment_changed)
        self.chat.sig_ask_requested.connect(self._on_ask_requested)
        self.chat.sig_stop_requested.connect(lambda: self.worker.stop())
        self.chat.sig_regenerate_requested.connect(self._on_regenerate_requested)
        self.chat.sig_seek_requested.connect(lambda _seconds, index: self.player.seek_to_frame(index))
        self.chat.sig_answer_selected.connect(self.player.set_answer_ticks)
        self.chat.sig_model_chosen.connect(self.load_model)
        self.chat.sig_note_requested.connect(self._on_note_requested)
        self.notes.sig_seek_requested.connect(self.player.seek)
        self.notes.sig_note_edited.connect(self._on_note_edited)
        self.notes.sig_remove_requested.connect(self._on_notes_removed)
        self.notes.sig_add_requested.connect(self._on_note_added)
        self.notes.sig_answer_requested.connect(self._on_answer_of_note_requested)
        self.chat.sig_hd_toggled.connect(self._on_hd_toggled)

    @property
    def worker(self) -> ModelWorker:
        """The model thread's owner, made on first use: `start_models` makes it just after the window
        shows. Like the session keeper, it is not made before: the window's first appearance waits
        for every module it imports."""
        if self._worker is None:
            from desktop.threads.model_worker import ModelWorker

            self._worker = ModelWorker(self)
            self._connect_worker(self._worker)
        return self._worker

    @property
    def sessions(self) -> SessionKeeper:
        """The open videos' saved conversations and notes, made when the first video opens."""
        if self._sessions is None:
            from desktop.session.keeper import SessionKeeper

            self._sessions = SessionKeeper(self)
            self._sessions.sig_opened.connect(self._on_session_opened)
            self._sessions.sig_save_failed.connect(self.chat.show_error)
            self._fill_export_menu()  # enabled when a conversation opens
        return self._sessions

    def _connect_worker(self, worker: ModelWorker) -> None:
        worker.sig_load_progress.connect(lambda what, fraction: self.chat.set_model_status(f"{what}… {fraction:.0%}"))
        worker.sig_loaded.connect(self._on_model_loaded)
        worker.sig_load_failed.connect(self._on_model_failed)
        worker.sig_text.connect(self.chat.append_answer_text)
        worker.sig_frames_progress.connect(self.chat.set_frames_progress)
        worker.sig_answer_finished.connect(self._on_answer_finished)
        worker.sig_answer_failed.connect(self._on_answer_failed)

    # -- video --------------------------------------------------------------------------------

    def open_video(self, path: str | Path) -> None:
        self.player.open(path)

    def _on_open_requested(self) -> None:
        start = str(Path(self.settings.recent_files[0]).parent) if self.settings.recent_files else ""
        from PySide6.QtWidgets import QFileDialog  # on first use: its enums cost the start-up a few ms

        path, _ = QFileDialog.getOpenFileName(self, "Open a video", start, VIDEO_FILTER)
        if path:
            self.open_video(path)

    def _on_video_opened(self, info) -> None:
        self.settings.remember_file(info.path)
        self._fill_recent_menu()
        self._save_settings()
        self.setWindowTitle(f"{Path(info.path).name} — VideoChat")
        self.chat.clear()
        self.chat.set_video(info.path)
        self._starts_afresh = True
        self.notes.set_notes([])
        self.notes.set_enabled_for_video(True)
        self.export_menu.setEnabled(False)
        self.sessions.open(info)
        self.player.setFocus()  # the player's keys work at once

    # -- sessions and notes ---------------------------------------------------------------

    def _on_session_opened(self, session, message) -> None:
        answering = self._worker is not None and self._worker.is_busy and self._last_request is not None and self._is_current_video(self._last_request.video_path)
        self.chat.show_session(session, answering=answering)
        if message:
            self.chat.show_error(message)
        self._show_notes(session)
        self._restore_marks(session)
        self.export_menu.setEnabled(True)

    def _restore_marks(self, session) -> None:
        if self.player.info is None or not self._is_current_video(Path(session.video.path)):
            return
        in_point, out_point = session.in_out()
        self._restoring_marks = True
        try:
            self.player.restore_marks(in_point and in_point.frame, out_point and out_point.frame)
        finally:
            self._restoring_marks = False

    def _on_segment_changed(self, _segment) -> None:
        """Keep the in/out frames with the video's conversation, as they are marked."""
        if self._restoring_marks or self.player.info is None or self.player.timeline is None:
            return
        # Only into this video's conversation once it is read: the marks cleared as another video
        # opens must not reach it before its own saved marks are restored.
        session = self._sessions.current() if self._sessions is not None else None
        if session is None or not self._is_current_video(Path(session.video.path)):
            return
        from videochat.sessions.session import Mark

        timeline = self.player.timeline
        in_point, out_point = (None if frame is None else Mark(frame, timeline.time_of(frame)) for frame in self.player.marks())
        self.sessions.set_in_out(self.player.info.path, in_point, out_point)

    def _show_notes(self, session) -> None:
        self.notes.set_notes(session.sorted_notes())
        self.player.set_note_spans([(note.start, note.end) for note in session.notes])

    def _change_notes(self, change) -> None:
        if self.player.info is None or self.sessions.current() is None:
            return
        self.sessions.change(self.player.info.path, change)
        self._show_notes(self.sessions.current())

    def _on_note_requested(self, turn_index: int) -> None:
        timeline = self.player.timeline
        self._change_notes(lambda session: session.note_from_answer(turn_index, timeline))

    def _on_answer_of_note_requested(self, answer_id: str) -> None:
        session = self.sessions.current()
        turn = next((i for i, answer in enumerate(session.turns) if answer.id == answer_id), None) if session else None
        if turn is not None:
            self.chat.show_answer(turn)

    def _on_note_added(self) -> None:
        # Over the in/out frames, else over the frame on screen: a span ends where its last frame does.
        segment = self.player.segment()
        if segment is None and self.player.timeline is not None:
            segment = self.player.timeline.span(*(2 * [self.player.current_frame_index()]))
        if segment is None:
            return
        made = []
        self._change_notes(lambda session: made.append(session.add_note(segment[0], segment[1], "")))
        if made:
            self.notes.edit_text(made[0].id)

    def _on_note_edited(self, note_id: str, start: float, end: float, text: str) -> None:
        timeline = self.player.timeline
        if timeline is not None:
            start, end = timeline.clamp_time(start), timeline.clamp_time(end)
        else:
            start, end = max(0.0, start), max(0.0, end)
        self._change_notes(lambda session: session.edit_note(note_id, start=start, end=end, text=text))

    def _on_notes_removed(self, note_ids: list) -> None:
        def remove(session) -> None:
            for note_id in note_ids:
                session.remove_note(note_id)

        self._change_notes(remove)

    def export_conversation(self, format_name: str) -> None:
        from desktop.session.exporting import export_with_dialog

        session = self.sessions.current()
        if session is not None:
            export_with_dialog(self, session, format_name)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        # Player keys work window-wide; a focused text box takes its own keys before this runs.
        # Esc, which text boxes leave unused, takes the focus out of one, back to the player (whose
        # own Esc clears the segment): else Space, I and O would go on typing into the box.
        if event.key() == Qt.Key.Key_Escape and _is_text_field(self.focusWidget()):
            self.player.setFocus()
            event.accept()
            return
        if self.player.handle_key(event) or self._handle_window_key(event):
            return
        super().keyPressEvent(event)

    def _handle_window_key(self, event) -> bool:
        """The key table's window commands (desktop/keys.py) that no widget took on the way here."""
        if event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier):
            return False
        handlers = {"show-shortcuts": self.show_shortcuts}
        command = commands_by_key_code(handlers).get(event.key())
        if command is None:
            return False
        handlers[command]()
        return True

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        local = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if local:
            self.open_video(local[0])
            event.acceptProposedAction()

    # -- models -------------------------------------------------------------------------------

    def start_models(self, requested: str | None = None) -> None:
        """After the first paint: list the models on disk (off the GUI thread) and load the chosen one."""
        # What a first open imports on this thread, imported before a load can begin: while a model's
        # libraries load, a first import waits for them (desktop/heavy_imports.py).
        import desktop.session.exporting  # noqa: F401
        import desktop.session.keeper  # noqa: F401

        self._pending_model = requested or self.settings.last_model
        self.worker.start()
        self.worker.sig_models_found.connect(self._on_models_found)
        self.worker.find_models()

    def _on_models_found(self, models: list) -> None:
        """`models`: (label, repo id) of each catalog model on disk."""
        self.chat.set_models(models)
        loaded = self.worker.loaded_ref
        if loaded is not None:  # the refilled list shows the loaded model again
            self.chat.set_current_model(loaded.source, loaded.display_name)
        if self._pending_model:
            self.load_model(self._pending_model)
        elif self.worker.loaded_ref is not None or self.worker.is_busy:
            return  # a new download only adds to the list
        elif models:
            self.chat.set_model_status(f"{len(models)} model(s) on disk: choose one to load.")
        else:
            self.chat.set_model_status(NO_MODEL_TEXT)
            run_in_background(_recommendation_job, receiver=self._on_recommendation)

    def _on_recommendation(self, text: str | None) -> None:
        if text and self.worker.loaded_ref is None and not self.chat.has_models():
            self.chat.set_model_status(f"{NO_MODEL_TEXT} {text}")

    def show_model_manager(self) -> None:
        """Bring the model manager forward; the first time, it shows a moment later (see below)."""
        if self.model_manager is not None:
            self.model_manager.refresh()
            _bring_forward(self.model_manager)
        elif not self._making_model_manager:
            # Its module's import and the window's building take a turn of the event loop each
            # (about 15 ms apiece here): the GUI thread never stands still for both at once.
            import desktop.windows.model_manager  # noqa: F401 (should it fail, it is reported and the next click tries again)

            self._making_model_manager = True
            QTimer.singleShot(0, self, self._make_model_manager)

    def _make_model_manager(self) -> None:
        self._making_model_manager = False
        if self._closing:
            return
        from desktop.windows.model_manager import ModelManager

        self.model_manager = ModelManager(self)
        self.model_manager.sig_use_model.connect(self.load_model)
        self.model_manager.sig_models_changed.connect(self.worker.find_models)
        _bring_forward(self.model_manager)

    def show_shortcuts(self) -> None:
        if self.shortcuts_dialog is None:
            from desktop.windows.shortcuts_dialog import ShortcutsDialog

            self.shortcuts_dialog = ShortcutsDialog(self)
        _bring_forward(self.shortcuts_dialog)

    def show_batch_window(self) -> None:
        if self.batch_window is None:
            from desktop.windows.batch_window import BatchWindow

            self.batch_window = BatchWindow(self.worker, self.chat.settings, self)
        _bring_forward(self.batch_window)

    def load_model(self, model: str, trust_remote_code: bool = False, approved_code: str | None = None) -> None:
        """Load a catalog name, repo id or folder (a folder: a full path, or one starting with ./ ../ ~)."""
        self._pending_model = None
        self.chat.set_model_status(f"Loading {Path(model).name or model}…")
        self.worker.load(model, trust_remote_code=trust_remote_code, approved_code=approved_code)

    def _on_model_folder_requested(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        folder = QFileDialog.getExistingDirectory(self, "Choose a model folder")
        if folder:
            self.load_model(folder)

    def _on_model_loaded(self, ref) -> None:
        from videochat.families import get_family

        self.chat.set_frame_rule(get_family(ref.family), ref.default_frames)
        self.chat.set_current_model(ref.source, ref.display_name)
        self.chat.set_hd_available(hd_counterpart(ref) is not None, checked=ref.family == "internvideo2-hd")
        self.chat.set_model_status(f"{ref.display_name} ready ({ref.family})")
        self.settings.last_model = ref.source  # a folder's resolved path, or the repo id
        self._save_settings()

    def _on_hd_toggled(self, hd: bool) -> None:
        """InternVideo2-Chat's HD variant is its own checkpoint: the switch loads the other one."""
        ref = self.worker.loaded_ref
        other = hd_counterpart(ref) if ref is not None else None
        if other is not None and (ref.family == "internvideo2-hd") != hd:
            self.load_model(other)

    def _on_model_failed(self, error) -> None:
        from videochat.errors import RemoteCodeRefused

        if isinstance(error, RemoteCodeRefused) and error.code is not None:
            if self._ask_remote_code_consent(error):
                # The yes is for the code the dialog showed: code changed since is asked about again.
                self.load_model(self.worker.last_requested_model, approved_code=error.code.digest)
            else:
                self.chat.set_model_status("No model loaded: its code was not run. Choose another model, or load it again to be asked again.")
            return
        self.chat.set_model_status(self._message(error))

    def _ask_remote_code_consent(self, error) -> bool:
        """Ask, in a modal dialog, whether the model's own code may run; True for yes."""
        from PySide6.QtWidgets import QMessageBox

        box = remote_code_box(error.code, self.worker.last_requested_model or "", self)
        box.exec()
        return box.clickedButton() is box.run_button

    # -- questions ----------------------------------------------------------------------------

    def _on_ask_requested(self, question: str) -> None:
        if self.player.info is None:
            self.chat.show_error("Open a video first (File ▸ Open, or drop a file on the window).")
            return
        if self.worker.loaded_ref is None:
            self.chat.show_error(NO_MODEL_TEXT)
            return
        if self.worker.batch_running:
            self.chat.show_error("The model is answering a batch (Tools ▸ Batch): ask when it has finished, or cancel it there.")
            return
        from desktop.threads.model_worker import AskRequest

        self._send(
            AskRequest(
                video_path=Path(self.player.info.path),
                question=question,
                frames=self.chat.frames(),
                segment=self.player.segment(),
                settings=self.chat.settings(),
            )
        )

    def _on_regenerate_requested(self) -> None:
        """Ask the last answer's question again, as it was asked (frames, segment, settings), about this video."""
        if self.worker.is_busy or self.player.info is None:
            return
        bubbles = self.chat.answer_bubbles()
        answer = bubbles[-1].answer if bubbles else None
        video = Path(self.player.info.path)
        if answer is not None:
            from desktop.threads.model_worker import AskRequest
            from videochat.generation import GenerationSettings

            known = GenerationSettings.FIELDS
            settings = GenerationSettings(**{key: value for key, value in answer.settings.items() if key in known})
            self._send(AskRequest(video, answer.question, answer.frames, answer.segment, settings))
        elif self._last_request is not None and self._is_current_video(self._last_request.video_path):
            self._send(self._last_request)  # the last answer failed: its request is the one to repeat

    def _send(self, request: AskRequest) -> None:
        refusal = self._refusal(request)
        if refusal is not None:
            self.chat.show_error(refusal)  # the question stays in the box, to ask again once changed
            return
        if self._starts_afresh:
            import dataclasses  # loaded with the model worker's module by now

            request = dataclasses.replace(request, new_conversation=True)
            self._starts_afresh = False
        self._last_request = request
        self.sessions.record_question(request.video_path, request.question)
        self.chat.begin_answer(request.question)
        self.chat.set_busy(True)
        self.worker.ask(request)
        self.player.setFocus()  # the question is sent: the keys are the player's again

    def _refusal(self, request: AskRequest) -> str | None:
        """Why the loaded model or the open clip cannot take this request, in the core's words; None
        if they can. Said here, before the model thread gets it: no model load, no decode.

        The frame control only takes the family's counts, but a repeated question (Regenerate) comes
        with the count and segment it was first asked with.
        """
        from videochat.errors import InvalidFrameCount, InvalidSegment
        from videochat.families import get_family  # loaded with the model by now

        ref, timeline = self.worker.loaded_ref, self.player.timeline
        try:
            if ref is not None and request.frames is not None:
                get_family(ref.family).check_frame_count(request.frames)
            if timeline is not None and request.segment is not None and self._is_current_video(request.video_path):
                timeline.frames_in(*request.segment)
        except (InvalidFrameCount, InvalidSegment) as error:
            return str(error)
        return None

    def _on_answer_finished(self, answer) -> None:
        video = self._last_request.video_path
        turn_index = self.sessions.record_answer(video, answer)
        self.chat.set_busy(False)
        if not self._is_current_video(video):  # another video was opened meanwhile
            self.statusBar().showMessage(f"The answer about {video.name} was saved with that video's conversation.", 8000)
            return
        self.chat.finish_answer(answer, turn_index=turn_index)
        self.player.set_answer_ticks(list(answer.times))

    def _on_answer_failed(self, error) -> None:
        video = self._last_request.video_path
        self.sessions.forget_question(video)
        self.chat.set_busy(False)
        if self._is_current_video(video):
            self.chat.fail_answer(self._message(error))
        else:
            self.statusBar().showMessage(f"The question about {video.name} got no answer: {self._message(error)}", 8000)

    def _is_current_video(self, path: Path) -> bool:
        return self.player.info is not None and Path(self.player.info.path).resolve() == Path(path).resolve()

    def _message(self, error: BaseException) -> str:
        if isinstance(error, VideoChatError):
            return str(error)
        self.errors.report(error)
        return f"Something unexpected went wrong ({type(error).__name__}); the details are in the error dialog."

    # -- closing ------------------------------------------------------------------------------

    def _save_settings(self) -> None:
        self._remember_controls(self.settings)
        try:
            self.settings.save(self._settings_path)
        except OSError as error:
            self.statusBar().showMessage(f"Settings could not be saved: {error}", 5000)

    def _remember_controls(self, settings: Settings) -> None:
        """The generation controls, the volume and the notes panel's height as the user left them, for the next start."""
        settings.max_new_tokens, settings.temperature = self.chat.generation_values()
        settings.volume = self.player.volume()
        settings.notes_height = self._notes_height

    def _on_notes_resized(self) -> None:
        # Only a height the settings take back: a panel dragged shut keeps the height it had before.
        height = self._notes_splitter.sizes()[1]
        if NOTES_HEIGHT_LEAST <= height <= NOTES_HEIGHT_MOST:
            self._notes_height = height

    def _save_controls_if_changed(self) -> None:
        """At quit: the controls changed since the last save go into the file as it is now, so that
        what another window saved meanwhile (recent files, last model) is kept."""
        before = self.settings.copy()
        self._remember_controls(self.settings)
        if self.settings == before:
            return
        path = self._settings_path or default_settings_path()
        on_disk = Settings.load(path) if path.exists() else self.settings.copy()
        self._remember_controls(on_disk)
        try:
            on_disk.save(path)
        except OSError as error:
            log.warning("settings could not be saved at quit: %s", error)

    def shutdown(self) -> None:
        """Save changed settings, stop the model thread and the other workers (within about 2 s); safe to call twice."""
        if self._shut_down:
            return
        self._shut_down = True
        self._closing = True
        self._save_controls_if_changed()
        if self._worker is not None:
            self._worker.shutdown(timeout_s=2.0)
        if self._sessions is not None and not self._sessions.flush(timeout_s=2.0):
            log.warning("quitting with a session file still being written")
        if self.model_manager is not None:
            self.model_manager.worker.shutdown()  # a download stops between chunks; its bytes stay for next time
        self.chat.shutdown()
        # Probes run on the global pool with their own time limit; quitting does not wait for a slow one.
        QThreadPool.globalInstance().waitForDone(QDeadlineTimer(500))
        self.errors.uninstall()

    def closeEvent(self, event) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(event)
        QTimer.singleShot(0, self.deleteLater)


def _is_text_field(widget) -> bool:
    return isinstance(widget, (QLineEdit, QPlainTextEdit, QTextEdit, QAbstractSpinBox))


def _bring_forward(window) -> None:
    """Show a tool window (made once, kept while the app runs) on top, with the focus."""
    window.show()
    window.raise_()
    window.activateWindow()


def _recommendation_job() -> str | None:
    """On a pool thread: which model to suggest on this machine (nvidia-smi may take a moment)."""
    try:
        from videochat.sizes import format_bytes
        from videochat.models.fit import machine_budget, recommend

        budget = machine_budget()
        entry = recommend(budget)
        return f"Suggested for this machine ({budget.description}): {entry.name}, {format_bytes(entry.download_bytes)}."
    except Exception:  # a suggestion only: without it the message above still says what to do
        return None


def hd_counterpart(ref) -> str | None:
    """The repo id of the catalog model's HD (or plain) twin, if it has one; a folder has none."""
    return (ref.entry.hd_twin or None) if ref.entry is not None else None


def remote_code_box(code, model: str, parent=None):
    """The dialog that asks whether a model's own code may run; its `run_button` is the yes.
    Plain text: a folder or file named like markup would otherwise be drawn as markup."""
    from PySide6.QtWidgets import QMessageBox

    title, text, details = remote_code_question(code, model)
    box = plain_box(QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Cancel, parent))
    box.setInformativeText(details)
    box.run_button = box.addButton("Run its code", QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    return box


def remote_code_question(code, model: str) -> tuple[str, str, str]:
    """(title, text, details) of the dialog that asks whether a model's own code may run (`code`: a `ModelCode`)."""
    files = "\n".join(f"    {name}" for name in code.files)
    name = Path(model).name or model
    text = (
        f"Loading {name} runs Python code that came with the model, not code of this app:\n\n{files}\n\n"
        f"from the folder {code.folder}"
    )
    details = (
        "This code can do anything you can do on this computer: read, change or delete your files, and use the network. "
        "Nothing vouches that it is what the model's authors published. Run it only if you trust where this model came from.\n\n"
        "A yes is remembered for these files as they are now; if they change, you are asked again."
    )
    return "Run this model's code?", text, details
