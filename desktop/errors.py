"""One place where unexpected errors are shown: a dialog with the details to copy.

Expected failures (the core's typed errors) are shown inline by the pane they concern; this is
for everything else, including exceptions in slots and in worker threads, which would otherwise
be printed to a terminal nobody sees or lost. What either shows passes `error_text`/`safe_text`
first: an error that echoes a secret (a hub echoing the Authorization header) shows `***`.
"""

from __future__ import annotations

import sys
import threading
import traceback

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QWidget

from desktop.plain_text import plain_box


def error_text(error: BaseException | str) -> str:
    """An error's message as a pane may show it inline: secrets blanked, control characters escaped."""
    from videochat.safe_text import shown  # at the first error: its patterns cost the window's first paint ~0.6 ms

    return shown(str(error))


class ErrorPresenter(QObject):
    sig_unexpected = Signal(str, str)  # (summary, details): emitted from any thread, shown on the GUI thread

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._parent = parent
        self.shown: list[str] = []  # summaries shown, newest last
        self.sig_unexpected.connect(self._on_unexpected, Qt.ConnectionType.QueuedConnection)
        self._previous_hooks = None

    def install(self) -> None:
        """Route uncaught exceptions of the GUI thread and of worker threads here."""
        self._previous_hooks = (sys.excepthook, threading.excepthook)
        sys.excepthook = self._excepthook
        threading.excepthook = lambda args: self._excepthook(args.exc_type, args.exc_value, args.exc_traceback)

    def uninstall(self) -> None:
        if self._previous_hooks is not None:
            sys.excepthook, threading.excepthook = self._previous_hooks
            self._previous_hooks = None

    def report(self, error: BaseException) -> None:
        self._excepthook(type(error), error, error.__traceback__)

    def message(self, error: BaseException) -> str:
        """What a pane shows inline for `error`: an expected one's own message; an unexpected one is
        reported in the dialog, and the pane points there."""
        from videochat.errors import VideoChatError  # light: the window imports it already

        if isinstance(error, VideoChatError):
            return str(error)
        self.report(error)
        return f"Something unexpected went wrong ({type(error).__name__}); the details are in the error dialog."

    def _excepthook(self, kind, value, trace) -> None:
        from videochat.safe_text import shown

        details = shown("".join(traceback.format_exception(kind, value, trace)), keep="\n\t")
        sys.stderr.write(details)
        self.sig_unexpected.emit(error_text(f"{kind.__name__}: {value}"), details)

    def _on_unexpected(self, summary: str, details: str) -> None:
        self.shown.append(summary)
        self.show_dialog(summary, details)

    def show_dialog(self, summary: str, details: str) -> None:
        """The modal dialog with "Copy details"; it returns when the user closes it."""
        from PySide6.QtWidgets import QMessageBox  # here, not at start-up: its enums cost the window's first appearance

        box = plain_box(QMessageBox(QMessageBox.Icon.Critical, "Something went wrong", summary, parent=self._parent))
        box.setInformativeText("The app keeps running. If it happens again, please report it with the details below.")
        box.setDetailedText(details)
        copy = box.addButton("Copy details", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Close)
        box.exec()
        if box.clickedButton() is copy:
            QApplication.clipboard().setText(details)
