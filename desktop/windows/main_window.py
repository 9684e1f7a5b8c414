"""The main window: builds the player, chat and notes panes and the menus, and connects their
requests to the controllers that act on them.

It holds no video, model or session logic: asking is `desktop/chat/asking.py`, the model choice
`model_loading.py`, the notes and the in/out marks `desktop/session/notes_controller.py` and
`marks_controller.py`, the settings it keeps `window_settings.py`, the tool windows
`tool_windows.py`. What it does itself: the first paint, the menus, open/drop/recent files, the
window-wide keys, the title, and quitting.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QDeadlineTimer, Qt, QThreadPool, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QSplitter

from desktop.chat.asking import Asking
from desktop.chat.pane import ChatPane
from desktop.errors import ErrorPresenter
from desktop.keys import commands_by_key_code, keys_of
from desktop.plain_text import menu_entry, one_line_name
from desktop.player.pane import PlayerPane
from desktop.session.marks_controller import MarksController
from desktop.session.notes_controller import NotesController
from desktop.session.notes_panel import NotesPanel
from desktop.windows.model_loading import ModelLoading
from desktop.windows.tool_windows import ToolWindows
from desktop.windows.window_settings import WindowSettings
from videochat.settings import Settings
from videochat.video.files import VIDEO_EXTENSIONS

if TYPE_CHECKING:
    from desktop.session.keeper import SessionKeeper
    from desktop.threads.model_worker import ModelWorker

log = logging.getLogger(__name__)
# Work queued by `after_first_paint` runs this long after the first was queued should no paint come
# (a window that opens minimized, a platform that does not paint).
FIRST_PAINT_WAIT_MS = 1000
VIDEO_FILTER = f"Videos ({' '.join('*' + extension for extension in VIDEO_EXTENSIONS)});;All files (*)"


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings | None = None, settings_path: Path | None = None):
        super().__init__()
        self.settings = settings or Settings()
        self.setWindowTitle("VideoChat")
        self.resize(1280, 780)
        self.setAcceptDrops(True)

        self.errors = ErrorPresenter(self)
        self.player = PlayerPane(self)
        self.chat = ChatPane(self)
        self.notes = NotesPanel(self)
        self._worker: ModelWorker | None = None  # made on first use: see `worker`
        self._sessions: SessionKeeper | None = None  # made on first use: see `sessions`

        left = QSplitter(Qt.Orientation.Vertical, self)
        left.addWidget(self.player)
        left.addWidget(self.notes)
        left.setStretchFactor(0, 1)
        left.setStretchFactor(1, 0)
        # The notes stay a strip under the video until dragged taller; then as tall as last dragged.
        left.setSizes([600, self.settings.notes_height])
        self._notes_splitter = left
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(self.chat)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.setCentralWidget(splitter)
        self.chat.set_generation_values(self.settings.max_new_tokens, self.settings.temperature)
        self.player.set_volume(self.settings.volume)

        self.window_settings = WindowSettings(self, self.settings, settings_path, left)
        self.asking = Asking(self)
        self.model_loading = ModelLoading(self)
        self.notes_control = NotesController(self)
        self.marks = MarksController(self)
        self.tools = ToolWindows(self)
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
        self.recent_menu.setEnabled(bool(self.settings.recent_files))
        self.after_first_paint(self._fill_recent_menu)  # its entries are outside text, escaped: not the first paint's work
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
        folder_action.triggered.connect(self.model_loading._on_model_folder_requested)
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
            action = self.recent_menu.addAction(menu_entry(path))
            action.triggered.connect(lambda _checked=False, p=path: self.open_video(p))
        self.recent_menu.setEnabled(bool(self.settings.recent_files))

    def _fill_export_menu(self) -> None:
        from desktop.session.exporting import EXPORT_CHOICES

        for name, title in EXPORT_CHOICES:
            action = self.export_menu.addAction(title)
            action.triggered.connect(lambda _checked=False, n=name: self.export_conversation(n))

    def _connect(self) -> None:
        self.errors.install()
        # Before the window's own slot: the controllers forget the last video before its session is asked for.
        self.player.sig_opened.connect(self.asking._on_video_opened)
        self.player.sig_opened.connect(self.notes_control._on_video_opened)
        self.player.sig_opened.connect(self._on_video_opened)
        self.player.sig_segment_changed.connect(self.marks._on_segment_changed)
        self.chat.sig_ask_requested.connect(self.asking._on_ask_requested)
        self.chat.sig_stop_requested.connect(lambda: self.worker.stop())
        self.chat.sig_regenerate_requested.connect(self.asking._on_regenerate_requested)
        self.chat.sig_alternative_chosen.connect(self.asking._on_alternative_chosen)
        self.chat.sig_seek_requested.connect(lambda _seconds, index: self.player.seek_to_frame(index))
        self.chat.sig_answer_selected.connect(self.player.set_answer_ticks)
        self.chat.sig_model_chosen.connect(self.load_model)
        self.chat.sig_note_requested.connect(self.notes_control._on_note_requested)
        self.chat.sig_hd_toggled.connect(self.model_loading._on_hd_toggled)
        self.notes.sig_seek_requested.connect(self.player.seek)
        self.notes.sig_note_edited.connect(self.notes_control._on_note_edited)
        self.notes.sig_remove_requested.connect(self.notes_control._on_notes_removed)
        self.notes.sig_add_requested.connect(self.notes_control._on_note_added)
        self.notes.sig_answer_requested.connect(self.notes_control._on_answer_of_note_requested)

    @property
    def worker(self) -> ModelWorker:
        """The model thread's owner, made on first use: `start_models` makes it just after the window
        shows. Like the session keeper, it is not made before: the window's first appearance waits
        for every module it imports."""
        if self._worker is None:
            from desktop.threads.model_worker import ModelWorker

            self._worker = ModelWorker(self)
            self.model_loading.connect_worker(self._worker)
            self._worker.sig_text.connect(self.chat.append_answer_text)
            self._worker.sig_frames_progress.connect(self.chat.set_frames_progress)
            self._worker.sig_answer_finished.connect(self.asking._on_answer_finished)
            self._worker.sig_answer_failed.connect(self.asking._on_answer_failed)
        return self._worker

    @property
    def existing_worker(self) -> ModelWorker | None:
        """The model worker if it has been made (asking must not make it)."""
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

    @property
    def existing_sessions(self) -> SessionKeeper | None:
        """The session keeper if a video has opened (a mark set before must not make it)."""
        return self._sessions

    def is_current_video(self, path) -> bool:
        """Whether `path` is the file open in the player."""
        return self.player.info is not None and Path(self.player.info.path).resolve() == Path(path).resolve()

    # -- video and its session ------------------------------------------------------------------

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
        self.window_settings.save()
        self.setWindowTitle(f"{one_line_name(info.path)} — VideoChat")
        self.chat.clear()
        self.chat.set_video(info.path)
        self.export_menu.setEnabled(False)
        self.sessions.open(info)
        self.player.setFocus()  # the player's keys work at once

    def _on_session_opened(self, session, message) -> None:
        self.chat.show_session(session, answering=self.asking.is_answering_open_video())
        if message:
            self.chat.show_error(message)
        self.notes_control.show(session)
        self.marks.restore(session)
        self.export_menu.setEnabled(True)

    def export_conversation(self, format_name: str) -> None:
        from desktop.session.exporting import export_with_dialog

        session = self.sessions.current()
        if session is not None:
            export_with_dialog(self, session, format_name)

    # -- keys and drops -------------------------------------------------------------------------

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

    # -- models and tool windows (their controllers do the work) --------------------------------

    def start_models(self, requested: str | None = None) -> None:
        """After the first paint: list the models on disk and the added servers' (off the GUI thread) and load the chosen one."""
        from desktop.windows.engine_servers import EngineServers

        self.servers = EngineServers(self)
        self.servers.start()
        self.model_loading.start(requested)

    def load_model(self, model: str, trust_remote_code: bool = False, approved_code: str | None = None) -> None:
        """Load a catalog name, repo id or folder (a folder: a full path, or one starting with ./ ../ ~)."""
        self.model_loading.load(model, trust_remote_code=trust_remote_code, approved_code=approved_code)

    def show_model_manager(self) -> None:
        self.tools.show_model_manager()

    def show_batch_window(self) -> None:
        self.tools.show_batch_window()

    def show_shortcuts(self) -> None:
        self.tools.show_shortcuts()

    @property
    def model_manager(self):
        return self.tools.model_manager

    @property
    def batch_window(self):
        return self.tools.batch_window

    @property
    def shortcuts_dialog(self):
        return self.tools.shortcuts_dialog

    # -- closing ------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Save changed settings, stop the model thread and the other workers (within about 2 s); safe to call twice."""
        if self._shut_down:
            return
        self._shut_down = True
        self.window_settings.save_controls_if_changed()
        if self._worker is not None:
            self._worker.shutdown(timeout_s=2.0)
        if self._sessions is not None and not self._sessions.flush(timeout_s=2.0):
            log.warning("quitting with a session file still being written")
        self.tools.shutdown()
        self.chat.shutdown()
        # Probes run on the global pool with their own time limit; quitting does not wait for a slow one.
        QThreadPool.globalInstance().waitForDone(QDeadlineTimer(500))
        self.errors.uninstall()

    def closeEvent(self, event) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(event)
        QTimer.singleShot(0, self.deleteLater)


def _is_text_field(widget) -> bool:
    # Imported at the first Esc: QTextEdit's type alone costs the start-up ~0.3 ms, and no text edit shows before.
    from PySide6.QtWidgets import QAbstractSpinBox, QLineEdit, QPlainTextEdit, QTextEdit

    return isinstance(widget, (QLineEdit, QPlainTextEdit, QTextEdit, QAbstractSpinBox))
