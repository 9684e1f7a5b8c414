"""The chat's model list: the models on disk by label (their repo id as tooltip), then "Model folder…".

A model is found in the list by `model_key`, never by the shown name, so an old name or another
spelling of a repo id picks the same row. Choosing a row emits `sig_model_chosen`; choosing
"Model folder…" asks for a folder first.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QWidget

from desktop.plain_text import tooltip

MODEL_FOLDER_ITEM = "Model folder…"
_FOLDER = "::model-folder::"  # the folder item's data: no model id or path looks like this


class ModelList(QComboBox):
    sig_model_chosen = Signal(str)  # catalog name, repo id or folder path

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setPlaceholderText("Choose a model")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(16)
        self.activated.connect(self._on_activated)

    def set_models(self, models: list[tuple[str, str]]) -> None:
        """(label, repo id or folder) for each model that can be chosen, the repo id its tooltip; "Model folder…" comes last."""
        current = self.currentData()
        self.clear()
        for label, model_id in models:
            self.addItem(label, model_id)
            self.setItemData(self.count() - 1, tooltip(model_id), Qt.ItemDataRole.ToolTipRole)
        self.insertSeparator(self.count())
        self.addItem(MODEL_FOLDER_ITEM, _FOLDER)
        self.setCurrentIndex(self.findData(current) if current is not None else -1)

    def has_models(self) -> bool:
        return any(self.itemData(index) not in (None, _FOLDER) for index in range(self.count()))

    def set_current_model(self, model_id: str, label: str | None = None) -> None:
        """Show `model_id` (a repo id in any spelling, an old name, or a folder) as chosen, added if it
        is not in the list; emits nothing. The list holds no revisions: the repo or folder decides."""
        index = self._model_index(model_id)
        if index < 0:
            self.insertItem(0, label or Path(model_id).name or model_id, model_id)
            self.setItemData(0, tooltip(model_id), Qt.ItemDataRole.ToolTipRole)
            index = 0
        self.setCurrentIndex(index)

    def _model_index(self, model_id: str) -> int:
        from videochat.models.resolve import model_key

        wanted = model_key(model_id, None)
        for index in range(self.count()):
            data = self.itemData(index)
            if isinstance(data, str) and data != _FOLDER and model_key(data, None) == wanted:
                return index
        return -1

    def _on_activated(self, index: int) -> None:
        model_id = self.itemData(index)
        if model_id != _FOLDER:
            self.sig_model_chosen.emit(model_id)
            return
        from PySide6.QtWidgets import QFileDialog  # on first use: its enums would slow the start-up

        folder = QFileDialog.getExistingDirectory(self, "Choose a model folder")
        if folder:
            self.set_current_model(folder)
            self.sig_model_chosen.emit(folder)
        else:
            self.setCurrentIndex(-1)
