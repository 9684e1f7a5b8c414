"""The window's tool windows, each made on first use and kept while the app runs: the model manager
(Model ▸ Model manager), the batch window (Tools ▸ Batch) and the keyboard shortcuts (Help)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

if TYPE_CHECKING:
    from desktop.windows.main_window import MainWindow


class ToolWindows(QObject):
    def __init__(self, window: MainWindow):
        super().__init__(window)
        self._window = window
        self.model_manager = None  # desktop/windows/model_manager.py
        self.batch_window = None  # desktop/windows/batch_window.py
        self.shortcuts_dialog = None  # desktop/windows/shortcuts_dialog.py
        self._making_model_manager = False
        self._unshown_manager = None  # made, shown at the next turn
        self._closed = False

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
        if self._closed:
            self._making_model_manager = False
            return
        from desktop.windows.model_manager import ModelManager

        window = self._window
        made = ModelManager(window)
        made.sig_use_model.connect(window.load_model)
        made.sig_models_changed.connect(window.worker.find_models)
        # Shown at a turn of its own: building it and showing it (a new top-level window, its
        # table's first layout) cost the GUI thread ~17 ms together under xcb.
        self._unshown_manager = made
        QTimer.singleShot(0, self, self._show_made_model_manager)

    def _show_made_model_manager(self) -> None:
        made, self._unshown_manager = self._unshown_manager, None
        self._making_model_manager = False
        if made is None:
            return
        self.model_manager = made
        if not self._closed:
            _bring_forward(made)

    def show_shortcuts(self) -> None:
        if self.shortcuts_dialog is None:
            from desktop.windows.shortcuts_dialog import ShortcutsDialog

            self.shortcuts_dialog = ShortcutsDialog(self._window)
        _bring_forward(self.shortcuts_dialog)

    def show_batch_window(self) -> None:
        if self.batch_window is None:
            from desktop.windows.batch_window import BatchWindow

            self.batch_window = BatchWindow(self._window.worker, self._window.chat.settings, self._window)
        _bring_forward(self.batch_window)

    def shutdown(self) -> None:
        """No tool window is made from now on; a download stops between chunks, its bytes kept for next time."""
        self._closed = True
        if self._unshown_manager is not None:
            self.model_manager, self._unshown_manager = self._unshown_manager, None
        if self.model_manager is not None:
            self.model_manager.shutdown()


def _bring_forward(window) -> None:
    """Show a tool window (made once, kept while the app runs) on top, with the focus."""
    window.show()
    window.raise_()
    window.activateWindow()
