"""The model manager window: what each model needs and whether it fits here, downloads, the token.

A view of the core's `downloads` (what is on disk, read from the disk alone) and of the download
thread (`DownloadWorker`); the table of models and their states is `model_table.ModelTable`.
Nothing here waits: the table's states, the hub's reachability, the update check, the machine's
memory and the token's check all come from background jobs, and a download streams on its own
thread. The manager emits `sig_use_model` for the main window to load a model, and
`sig_models_changed` when the set of models on disk changed.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QDialog, QFileDialog, QHBoxLayout, QInputDialog, QLabel, QLineEdit, QMessageBox, QProgressBar, QPushButton, QVBoxLayout, QWidget

from desktop.style import ERROR_TEXT_STYLE
from desktop.threads.background import run_job
from desktop.threads.download_worker import DownloadWorker
from desktop.windows.model_table import ModelTable, read_machine, read_packages, read_states, read_updates
from desktop.windows.runtime_dialog import missing_runtime, offer_install
from videochat.sizes import format_bytes



class ModelManager(QDialog):
    sig_use_model = Signal(str)  # a catalog name, repo id or folder, for the main window to load
    sig_models_changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Model manager")
        self.resize(860, 560)
        self.worker = DownloadWorker(self)
        # Its reads of the disk, the machine and the hub run one at a time: each competes with the
        # GUI thread for Python's lock, and two at once (importing requests, psutil) stall it longer.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._extra_models: list[str] = []  # repo ids added by hand
        self._retry_after_token: str | None = None
        self._online: bool | None = None  # unknown until the check returns
        self._build_ui()
        self._connect()
        self._fill_rows()
        self.refresh()

    # -- building -----------------------------------------------------------------------------

    def _build_ui(self) -> None:
        self.machine_label = QLabel("This machine: …")
        self.hub_label = QLabel("Hugging Face Hub: checking…")
        self.recommendation_label = QLabel("")
        self.recommendation_label.setWordWrap(True)
        self.table = ModelTable(self.worker.queued)
        self.progress_label = QLabel("")
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.hide()
        self.message_label = QLabel("")
        self.message_label.setWordWrap(True)
        self.message_label.setOpenExternalLinks(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)

        self.download_button = QPushButton("Download")
        self.pause_button = QPushButton("Pause")
        self.cancel_button = QPushButton("Cancel")
        self.delete_button = QPushButton("Delete…")
        self.update_button = QPushButton("Update")
        self.use_button = QPushButton("Use")
        self.use_button.setDefault(True)
        self.runtime_button = QPushButton("Install the current runtime…")  # shown for a model whose runtime is not installed
        self.runtime_button.hide()
        self._runtime_dialog = None
        model_row = QHBoxLayout()
        for button in (self.download_button, self.pause_button, self.cancel_button, self.update_button, self.delete_button):
            model_row.addWidget(button)
        model_row.addStretch(1)
        model_row.addWidget(self.runtime_button)
        model_row.addWidget(self.use_button)

        self.folder_button = QPushButton("Use a local folder…")
        self.add_button = QPushButton("Add by repo id…")
        self.token_button = QPushButton("Token…")
        self.remove_token_button = QPushButton("Remove token")
        close_button = QPushButton("Close")
        close_button.clicked.connect(self.close)
        other_row = QHBoxLayout()
        for button in (self.folder_button, self.add_button, self.token_button, self.remove_token_button):
            other_row.addWidget(button)
        other_row.addStretch(1)
        other_row.addWidget(close_button)

        layout = QVBoxLayout(self)
        for widget in (self.machine_label, self.hub_label, self.recommendation_label):
            layout.addWidget(widget)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.progress_bar)
        layout.addLayout(model_row)
        layout.addWidget(self.message_label)
        layout.addLayout(other_row)

    def _connect(self) -> None:
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemSelectionChanged.connect(self._show_packages_fix)
        self.table.itemDoubleClicked.connect(lambda _item: self._on_use())
        self.download_button.clicked.connect(lambda: self._start(self.selected_model()))
        self.pause_button.clicked.connect(self.worker.pause)
        self.cancel_button.clicked.connect(lambda: self.worker.cancel(self.selected_model()))
        self.update_button.clicked.connect(lambda: self._start(self.selected_model(), update=True))
        self.delete_button.clicked.connect(self._on_delete)
        self.use_button.clicked.connect(self._on_use)
        self.runtime_button.clicked.connect(self._on_install_runtime)
        self.folder_button.clicked.connect(self._on_folder)
        self.add_button.clicked.connect(self._on_add_repo)
        self.token_button.clicked.connect(lambda: self.ask_for_token())
        self.remove_token_button.clicked.connect(self._on_remove_token)
        self.worker.sig_started.connect(lambda model: self._set_live(model, "starting…"))
        self.worker.sig_planned.connect(self._on_planned)
        self.worker.sig_progress.connect(self._on_progress)
        self.worker.sig_finished.connect(self._on_finished)
        self.worker.sig_stopped.connect(self._on_stopped)
        self.worker.sig_failed.connect(self._on_failed)

    def _fill_rows(self) -> None:
        from videochat.models.catalog import CATALOG

        self.table.fill([entry.name for entry in CATALOG] + self._extra_models)
        self._update_buttons()

    # -- state --------------------------------------------------------------------------------

    def models(self) -> list[str]:
        return self.table.models()

    def selected_model(self) -> str | None:
        return self.table.selected_model()

    def select(self, model: str) -> None:
        self.table.select(model)

    def status_text(self, model: str) -> str:
        return self.table.status_text(model)

    @staticmethod
    def _entry(model: str):
        from videochat.models.catalog import find_entry

        return find_entry(model)

    def refresh(self) -> None:
        """Read the states from the disk, the machine's memory and the hub's reachability, off this thread."""
        run_job(read_states, self.models(), returned=self._on_states, errored=self._on_states_failed, pool=self._pool)
        if not self.table.verdicts:
            run_job(read_machine, returned=self._on_machine, errored=self._on_machine_failed, pool=self._pool)
        run_job(_check_hub, returned=self._on_hub_checked, errored=self._on_hub_checked, pool=self._pool)
        if self.table.packages is None:
            run_job(read_packages, returned=self._on_packages, errored=_ignored, pool=self._pool)

    def shutdown(self) -> None:
        """At quit: its reads not yet begun are dropped; a download stops between chunks, its bytes kept."""
        self._pool.clear()
        self.worker.shutdown()

    def _on_packages(self, check) -> None:
        self.table.set_packages(check)
        self._show_packages_fix()

    def _show_packages_fix(self) -> None:
        """A selected model whose code would not import here: what to run, in words that can be copied."""
        fix = self.table.packages_fix(self.selected_model())
        if fix is not None:
            self._show_message(f"{self._entry(self.selected_model()).shown_name} needs timm/torchvision: {fix}", error=True)

    def _on_states_failed(self, error: Exception) -> None:
        self._show_message(f"Reading the Hugging Face cache failed: {error}", error=True)

    def _on_states(self, states: dict) -> None:
        self.table.states.update(states)
        self._redraw_statuses()
        self._check_updates()

    def _on_machine_failed(self, error: Exception) -> None:
        self.machine_label.setText(f"This machine: unknown ({error})")

    def _on_machine(self, result: tuple) -> None:
        budget, recommended, verdicts = result
        self.machine_label.setText(f"This machine: {budget.description}; models run in {budget.precision}.")
        self.recommendation_label.setText(
            f"Recommended here: <b>{recommended.shown_name}</b> ({format_bytes(recommended.download_bytes)} to download)."
        )
        self.table.set_verdicts(verdicts)

    def _on_hub_checked(self, error: Exception | None) -> None:
        """`_check_hub` returned None, or raised `error`."""
        self._online = error is None
        if self._online:
            self.hub_label.setText("Hugging Face Hub: online.")
            self._check_updates()
        else:
            self.hub_label.setText(f"Hugging Face Hub: offline. {error}")

    def _check_updates(self) -> None:
        """Once online and the states are read: which downloaded models have a newer commit on the hub."""
        ready = [model for model in self.table.states if self.table.state_of(model) == "ready"]
        if self._online and ready:
            run_job(read_updates, ready, returned=self._on_updates, errored=_ignored, pool=self._pool)

    def _on_updates(self, behind: list[str]) -> None:
        self.table.updates = set(behind)
        self._redraw_statuses()

    def _redraw_statuses(self) -> None:
        self.table.redraw_statuses()
        self._update_buttons()

    def _set_live(self, model: str, text: str | None) -> None:
        self.table.set_live(model, text)
        self._update_buttons()

    def _update_buttons(self) -> None:
        model = self.selected_model()
        state = self.table.state_of(model)
        running = model is not None and model == self.worker.current
        waiting = model in self.worker.queued()
        self.download_button.setEnabled(model is not None and not running and not waiting and state != "ready")
        self.download_button.setText("Resume" if state == "partial" else "Download")
        self.pause_button.setEnabled(running)
        self.cancel_button.setEnabled(running or waiting)
        self.update_button.setEnabled(model in self.table.updates and not running)
        self.delete_button.setEnabled(model is not None and not running and state in ("ready", "partial"))
        self.use_button.setEnabled(state == "ready")
        runtime = missing_runtime(self._entry(model) if model else None)  # the current runtime, for its models
        self.runtime_button.setVisible(runtime is not None)

    def _on_install_runtime(self) -> None:
        self._runtime_dialog = offer_install(self, self._runtime_dialog, missing_runtime(self._entry(self.selected_model() or "")), self._update_buttons)

    # -- downloads ----------------------------------------------------------------------------

    def _start(self, model: str | None, update: bool = False) -> None:
        if model is None:
            return
        self._show_message("")
        self.worker.start_download(model, update=update)
        self._set_live(model, "queued")

    def _on_planned(self, model: str, plan) -> None:
        self._set_live(model, f"downloading {plan.on_disk_bytes / max(plan.total_bytes, 1):.0%}")
        self.progress_label.setText(f"{model}: {format_bytes(plan.total_bytes)} in {sum(len(r.files) for r in plan.repos)} files; {format_bytes(plan.on_disk_bytes)} already here.")
        self.progress_bar.setValue(int(1000 * plan.on_disk_bytes / max(plan.total_bytes, 1)))
        self.progress_bar.show()

    def _on_progress(self, model: str, progress) -> None:
        self.progress_bar.setValue(int(1000 * progress.fraction))
        eta = f" · {progress.time_left_text}" if progress.time_left_text else ""
        self.progress_label.setText(
            f"{model}: {format_bytes(progress.done)} of {format_bytes(progress.total)} · {format_bytes(progress.bytes_per_second)}/s{eta}\n"
            f"file {progress.files_done + 1} of {progress.files_total}: {progress.path} ({format_bytes(progress.file_done)} of {format_bytes(progress.file_total)})"
        )
        self._set_live(model, f"downloading {progress.fraction:.0%}")

    def _on_finished(self, model: str) -> None:
        self._set_live(model, None)
        self.table.updates.discard(model)
        self.progress_bar.hide()
        self.progress_label.setText(f"{model} is downloaded and verified.")
        self.refresh()
        self.sig_models_changed.emit()

    def _on_stopped(self, model: str, paused: bool) -> None:
        self._set_live(model, None)
        self.progress_bar.hide()
        self.progress_label.setText(f"{model}: {'paused' if paused else 'cancelled'}; what was fetched stays, and the next download resumes from it.")
        self.refresh()

    def _on_failed(self, model: str, error: Exception) -> None:
        from videochat.errors import InvalidToken, LicenceNotAccepted, TokenRequired, VideoChatError

        self._set_live(model, None)
        self.progress_bar.hide()
        self.progress_label.setText("")
        self.refresh()
        text = str(error) if isinstance(error, VideoChatError) else f"{type(error).__name__}: {error}"
        if isinstance(error, LicenceNotAccepted):
            page = f"https://huggingface.co/{error.repo_id}"
            self._show_message(f"{_escape(text)}<br><a href='{page}'>Open {error.repo_id} on huggingface.co</a>", error=True, rich=True)
        else:
            self._show_message(text, error=True)
        if isinstance(error, (TokenRequired, InvalidToken)):
            self._retry_after_token = model
            QTimer.singleShot(0, self.ask_for_token)

    def _on_delete(self) -> None:
        model = self.selected_model()
        entry = self._entry(model)
        text = f"Delete {model} from the Hugging Face cache? It can be downloaded again."
        if entry and entry.extra_repos:
            text += f"\n\nThe repos it shares ({', '.join(entry.extra_repos)}) stay."
        if QMessageBox.question(self, "Delete model", text) != QMessageBox.StandardButton.Yes:
            return
        from videochat.models import on_disk as models_on_disk

        freed = models_on_disk.delete(entry or model)
        self._show_message(f"{model} deleted ({format_bytes(freed)} freed).")
        self.refresh()
        self.sig_models_changed.emit()

    # -- other sources ------------------------------------------------------------------------

    def _on_use(self) -> None:
        model = self.selected_model()
        if model is not None and self.table.state_of(model) == "ready":
            self.sig_use_model.emit(model)

    def _on_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a model folder")
        if folder:
            self.sig_use_model.emit(folder)

    def _on_add_repo(self) -> None:
        repo_id, ok = QInputDialog.getText(self, "Add a model by repo id", "Hugging Face repo id (owner/name):")
        repo_id = repo_id.strip()
        if not ok or not repo_id:
            return
        from videochat.errors import UnknownModel
        from videochat.models.hub_names import check_repo_id, shown

        try:
            if repo_id.count("/") != 1:
                raise UnknownModel(f"{shown(repo_id)} is not a repo id: it looks like owner/name.")
            check_repo_id(repo_id)
        except UnknownModel as error:
            self._show_message(str(error), error=True)
            return
        if repo_id not in self.models() and self._entry(repo_id) is None:
            self._extra_models.append(repo_id)
            self._fill_rows()
            self.refresh()
        self.select(self._entry(repo_id).name if self._entry(repo_id) else repo_id)
        self._start(self.selected_model())

    # -- token --------------------------------------------------------------------------------

    def ask_for_token(self) -> None:
        token, ok = QInputDialog.getText(
            self, "Hugging Face token",
            "Paste a read token from huggingface.co/settings/tokens.\nIt is checked with the hub, then stored where `hf auth login` keeps it.",
            QLineEdit.EchoMode.Password,
        )
        if not ok or not token.strip():
            self._retry_after_token = None
            return
        from videochat.models import hub

        self._show_message("Checking the token…")
        run_job(hub.save_token, token, returned=self._on_token_checked, errored=self._on_token_refused, pool=self._pool)

    def _on_token_refused(self, error: Exception) -> None:
        self._retry_after_token = None
        self._show_message(str(error), error=True)  # the hub's words, never the token

    def _on_token_checked(self, name: str) -> None:
        retry, self._retry_after_token = self._retry_after_token, None
        if retry is not None:
            self._start(retry)
        self._show_message(f"Token of {name} saved." + (f" Downloading {retry} again." if retry else ""))

    def _on_remove_token(self) -> None:
        from videochat.models import hub

        hub.remove_token()
        self._show_message("The stored token is removed.")

    # -- helpers ------------------------------------------------------------------------------

    def _show_message(self, text: str, error: bool = False, rich: bool = False) -> None:
        self.message_label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
        if error:
            from desktop.errors import error_text  # the hub's words may echo the token

            text = error_text(text)
        self.message_label.setText(text)
        self.message_label.setStyleSheet(ERROR_TEXT_STYLE if error else "")


def _check_hub() -> None:
    from videochat.models import hub

    hub.ensure_reachable()


def _ignored(_error: Exception) -> None:
    """The update check is a hint: offline or refused, the statuses stay as they are."""


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
