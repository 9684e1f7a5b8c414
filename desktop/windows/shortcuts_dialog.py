"""Help ▸ Keyboard shortcuts (and the `?` key): the key table of `desktop/keys.py`, as it is.

Read from the table itself, so the help cannot miss a key or name one that does nothing.
Made on first use: the window's start-up does without it.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from desktop import keys


def shortcut_rows() -> list[tuple[str, str]]:
    """(key, what it does) for every binding of the table, in its order."""
    return [(key, keys.COMMANDS[command]) for key, command in keys.BINDINGS]


class ShortcutsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = "".join(
            f"<tr><td style='padding-right:16px'><b>{escape(key)}</b></td><td>{escape(text)}</td></tr>" for key, text in shortcut_rows()
        )
        self.table = QLabel(
            f"<table>{rows}</table><p>The player's keys work anywhere in the window except while typing in a text box.</p>"
        )
        self.table.setObjectName("shortcutsTable")
        self.table.setTextFormat(Qt.TextFormat.RichText)
        self.table.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
