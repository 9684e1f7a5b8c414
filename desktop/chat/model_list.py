"""The chat's model list: the models on disk by label (their repo id as tooltip), the models of the
servers the user added, then "Add a server…", "Servers…" (once there is one) and "Model folder…".

A model is found in the list by `model_key`, never by the shown name, so an old name or another
spelling of a repo id picks the same row; a served model by its engine choice
(`videochat.engines.servers.engine_choice`: the server's address and the model's id), which is its
row's data. A server that did not answer is one line that cannot be chosen. Choosing a row emits
`sig_model_chosen`; "Model folder…" asks for a folder first; "Add a server…" emits
`sig_add_server_requested` (the window asks for the address) and "Servers…"
`sig_manage_servers_requested` (change a key, check again, remove), both leaving the choice as it was.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QWidget

from desktop.plain_text import tooltip

MODEL_FOLDER_ITEM = "Model folder…"
ADD_SERVER_ITEM = "Add a server…"
SERVERS_ITEM = "Servers…"
_FOLDER = "::model-folder::"  # the folder item's data: no model id or path looks like this
_ADD_SERVER = "::add-server::"
_SERVERS = "::servers::"
_ACTIONS = (_FOLDER, _ADD_SERVER, _SERVERS)


class ModelList(QComboBox):
    sig_model_chosen = Signal(str)  # catalog name, repo id, folder path or engine choice
    sig_add_server_requested = Signal()
    sig_manage_servers_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setPlaceholderText("Choose a model")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(16)
        self._local: list[tuple[str, str]] = []
        self._served: list[tuple[str, str | None, str]] = []
        self._has_servers = False
        self._chosen: str | None = None  # the data of the row chosen last: "Add a server…" goes back to it
        self._fill()  # the two actions are there before the models on disk are known
        self.activated.connect(self._on_activated)

    def set_models(self, models: list[tuple[str, str]]) -> None:
        """(label, repo id or folder) for each model that can be chosen, the repo id its tooltip; "Model folder…" comes last."""
        self._local = list(models)
        self._fill()

    def set_servers(self, rows: list[tuple[str, str | None, str]], has_servers: bool | None = None) -> None:
        """The servers' rows after the local models: (label, engine choice or None for a line that cannot be chosen, tooltip).
        "Servers…" is there while `has_servers` (by default: while there are rows)."""
        self._served = list(rows)
        self._has_servers = bool(rows) if has_servers is None else has_servers
        self._fill()

    def forget_server(self, address: str) -> None:
        """A removed server's model no longer stays chosen (nor comes back when the list is refilled)."""
        from videochat.engines.servers import parse_engine_choice

        def of_it(data: object) -> bool:
            served = parse_engine_choice(data)
            return served is not None and served[0] == address

        if of_it(self._chosen):
            self._chosen = None
        if of_it(self.currentData()):
            self.setCurrentIndex(-1)
        for index in reversed(range(self.count())):
            if of_it(self.itemData(index)):
                self.removeItem(index)

    def _fill(self) -> None:
        current, current_label = self.currentData(), self.currentText()
        self.clear()
        for label, model_id, tip in [(label, model_id, model_id) for label, model_id in self._local] + self._served:
            self.addItem(label, model_id)
            self.setItemData(self.count() - 1, tooltip(tip), Qt.ItemDataRole.ToolTipRole)
            if model_id is None:
                self.model().item(self.count() - 1).setEnabled(False)
        self.insertSeparator(self.count())
        self.addItem(ADD_SERVER_ITEM, _ADD_SERVER)
        if self._has_servers:
            self.addItem(SERVERS_ITEM, _SERVERS)
        self.addItem(MODEL_FOLDER_ITEM, _FOLDER)
        if current is not None and current not in _ACTIONS and self.findData(current) < 0:
            self.set_current_model(current, current_label)  # a folder or a server's model the lists no longer hold stays chosen
        else:
            self.setCurrentIndex(self.findData(current) if current is not None else -1)

    def has_models(self) -> bool:
        return any(self.itemData(index) not in (None, *_ACTIONS) for index in range(self.count()))

    def set_current_model(self, model_id: str, label: str | None = None) -> None:
        """Show `model_id` (a repo id in any spelling, an old name, or a folder) as chosen, added if it
        is not in the list; emits nothing. The list holds no revisions: the repo or folder decides."""
        self._chosen = model_id
        index = self._model_index(model_id)
        if index < 0:
            from videochat.safe_text import one_line  # here: the window's first paint does without it

            self.insertItem(0, one_line(label or Path(model_id).name or model_id), model_id)  # a folder's name: outside text
            self.setItemData(0, tooltip(model_id), Qt.ItemDataRole.ToolTipRole)
            index = 0
        self.setCurrentIndex(index)

    def _model_index(self, model_id: str) -> int:
        from videochat.engines.servers import ENGINE_PREFIX
        from videochat.models.resolve import model_key

        if model_id.startswith(ENGINE_PREFIX):  # a served model: its address and id, exactly
            return self.findData(model_id)
        wanted = model_key(model_id, None)
        for index in range(self.count()):
            data = self.itemData(index)
            if isinstance(data, str) and data not in _ACTIONS and not data.startswith(ENGINE_PREFIX) and model_key(data, None) == wanted:
                return index
        return -1

    def _on_activated(self, index: int) -> None:
        model_id = self.itemData(index)
        if model_id is None:
            return
        if model_id in (_ADD_SERVER, _SERVERS):
            self.setCurrentIndex(self.findData(self._chosen) if self._chosen is not None else -1)
            (self.sig_add_server_requested if model_id == _ADD_SERVER else self.sig_manage_servers_requested).emit()
            return
        if model_id != _FOLDER:
            self._chosen = model_id
            self.sig_model_chosen.emit(model_id)
            return
        from PySide6.QtWidgets import QFileDialog  # on first use: its enums would slow the start-up

        folder = QFileDialog.getExistingDirectory(self, "Choose a model folder")
        if folder:
            self.set_current_model(folder)
            self.sig_model_chosen.emit(folder)
        else:
            self.setCurrentIndex(-1)
