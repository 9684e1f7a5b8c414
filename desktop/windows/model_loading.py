"""Which model the window has: the models on disk, a suggestion when there is none, loading one,
the remote-code consent, and InternVideo2-Chat's HD switch.

The chat pane and the model manager ask for a model (`sig_model_chosen`, `sig_use_model`); the
Model menu for a folder, or for none (Unload); this hands the choice to the model thread (which runs
the model in its own process) and draws what comes back in the chat pane's model status. The remote-code consent is
asked here, before the process starts; the process is handed the yes for exactly the code shown.

After an unload nothing says a model is loaded: the status line and a question asked then name the
model that was unloaded and say how to load it again (choosing it again in the list loads it; a
question does not, since an unload is often asked for to free the memory; nor does the next start).
A model dropped on the way to another one changes nothing: the status goes on saying what is loading.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from desktop.chat.pane import NO_MODEL_TEXT
from desktop.threads.background import run_job

if TYPE_CHECKING:
    from desktop.windows.main_window import MainWindow


class ModelLoading(QObject):
    def __init__(self, window: MainWindow):
        super().__init__(window)
        self._window = window
        self._pending_model: str | None = None  # to load once the models on disk are known
        self._loaded = None  # the ref of the model last loaded, to name it once it is unloaded
        self._unloaded_text: str | None = None  # what the status and a question say while no model is loaded after an unload
        self._next_unload_text: str | None = None  # said after the unload asked for by `unload(text)`

    def start(self, requested: str | None = None) -> None:
        """After the first paint: list the models on disk (off the GUI thread) and load the chosen one."""
        worker = self._window.worker
        self._pending_model = requested or self._window.settings.last_model
        worker.start()
        worker.sig_models_found.connect(self._on_models_found)
        worker.find_models()

    def connect_worker(self, worker) -> None:
        chat = self._window.chat
        worker.sig_load_progress.connect(lambda what, fraction: chat.set_model_status(f"{what}… {fraction:.0%}"))
        worker.sig_loaded.connect(self._on_model_loaded)
        worker.sig_load_failed.connect(self._on_model_failed)
        worker.sig_unloaded.connect(self._on_model_unloaded)
        # Idle: every unload asked for has run (one with nothing to unload says nothing), so its text is not kept for a later one.
        worker.sig_busy_changed.connect(lambda busy: busy or setattr(self, "_next_unload_text", None))

    def unload(self, text: str | None = None) -> None:
        """Unload the model; `text` is what the status and a question then say (by default: which model was unloaded, and how to load it again)."""
        self._next_unload_text = text
        self._window.worker.unload()

    def no_model_text(self) -> str:
        """What to say when a question finds no model loaded."""
        return self._unloaded_text or NO_MODEL_TEXT

    def _on_models_found(self, models: list) -> None:
        """`models`: (label, repo id) of each catalog model on disk."""
        chat, worker = self._window.chat, self._window.worker
        chat.set_models(models)
        loaded = worker.loaded_ref
        if loaded is not None:  # the refilled list shows the loaded model again
            chat.set_current_model(loaded.source, loaded.display_name)
        if self._pending_model:
            self.load(self._pending_model)
        elif worker.loaded_ref is not None or worker.is_busy:
            return  # a new download only adds to the list
        elif models:
            chat.set_model_status(f"{len(models)} model(s) on disk: choose one to load.")
        else:
            chat.set_model_status(NO_MODEL_TEXT)
            from desktop.threads.model_choices import recommendation

            run_job(recommendation, returned=self._on_recommendation)

    def _on_recommendation(self, text: str | None) -> None:
        if text and self._window.worker.loaded_ref is None and not self._window.chat.has_models():
            self._window.chat.set_model_status(f"{NO_MODEL_TEXT} {text}")

    def load(self, model: str, trust_remote_code: bool = False, approved_code: str | None = None) -> None:
        """Load a catalog name, repo id or folder (a folder: a full path, or one starting with ./ ../ ~)."""
        from videochat.engines.servers import parse_engine_choice, served_label
        from videochat.safe_text import one_line

        self._pending_model = None
        served = parse_engine_choice(model)  # a model on a server: "InternVL2-8B @ host:port"
        self._window.chat.set_model_status(f"Loading {served_label(served[1], served[0]) if served else one_line(Path(model).name or model)}…")
        self._window.worker.load(model, trust_remote_code=trust_remote_code, approved_code=approved_code)

    def _on_model_folder_requested(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        folder = QFileDialog.getExistingDirectory(self._window, "Choose a model folder")
        if folder:
            self.load(folder)

    def _on_model_loaded(self, ref) -> None:
        from videochat.families import get_family

        chat = self._window.chat
        self._loaded, self._unloaded_text = ref, None
        chat.set_frame_rule(get_family(ref.family), ref.default_frames)
        chat.set_current_model(ref.source, ref.display_name)
        chat.set_hd_available(hd_counterpart(ref) is not None, checked=ref.family == "internvideo2-hd")
        chat.set_model_status(f"{ref.shown_name} ready ({ref.family})")
        for note in getattr(ref, "notes", ()):  # a model on a server: what its server cannot do (an older vLLM ...)
            chat.show_error(note)
        self._window.settings.last_model = ref.source  # a folder's resolved path, or the repo id
        self._window.window_settings.save()

    def _on_model_unloaded(self) -> None:
        ref, self._loaded = self._loaded, None
        text, self._next_unload_text = self._next_unload_text, None
        self._window.chat.set_hd_available(False)  # its switch would load the twin of a model no longer there
        if self._window.worker.is_loading:  # on the way to another model: its load says what is happening
            return
        settings = self._window.settings
        if settings.last_model is not None:  # the next start does not load it again: an unload frees the memory
            settings.last_model = None
            self._window.window_settings.save()
        if text is None and ref is not None:
            name = ref.shown_name
            text = f"No model loaded ({name} was unloaded): choose {name} in the model list above to load it again, or choose another model."
        self._unloaded_text = text
        self._window.chat.set_model_status(text or NO_MODEL_TEXT)

    def _on_hd_toggled(self, hd: bool) -> None:
        """InternVideo2-Chat's HD variant is its own checkpoint: the switch loads the other one."""
        ref = self._window.worker.loaded_ref
        other = hd_counterpart(ref) if ref is not None else None
        if other is not None and (ref.family == "internvideo2-hd") != hd:
            self.load(other)

    def _on_model_failed(self, error) -> None:
        from videochat.errors import RemoteCodeRefused

        chat = self._window.chat
        if isinstance(error, RemoteCodeRefused) and error.code is not None:
            if self._ask_remote_code_consent(error):
                # The yes is for the code the dialog showed: code changed since is asked about again.
                self.load(self._window.worker.last_requested_model, approved_code=error.code.digest)
            else:
                chat.set_model_status("No model loaded: its code was not run. Choose another model, or load it again to be asked again.")
            return
        chat.set_model_status(self._window.errors.message(error))

    def _ask_remote_code_consent(self, error) -> bool:
        """Ask, in a modal dialog, whether the model's own code may run; True for yes."""
        from desktop.windows.remote_code_dialog import remote_code_box

        box = remote_code_box(error.code, self._window.worker.last_requested_model or "", self._window)
        box.exec()
        return box.clickedButton() is box.run_button


def hd_counterpart(ref) -> str | None:
    """The repo id of the catalog model's HD (or plain) twin, if it has one; a folder has none."""
    return (ref.entry.hd_twin or None) if ref.entry is not None else None
