"""The "Servers…" dialog: the servers the user added, each with what its listing said, and what can be done to one.

A list and three buttons rather than a context menu on the model list's rows: a menu inside a
combo box's popup is found by no one, cannot be reached from the keyboard, and an unreachable
server's line there is disabled. The dialog only draws `EngineServers` (`desktop/windows/engine_servers.py`)
and hands it the chosen address: "Change key…", "Check again", "Remove server" (after a yes that
says its key is deleted and its model unloaded). It redraws when a listing comes back; it never waits.
A server that cannot be used says why in its row's tooltip, in the words the chat said it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMessageBox, QPushButton, QVBoxLayout, QWidget

from desktop.plain_text import tooltip

if TYPE_CHECKING:
    from desktop.windows.engine_servers import EngineServers


class ServersDialog(QDialog):
    def __init__(self, servers: EngineServers, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Servers")
        self._servers = servers
        self.server_list = QListWidget()
        self.empty_label = QLabel("No server added: choose “Add a server…” in the model list.")
        self.change_key_button = QPushButton("Change key…")
        self.check_button = QPushButton("Check again")
        self.remove_button = QPushButton("Remove server")
        self.change_key_button.clicked.connect(lambda: self._act(servers.change_key))
        self.check_button.clicked.connect(lambda: self._act(servers.refresh))
        self.remove_button.clicked.connect(self._on_remove)
        self.server_list.currentRowChanged.connect(lambda _row: self._update_buttons())
        actions = QHBoxLayout()
        for button in (self.change_key_button, self.check_button, self.remove_button):
            actions.addWidget(button)
        actions.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.server_list)
        layout.addWidget(self.empty_label)
        layout.addLayout(actions)
        layout.addWidget(close)
        servers.sig_changed.connect(self.redraw)
        self.redraw()

    def chosen(self) -> str | None:
        item = self.server_list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def redraw(self) -> None:
        chosen = self.chosen()
        self.server_list.clear()
        for address in self._servers.addresses():
            item = QListWidgetItem(f"{address}  —  {self._servers.status(address)}")
            item.setData(Qt.ItemDataRole.UserRole, address)
            problem = self._servers.problem(address)
            if problem:
                item.setToolTip(tooltip(problem))
            self.server_list.addItem(item)
            if address == chosen:
                self.server_list.setCurrentItem(item)
        if self.server_list.currentItem() is None and self.server_list.count():
            self.server_list.setCurrentRow(0)
        self.empty_label.setVisible(self.server_list.count() == 0)
        self._update_buttons()

    def _update_buttons(self) -> None:
        for button in (self.change_key_button, self.check_button, self.remove_button):
            button.setEnabled(self.chosen() is not None)

    def _act(self, action) -> None:
        address = self.chosen()
        if address is not None:
            action(address)

    def _on_remove(self) -> None:
        address = self.chosen()
        if address is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Question, "Remove the server",
            f"Remove {address}? Its models leave the list and its stored key is deleted; a model of it that is loaded is unloaded.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)  # the address comes from the settings file
        answer = box.exec()
        box.deleteLater()
        if answer == QMessageBox.StandardButton.Yes:
            self._servers.remove(address)
