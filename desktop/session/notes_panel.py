"""Timeline notes under the player: a span of the video with a text, made from an answer, edited here.

A view over the session's notes: it shows what it is given and turns edits into signals;
the main window applies them to the session (which saves it) and hands the notes back.
A note made from an answer says the answer's first sentence; a click on it (or its context
menu's "Show the whole answer") asks for the whole answer, which the chat scrolls to and selects.
The table appears with the first note; until then a line says how to make one. (Qt's item
views are also the costliest widgets to import, so the window's start-up does without them.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.plain_text import tooltip
from videochat.video.timecode import format_time, parse_time

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMenu, QTableWidget, QTableWidgetItem

IN, OUT, TEXT = range(3)
EMPTY_TEXT = "No timeline notes yet. “Note” on an answer makes one over the frames it saw; “Add” makes one over the marked segment."
FROM_ANSWER_TIP = "Made from an answer: click the note to see the whole answer in the chat."


class NotesPanel(QWidget):
    sig_seek_requested = Signal(float)
    sig_note_edited = Signal(str, float, float, str)  # (note id, start, end, text)
    sig_remove_requested = Signal(list)  # note ids
    sig_add_requested = Signal()
    sig_answer_requested = Signal(str)  # the id of the turn a note was made from: show the whole answer

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._notes: list = []
        self._filling = False
        self.table: QTableWidget | None = None  # made with the first note: see _make_table

        self.status = QLabel(EMPTY_TEXT)
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # a problem it shows may name a file
        self.status.setWordWrap(True)
        self.status.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.add_button = QPushButton("Add")
        self.add_button.setToolTip("A note over the marked segment (I/O), or at the current frame")
        self.add_button.clicked.connect(self.sig_add_requested)
        self.add_button.setEnabled(False)
        self.remove_button = QPushButton("Delete")
        self.remove_button.clicked.connect(self._on_remove_clicked)
        self.remove_button.setEnabled(False)

        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("<b>Timeline notes</b>"))
        buttons.addStretch(1)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(9, 0, 9, 9)  # in line with the player's controls above
        self._layout.addLayout(buttons)
        self._layout.addWidget(self.status, 1)

    def _make_table(self) -> QTableWidget:
        from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget

        table = QTableWidget(0, 3)
        table.setHorizontalHeaderLabels(["In", "Out", "Note"])
        table.verticalHeader().hide()
        header = table.horizontalHeader()
        header.setSectionResizeMode(IN, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(OUT, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(TEXT, QHeaderView.ResizeMode.Stretch)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed)
        table.setWordWrap(True)
        table.itemChanged.connect(self._on_item_changed)
        table.cellClicked.connect(self._on_cell_clicked)
        table.itemSelectionChanged.connect(self._update_buttons)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._on_context_menu_requested)
        self._layout.setStretchFactor(self.status, 0)
        self._layout.addWidget(table, 1)
        return table

    def set_enabled_for_video(self, enabled: bool) -> None:
        self.add_button.setEnabled(enabled)

    def set_notes(self, notes: list) -> None:
        """Show these notes (`videochat.sessions.session.Note`) in the order given; selection kept by id."""
        selected = set(self.selected_ids())
        self._notes = list(notes)
        if self.table is None:
            if not self._notes:
                self._show_status(EMPTY_TEXT)
                return
            self.table = self._make_table()
        from PySide6.QtWidgets import QTableWidgetItem

        self._filling = True
        self.table.setRowCount(len(self._notes))
        for row, note in enumerate(self._notes):
            for column, text in ((IN, format_time(note.start)), (OUT, format_time(note.end)), (TEXT, note.text)):
                item = QTableWidgetItem(text)
                if column == TEXT:
                    item.setToolTip(tooltip(note.text if note.answer_id is None else f"{note.text}\n\n{FROM_ANSWER_TIP}".strip()))
                self.table.setItem(row, column, item)
            if note.id in selected:
                self.table.selectRow(row)
        self.table.resizeRowsToContents()
        self.table.setVisible(bool(self._notes))
        self._filling = False
        self._show_status("" if self._notes else EMPTY_TEXT)

    def _show_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))
        self._update_buttons()

    def notes(self) -> list:
        return list(self._notes)

    def edit_text(self, note_id: str) -> None:
        """Scroll to the note and open its text for typing: Enter keeps what was typed, Esc leaves the note as it is."""
        rows = [row for row, note in enumerate(self._notes) if note.id == note_id]
        if self.table is None or not rows:
            return
        item = self.table.item(rows[0], TEXT)
        self.table.setCurrentItem(item)
        self.table.scrollToItem(item)
        self.table.setFocus()
        self.table.editItem(item)

    def selected_ids(self) -> list[str]:
        if self.table is None:
            return []
        rows = sorted({index.row() for index in self.table.selectedIndexes()})
        return [self._notes[row].id for row in rows if row < len(self._notes)]

    def show_problem(self, message: str) -> None:
        self.status.setText(message)
        self.status.setVisible(True)

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling:
            return
        note = self._notes[item.row()]
        start, end, text, typed = note.start, note.end, note.text, item.text()
        # The table is redrawn after this returns: redrawing inside Qt's own edit deletes the item it edits.
        try:
            if item.column() == IN:
                start = parse_time(typed)
            elif item.column() == OUT:
                end = parse_time(typed)
            else:
                text = typed
        except ValueError:
            QTimer.singleShot(0, lambda: self._refuse(f"“{typed}” is not a time: write it as h:mm:ss.mmm, m:ss or seconds."))
            return
        if start > end:
            which = f"in point must come before the out point ({format_time(end)})" if item.column() == IN else f"out point must come after the in point ({format_time(start)})"
            QTimer.singleShot(0, lambda: self._refuse(f"The {which}."))
            return
        QTimer.singleShot(0, lambda: self.sig_note_edited.emit(note.id, start, end, text))

    def _refuse(self, message: str) -> None:
        self.set_notes(self._notes)  # back to what it was
        self.show_problem(message)

    def _on_cell_clicked(self, row: int, column: int) -> None:
        if 0 <= row < len(self._notes):
            note = self._notes[row]
            self.sig_seek_requested.emit(note.end if column == OUT else note.start)
            if note.answer_id is not None:
                self.sig_answer_requested.emit(note.answer_id)

    def context_menu(self, row: int) -> QMenu:
        """The menu of a note's row: its whole answer (for a note made from one), Delete."""
        from PySide6.QtWidgets import QMenu

        menu = QMenu(self)
        note = self._notes[row]
        show = menu.addAction("Show the whole answer")
        show.setEnabled(note.answer_id is not None)
        show.triggered.connect(lambda: self.sig_answer_requested.emit(note.answer_id))
        menu.addAction("Delete").triggered.connect(lambda: self.sig_remove_requested.emit([note.id]))
        return menu

    def _on_context_menu_requested(self, position: QPoint) -> None:
        row = self.table.rowAt(position.y())
        if 0 <= row < len(self._notes):
            menu = self.context_menu(row)
            menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            menu.popup(self.table.viewport().mapToGlobal(position))

    def _on_remove_clicked(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.sig_remove_requested.emit(ids)

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(bool(self.selected_ids()))
