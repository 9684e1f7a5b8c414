"""The servers the user added: their models listed in the chat's model list beside the models on disk.

At start (after the first paint) and after "Add a server…", each server's `/v1/models` is asked on
a thread of its own (a server that does not answer holds neither Qt's pool nor the app's exit), never
the GUI thread; its models become rows of the model list ("InternVL2-8B @
host:port", the engine choice as data), chosen and loaded like the models on disk (the model thread
connects; no process). A server that does not answer is one line that cannot be chosen, and the
chat says why; the window goes on. Adding it again asks again. The addresses are kept in the
settings (`Settings.engine_servers`); a key typed in the dialog goes to the 0600 key file
(`videochat.engines.keys.store_key`), written on the pool thread, and nowhere else.

"Servers…" (in the model list once there is a server) opens `ServersDialog`: each server with what
its listing said, and "Change key…" (stored, or deleted when left empty, then the models listed
again; a loaded model of that server sends the new key from its next request on, with a note), "Check again", "Remove server". Removing takes the address out of the settings (and out of
the last model), its rows out of the list, deletes its stored key on a pool thread
(`keys.forget_key`), and unloads its model first if that is the one loaded (the model thread's
usual unload), with a note in the chat. A listing that answers after a newer one was asked, or
after its server was removed, is dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from desktop.threads.background import run_job, run_on_own_thread

if TYPE_CHECKING:
    from desktop.windows.main_window import MainWindow

LIST_TIMEOUT_S = 5.0  # a server that takes longer to list its models is shown as not answering
MAX_MODELS_SHOWN = 50  # of one server: a list longer than that is not read by anyone


class EngineServers(QObject):
    sig_changed = Signal()  # a server's rows changed (listed, failed, removed): the dialog redraws

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self._window = window
        self._rows: dict[str, list[tuple[str, str | None, str]]] = {}
        self._asked: dict[str, int] = {}  # address -> number of its latest listing: older answers are dropped
        self.dialog = None  # the ServersDialog, while it is open
        window.chat.model_combo.sig_add_server_requested.connect(self.add_server)
        window.chat.model_combo.sig_manage_servers_requested.connect(self.manage)

    def start(self) -> None:
        """List every added server's models (each on its own pool job)."""
        for address in self._window.settings.engine_servers:
            self.refresh(address)

    def add_server(self) -> None:
        from desktop.windows.add_server_dialog import AddServerDialog

        dialog = AddServerDialog(self._window)
        accepted = dialog.exec() == AddServerDialog.DialogCode.Accepted
        address, key = dialog.address, dialog.key()
        dialog.key_edit.clear()
        dialog.deleteLater()
        if not accepted or address is None:
            return
        self._window.settings.add_server(address)
        self._window.window_settings.save()
        self.refresh(address, key)

    def refresh(self, address: str, key: str | None = None, replace_key: bool = False) -> None:
        """Ask `address` for its models again (storing `key` for it first, when given; with
        `replace_key`, an empty `key` deletes the stored one)."""
        asked = self._asked[address] = self._asked.get(address, 0) + 1
        self._rows[address] = [(f"{address}: asking for its models…", None, address)]
        self._show()
        run_on_own_thread(list_served_models, address, key, replace_key, returned=lambda outcome: self._on_listed(address, outcome, asked),
                          errored=lambda error: self._on_listed(address, ([], ("failed", self._window.errors.message(error))), asked),
                          name="videochat-listing")

    def manage(self) -> None:
        """"Servers…": the dialog that changes a key, checks again or removes a server (one at a time)."""
        from desktop.windows.servers_dialog import ServersDialog

        if self.dialog is None:
            self.dialog = ServersDialog(self, self._window)
            self.dialog.finished.connect(self._on_dialog_closed)
        self.dialog.open()
        self.dialog.raise_()

    def _on_dialog_closed(self) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            dialog.deleteLater()

    def addresses(self) -> list[str]:
        return list(self._window.settings.engine_servers)

    def status(self, address: str) -> str:
        """What the last listing of `address` said, in a few words."""
        rows = self._rows.get(address, [])
        served = [row for row in rows if row[1] is not None]
        if served:
            return f"{len(served)} model(s)"
        return rows[0][0].removeprefix(f"{address}: ") if rows else "not asked yet"

    def problem(self, address: str) -> str | None:
        """Why `address` cannot be used, as the chat said it when it was last asked; None if it serves models (or was not asked yet)."""
        rows = self._rows.get(address, [])
        return rows[0][2] if rows and rows[0][1] is None else None

    def change_key(self, address: str) -> None:
        """Ask for the new key (masked); it is stored, or the stored one deleted when left empty, then the models listed again."""
        from desktop.windows.add_server_dialog import AddServerDialog

        dialog = AddServerDialog(self._window, address=address)
        accepted = dialog.exec() == AddServerDialog.DialogCode.Accepted
        key = dialog.key()
        dialog.key_edit.clear()
        dialog.deleteLater()
        if not accepted or address not in self._window.settings.engine_servers:
            return
        self.refresh(address, key or "", replace_key=True)
        if self._serves_loaded_model(address):  # its session reads the stored key at each request (engine_session.py)
            what = f"uses the new key for {address}" if key else f"sends no key to {address}"
            self._window.chat.show_note(f"The loaded model {what} from the next question on (an answer or batch running now goes on with the old one).")

    def remove(self, address: str) -> None:
        """Take `address` out of the settings and the model list, delete its stored key, and unload its model if it is loaded."""
        from videochat.engines.keys import forget_key
        from videochat.engines.servers import parse_engine_choice, served_label

        window = self._window
        settings = window.settings
        if address not in settings.engine_servers:
            return
        if self._serves_loaded_model(address):
            worker = window.worker
            ref = worker.loaded_ref
            worker.stop()  # an answer streaming from the server ends where it is
            if worker.batch_running:
                worker.stop_batch()
            gone = f"No model loaded: {address} was removed. Choose another model."
            window.model_loading.unload(gone)  # the status and a question then say this, not "choose it again"
            name = ref.display_name if ref is not None else served_label(parse_engine_choice(worker.last_requested_model)[1], address)
            window.chat.show_note(f"{name} was unloaded: its server {address} was removed. Choose another model.")
            window.chat.set_model_status(gone)
        settings.engine_servers = [other for other in settings.engine_servers if other != address]
        last = parse_engine_choice(settings.last_model)
        if last is not None and last[0] == address:  # the next start would connect to it again
            settings.last_model = None
        window.window_settings.save()
        self._rows.pop(address, None)
        self._asked.pop(address, None)
        window.chat.model_combo.forget_server(address)
        self._show()
        run_job(forget_key, address, returned=lambda _forgot: None,
                errored=lambda error: window.chat.show_error(f"{address} was removed, but its stored key could not be deleted: {window.errors.message(error)}"))

    def _serves_loaded_model(self, address: str) -> bool:
        """The loaded model (or the one being loaded, last asked for) is on `address`."""
        from videochat.engines.servers import parse_engine_choice

        worker = self._window.worker
        ref = worker.loaded_ref
        loaded = parse_engine_choice(getattr(ref, "source", None)) if ref is not None else None
        requested = parse_engine_choice(worker.last_requested_model)
        if requested is None or requested[0] != address:
            return False
        return (loaded is not None and loaded[0] == address) or worker.is_busy

    def _on_listed(self, address: str, outcome: tuple[list, tuple[str, str] | None], asked: int) -> None:
        if self._asked.get(address) != asked:  # removed since, or asked again since: the newer answer counts
            if address not in self._window.settings.engine_servers:  # a key this job stored after the removal deleted it goes too
                from videochat.engines.keys import forget_key

                run_job(forget_key, address, returned=lambda _forgot: None, errored=lambda _error: None)
            return
        rows, problem = outcome
        if problem is not None:
            short, message = problem
            rows = [(f"{address}: {short}", None, message)]
            self._window.chat.show_error(message)
        elif not rows:
            rows = [(f"{address}: serves no model", None, address)]
        self._rows[address] = rows
        self._show()

    def _show(self) -> None:
        addresses = self._window.settings.engine_servers
        self._window.chat.model_combo.set_servers([row for address in addresses for row in self._rows.get(address, [])], has_servers=bool(addresses))
        self.sig_changed.emit()


def list_served_models(address: str, key: str | None, replace_key: bool = False) -> tuple[list[tuple[str, str, str]], tuple[str, str] | None]:
    """On a pool thread: (rows of the model list, None), or ([], (the list's few words, the chat's message)) for an expected failure.
    `key` is stored first when given; with `replace_key`, an empty one deletes the stored key."""
    from desktop.errors import error_text
    from videochat.engines.client import EngineClient, EngineUnreachable
    from videochat.engines.errors import EngineError
    from videochat.engines.keys import forget_key, store_key, stored_key
    from videochat.engines.servers import engine_choice, served_label
    from videochat.errors import VideoChatError

    try:
        if key:
            store_key(address, key)
        elif replace_key:
            forget_key(address)
        key = key or stored_key(address)
        client = EngineClient(address, key, connect_timeout=LIST_TIMEOUT_S, read_timeout=LIST_TIMEOUT_S, answer_timeout=LIST_TIMEOUT_S)
        models = client.models()[:MAX_MODELS_SHOWN]
    except EngineError as error:
        if error.code == "invalid_api_key":
            from desktop.threads.engine_session import key_refused_text

            return [], ("key refused", key_refused_text(address, key))
        if isinstance(error, EngineUnreachable):
            return [], ("unreachable", error_text(f"{error} Its models are listed once it answers: choose “Servers…” in the model list, then “Check again”."))
        return [], ("not usable", error_text(f"{address} did not list its models: {error}"))
    except (VideoChatError, OSError) as error:  # the key file (readable by others, damaged)
        return [], ("not usable", error_text(error))
    return [(served_label(model.id, address), engine_choice(address, model.id), model.id) for model in models], None
