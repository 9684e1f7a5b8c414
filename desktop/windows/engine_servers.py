"""The servers the user added: their models listed in the chat's model list beside the models on disk.

At start (after the first paint) and after "Add a server…", each server's `/v1/models` is asked on
a pool thread, never the GUI thread; its models become rows of the model list ("InternVL2-8B @
host:port", the engine choice as data), chosen and loaded like the models on disk (the model thread
connects; no process). A server that does not answer is one line that cannot be chosen, and the
chat says why; the window goes on. Adding it again asks again. The addresses are kept in the
settings (`Settings.engine_servers`); a key typed in the dialog goes to the 0600 key file
(`videochat.engines.keys.store_key`), written on the pool thread, and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from desktop.threads.background import run_job

if TYPE_CHECKING:
    from desktop.windows.main_window import MainWindow

LIST_TIMEOUT_S = 5.0  # a server that takes longer to list its models is shown as not answering
MAX_MODELS_SHOWN = 50  # of one server: a list longer than that is not read by anyone


class EngineServers(QObject):
    def __init__(self, window: MainWindow):
        super().__init__(window)
        self._window = window
        self._rows: dict[str, list[tuple[str, str | None, str]]] = {}
        window.chat.model_combo.sig_add_server_requested.connect(self.add_server)

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

    def refresh(self, address: str, key: str | None = None) -> None:
        """Ask `address` for its models again (storing `key` for it first, when given)."""
        self._rows[address] = [(f"{address}: asking for its models…", None, address)]
        self._show()
        run_job(list_served_models, address, key, returned=lambda outcome: self._on_listed(address, outcome),
                errored=lambda error: self._on_listed(address, ([], ("failed", self._window.errors.message(error)))))

    def _on_listed(self, address: str, outcome: tuple[list, tuple[str, str] | None]) -> None:
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
        self._window.chat.model_combo.set_servers([row for address in addresses for row in self._rows.get(address, [])])


def list_served_models(address: str, key: str | None) -> tuple[list[tuple[str, str, str]], tuple[str, str] | None]:
    """On a pool thread: (rows of the model list, None), or ([], (the list's few words, the chat's message)) for an expected failure."""
    from desktop.errors import error_text
    from videochat.engines.client import EngineClient, EngineUnreachable
    from videochat.engines.errors import EngineError
    from videochat.engines.keys import store_key, stored_key
    from videochat.engines.servers import engine_choice, served_label
    from videochat.errors import VideoChatError

    try:
        if key:
            store_key(address, key)
        key = key or stored_key(address)
        client = EngineClient(address, key, connect_timeout=LIST_TIMEOUT_S, read_timeout=LIST_TIMEOUT_S, answer_timeout=LIST_TIMEOUT_S)
        models = client.models()[:MAX_MODELS_SHOWN]
    except EngineError as error:
        if error.code == "invalid_api_key":
            given = "refused the key given" if key else "needs an API key"
            return [], ("key refused", f"{address} {given}: choose “Add a server…” in the model list and give it again with its key.")
        if isinstance(error, EngineUnreachable):
            return [], ("unreachable", error_text(f"{error} Its models are listed once it answers: choose “Add a server…” with the same address."))
        return [], ("not usable", error_text(f"{address} did not list its models: {error}"))
    except (VideoChatError, OSError) as error:  # the key file (readable by others, damaged)
        return [], ("not usable", error_text(error))
    return [(served_label(model.id, address), engine_choice(address, model.id), model.id) for model in models], None
