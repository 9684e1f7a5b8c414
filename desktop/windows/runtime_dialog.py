"""The dialog that installs a runtime (the current one, for the models that need transformers 5.x): progress and Cancel.

A view of `RuntimeInstallWorker`; nothing here waits. Closing it while the install runs cancels it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from desktop.style import ERROR_TEXT_STYLE
from desktop.threads.runtime_worker import RuntimeInstallWorker

EXPLAINED = {
    "current": (
        "Qwen2.5-VL, Qwen3-VL and InternVL3/3.5 run on transformers 5.x, in a Python environment of their own "
        "(the current runtime) in the app's data folder. Installing it downloads about 5 GB (torch with its CUDA "
        "libraries, transformers) with pip and takes a few minutes. Cancel keeps nothing."
    ),
}


class RuntimeInstallDialog(QDialog):
    sig_installed = Signal(str)

    def __init__(self, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.name = name
        self.setWindowTitle(f"Install the {name} runtime")
        self.worker = RuntimeInstallWorker(self)
        from PySide6.QtCore import QCoreApplication

        QCoreApplication.instance().aboutToQuit.connect(lambda: self.worker.shutdown(2.0))  # pip ends; a leftover folder goes next time
        about = QLabel(EXPLAINED.get(name, ""))
        about.setWordWrap(True)
        self.status_label = QLabel("")
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)  # pip's lines and errors: never markup
        self.status_label.setWordWrap(True)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.install_button = QPushButton("Install")
        self.cancel_button = QPushButton("Cancel")
        self.close_button = QPushButton("Close")
        row = QHBoxLayout()
        row.addStretch(1)
        for button in (self.install_button, self.cancel_button, self.close_button):
            row.addWidget(button)
        layout = QVBoxLayout(self)
        for widget in (about, self.progress_bar, self.status_label):
            layout.addWidget(widget)
        layout.addLayout(row)
        self.install_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self._cancel)
        self.close_button.clicked.connect(self.close)
        self.worker.sig_progress.connect(self._on_progress)
        self.worker.sig_installed.connect(self._on_installed)
        self.worker.sig_cancelled.connect(lambda: self._ended("Cancelled: nothing was kept."))
        self.worker.sig_failed.connect(lambda error: self._ended(str(error), error=True))
        self._show_running(False)

    def start(self) -> None:
        self.status_label.setStyleSheet("")
        self.status_label.setText("Starting…")
        self.progress_bar.setValue(0)
        self.worker.start(self.name)
        self._show_running(True)

    def _cancel(self) -> None:
        self.worker.cancel()
        self.cancel_button.setEnabled(False)
        self.status_label.setText("Cancelling…")

    def _show_running(self, running: bool) -> None:
        self.install_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.progress_bar.setVisible(running)

    def _on_progress(self, what: str, fraction: float) -> None:
        from videochat.safe_text import shown

        self.progress_bar.setValue(int(1000 * max(0.0, min(1.0, fraction))))
        self.status_label.setText(shown(what)[:300])

    def _on_installed(self, name: str) -> None:
        self._ended(f"The {name} runtime is installed: its models load now.")
        self.install_button.setEnabled(False)
        self.sig_installed.emit(name)

    def _ended(self, text: str, error: bool = False) -> None:
        self._show_running(False)
        self.status_label.setStyleSheet(ERROR_TEXT_STYLE if error else "")
        self.status_label.setText(text)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if self.worker.running:
            self._cancel()
        super().closeEvent(event)


def missing_runtime(entry) -> str | None:
    """The runtime a catalog entry's model needs where it is not installed; None for the seed's or an installed one.

    A stat and a small file read (`videochat.runtimes.problem`): cheap enough for a button's state.
    """
    from videochat.families import get_family
    from videochat.runtimes import SEED, interpreter

    runtime = get_family(entry.family).runtime if entry is not None else SEED
    return None if runtime == SEED or interpreter(runtime) is not None else runtime


def offer_install(parent: QWidget, dialog: RuntimeInstallDialog | None, runtime: str | None, on_installed) -> RuntimeInstallDialog | None:
    """Show the install dialog of `runtime` (the one made before, while it is for the same runtime)."""
    if runtime is None:
        return dialog
    if dialog is None or dialog.name != runtime:
        dialog = RuntimeInstallDialog(runtime, parent)
        dialog.sig_installed.connect(lambda _name: on_installed())
    dialog.show()
    dialog.raise_()
    return dialog
