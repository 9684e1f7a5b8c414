"""The "Add a server…" dialog: an OpenAI-compatible server's address and, optionally, its API key.

The address is checked by the core's rule (`videochat.engines.servers.server_address`: http or
https, a host, no user:pass@ in it) before the dialog closes; what is wrong is said under the field,
and OK does nothing more. The key field shows dots and is never written anywhere by the dialog:
its caller stores it in the 0600 key file (`engines/keys.py`), off the GUI thread.

Given an `address`, it is the "Change key…" dialog of "Servers…": the address shown and not
editable, only the key asked; left empty, the stored key is deleted.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from desktop.style import ERROR_TEXT_STYLE


class AddServerDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, address: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("Add a server" if address is None else "Change the server's key")
        self.address: str | None = None  # the checked address, once accepted
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("http://127.0.0.1:8000")
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("optional: the server's --api-key")
        explanation = QLabel(
            "An OpenAI-compatible server: vLLM, SGLang, LMDeploy or videochat serve. Its models are listed beside "
            "the models on disk. The key is kept in a file only you can read."
        )
        if address is not None:
            self.url_edit.setText(address)
            self.url_edit.setReadOnly(True)
            self.key_edit.setPlaceholderText("the server's --api-key; empty: no key (the stored one is deleted)")
            explanation.setText("The new key replaces the one stored for this server, in a file only you can read; its models are then listed again.")
            self.key_edit.setFocus()
        explanation.setWordWrap(True)
        self.error_label = QLabel()
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)  # it may quote what was typed
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_TEXT_STYLE)
        self.error_label.hide()
        form = QFormLayout()
        form.addRow("Address", self.url_edit)
        form.addRow("API key", self.key_edit)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(explanation)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

    def key(self) -> str | None:
        return self.key_edit.text().strip() or None

    def accept(self) -> None:
        from videochat.engines.servers import InvalidServerAddress, server_address

        try:
            self.address = server_address(self.url_edit.text())
        except InvalidServerAddress as error:
            self.error_label.setText(str(error))
            self.error_label.show()
            self.url_edit.setFocus()
            return
        super().accept()
