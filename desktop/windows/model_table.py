"""The model manager's table: one row per model (the catalog's, then repo ids added by hand) with
its download size, whether it is gated, whether it fits this machine, and its status.

The states come from the disk, the machine, the hub and the model process's interpreter through
the `read_*` jobs below, which the manager runs off the GUI thread. A row's key is the model's name
(catalog name or repo id), kept in the first cell, never its shown label. A model whose family's
code imports timm is marked "needs timm/torchvision" where they do not import beside the models'
torch, with the command that fixes it on hover.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from videochat.sizes import format_bytes

COLUMNS = ("Model", "Download", "Gated", "Fits here", "Status")
NAME, SIZE, GATED, FITS, STATUS = range(len(COLUMNS))


class ModelTable(QTableWidget):
    def __init__(self, queued: Callable[[], list[str]], parent: QWidget | None = None):
        """`queued()`: the models waiting for the download thread."""
        super().__init__(0, len(COLUMNS), parent)
        self._queued = queued
        self.states: dict[str, object] = {}  # model -> videochat.models.on_disk's status of it
        self.verdicts: dict[str, str] = {}  # model -> whether it fits this machine
        self.updates: set[str] = set()  # ready models whose hub has a newer commit
        self._live: dict[str, str] = {}  # model -> "downloading 43%", "paused", ... while the window runs
        self.packages = None  # videochat.models.torch_pairs.PackageCheck of the models' interpreter, once read
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        self.setWordWrap(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(70)

    def fill(self, models: list[str]) -> None:
        from videochat.models.catalog import find_entry

        self.setRowCount(len(models))
        for row, model in enumerate(models):
            entry = find_entry(model)
            cells = (
                entry.shown_name if entry else model,
                format_bytes(entry.download_bytes) if entry else "?",
                "yes" if entry and (entry.gated or entry.extra_repos) else ("no" if entry else "?"),
                self.verdicts.get(model, "?") if self.verdicts else "",
                self._status_label(model),
            )
            for column, text in enumerate(cells):
                self.setItem(row, column, QTableWidgetItem(text))
            # The label is what people read; the name stays the row's key, and the repo id is shown on hover.
            self.item(row, NAME).setData(Qt.ItemDataRole.UserRole, model)
            self.item(row, NAME).setToolTip(entry.repo_id if entry else model)
            if entry and entry.extra_repos:
                self.item(row, GATED).setToolTip("Also needs " + ", ".join(entry.extra_repos) + " (gated: accept their licences on huggingface.co)")

    # -- reading ------------------------------------------------------------------------------

    def models(self) -> list[str]:
        return [self.item(row, NAME).data(Qt.ItemDataRole.UserRole) for row in range(self.rowCount())]

    def selected_model(self) -> str | None:
        rows = self.selectionModel().selectedRows()
        return self.item(rows[0].row(), NAME).data(Qt.ItemDataRole.UserRole) if rows else None

    def select(self, model: str) -> None:
        self.selectRow(self.models().index(model))

    def status_text(self, model: str) -> str:
        return self.item(self.models().index(model), STATUS).text()

    def state_of(self, model: str | None) -> str | None:
        """"ready", "partial", ... as the disk says, or None until it is read."""
        return getattr(self.states.get(model), "state", None)

    # -- drawing ------------------------------------------------------------------------------

    def set_verdicts(self, verdicts: dict[str, str]) -> None:
        self.verdicts = verdicts
        self._set_column(FITS, [(verdicts.get(model, "?"), None) for model in self.models()])

    def redraw_statuses(self) -> None:
        self._set_column(STATUS, [(self._status_label(model), self.packages_fix(model) or "") for model in self.models()])

    def _set_column(self, column: int, cells: list[tuple[str, str | None]]) -> None:
        """Each row's text (and tooltip, unless None) in `column`, as one change of the table.

        With the columns sized to their contents, every cell's change re-measured its column's
        every row: 111 cells cost the GUI thread 30-50 ms (xcb); one change for the column, ~1.5 ms.
        """
        model = self.model()
        blocked = model.blockSignals(True)
        try:
            for row, (text, tip) in enumerate(cells):
                self.item(row, column).setText(text)
                if tip is not None:
                    self.item(row, column).setToolTip(tip)
        finally:
            model.blockSignals(blocked)
        if cells:
            model.dataChanged.emit(model.index(0, column), model.index(len(cells) - 1, column))

    def set_packages(self, check) -> None:
        self.packages = check
        self.redraw_statuses()

    def packages_fix(self, model: str | None) -> str | None:
        """Why `model` would not load here and the command that fixes it, or None: its code imports nothing missing."""
        from videochat.models.catalog import find_entry
        from videochat.models.torch_pairs import TIMM_FAMILIES

        entry = find_entry(model) if model else None
        if self.packages is None or self.packages.ok or entry is None or entry.family not in TIMM_FAMILIES:
            return None
        return f"{self.packages.problem} in {self.packages.python}, which runs the models. Fix: {self.packages.fix}"

    def set_live(self, model: str, text: str | None) -> None:
        """What the download thread is doing with `model`; None: back to what the disk says."""
        if text is None:
            self._live.pop(model, None)
        else:
            self._live[model] = text
        if model in self.models():
            self.item(self.models().index(model), STATUS).setText(self._status_label(model))

    def _status_label(self, model: str) -> str:
        if model in self._live:
            return self._live[model]
        if model in self._queued():
            return "queued"
        state = self.states.get(model)
        if state is None:
            return "…"
        label = "ready · update available" if state.state == "ready" and model in self.updates else state.label
        return f"{label} · needs timm/torchvision" if self.packages_fix(model) else label


# -- what the table shows, read off the GUI thread ---------------------------------------------


def read_states(models: list[str]) -> dict[str, object]:
    """Each model's state on disk (videochat.models.on_disk's status)."""
    from videochat.models import on_disk as models_on_disk
    from videochat.models.catalog import find_entry

    return {model: models_on_disk.status(entry) if (entry := find_entry(model)) else models_on_disk.status_of_repo(model) for model in models}


def read_machine() -> tuple[object, object, dict[str, str]]:
    """(this machine's budget, the catalog entry recommended for it, catalog name -> whether it fits)."""
    from videochat.models.catalog import CATALOG
    from videochat.models.fit import fits, machine_budget, recommend

    budget = machine_budget()
    return budget, recommend(budget), {entry.name: fits(entry, budget).verdict for entry in CATALOG}


def read_packages():
    """Whether timm and torchvision import beside torch where the models run: a subprocess of the model process's
    interpreter (the window never imports torch), once per interpreter."""
    from desktop.threads.model_process import serve_command
    from videochat.models.torch_pairs import check_interpreter

    return check_interpreter(serve_command()[0])


def read_updates(models: list[str]) -> list[str]:
    """The models whose recorded commit is behind the hub's main (online only)."""
    from videochat.models import hub, on_disk as models_on_disk
    from videochat.models.catalog import find_entry

    hub.ensure_reachable()
    behind = []
    for model in models:
        entry = find_entry(model)
        if models_on_disk.update_available(entry.repo_id if entry else model):
            behind.append(model)
    return behind
