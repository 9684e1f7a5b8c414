"""The timeline notes under the player: typing a new note at once, a note's whole answer one click away, a taller panel."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, QRect, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView, QApplication, QSplitter

from desktop.session.notes_panel import TEXT
from desktop.player.probes import probes
from tests.support.main_window import WAIT_MS, make_window, open_and_wait_for_session
from tests.support.sessions import saved
from videochat.chat import Answer
from videochat.sessions.sentences import first_sentence
from videochat.sessions.session import Session, VideoIdentity
from videochat.sessions.store import SessionStore


@pytest.fixture
def window(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    window.activateWindow()
    qtbot.waitActive(window)
    yield window
    window.shutdown()


def answer(question: str, text: str, times: list[float]) -> Answer:
    return Answer(
        question=question, text=text, stopped=False, indices=[round(t * 30) for t in times], times=times,
        model="Tiny", revision=None, family="native", frames=len(times), segment=None,
        settings={}, device="cpu", precision="float32", asked_at=1_700_000_000.5, follow_up=False,
    )  # fmt: skip


def add_note(qtbot, window):
    """Click Add and wait for the editor of the new note's text."""
    QTest.mouseClick(window.notes.add_button, Qt.MouseButton.LeftButton)
    table = window.notes.table
    qtbot.waitUntil(lambda: table.state() == QAbstractItemView.State.EditingState, timeout=WAIT_MS)
    return table, QApplication.focusWidget()


class PaintCounter(QObject):
    def __init__(self, widget):
        super().__init__(widget)
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        self.count += event.type() == QEvent.Type.Paint
        return False


def in_view(widget, viewport, whole: bool = False) -> bool:
    rect = QRect(widget.mapTo(viewport, QPoint(0, 0)), widget.size())
    return viewport.rect().contains(rect) if whole else viewport.rect().intersects(rect)


def test_add_scrolls_to_the_new_note_and_opens_its_text_for_typing_and_enter_keeps_it(qtbot, window, clips):
    clip = clips("long_gop.mp4")
    open_and_wait_for_session(qtbot, window, clip)
    window.sessions.change(clip, lambda session: [session.add_note(0.1 * n, 0.1 * n, f"earlier note {n}") for n in range(30)])
    window.notes_control.show(window.sessions.current())
    window.player.set_in_point(4.0)
    window.player.set_out_point(4.5)

    table, editor = add_note(qtbot, window)
    notes = window.notes.notes()
    row = [note.text for note in notes].index("")
    assert (notes[row].start, notes[row].end) == (4.0, 4.5) and row == len(notes) - 1
    assert (table.currentRow(), table.currentColumn()) == (row, TEXT)
    assert table.viewport().rect().contains(table.visualItemRect(table.item(row, TEXT)))  # scrolled to it
    assert table.verticalScrollBar().value() > 0

    QTest.keyClicks(editor, "The door opens")
    QTest.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.notes.notes()[row].text == "The door opens", timeout=WAIT_MS)
    assert window.sessions.flush(5.0)
    assert "The door opens" in [note.text for note in saved(clip).notes]


def test_escape_leaves_an_added_note_as_it_was_made(qtbot, window, clips):
    clip = clips("long_gop.mp4")
    open_and_wait_for_session(qtbot, window, clip)
    window.player.set_in_point(1.0)
    window.player.set_out_point(2.0)

    table, editor = add_note(qtbot, window)
    QTest.keyClicks(editor, "half a thought")
    QTest.keyClick(editor, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: table.state() != QAbstractItemView.State.EditingState, timeout=WAIT_MS)
    qtbot.wait(50)  # an edit, had there been one, is applied at the next turn of the event loop
    [note] = window.notes.notes()
    assert (note.start, note.end, note.text) == (1.0, 2.0, "") and table.item(0, TEXT).text() == ""
    assert window.sessions.flush(5.0) and [n.text for n in saved(clip).notes] == [""]


LONG_ANSWER = " ".join(f"Sentence {n} of this answer describes the clip at length, detail after detail." for n in range(1, 12))


def test_a_note_from_an_answer_says_its_first_sentence_and_a_click_shows_the_whole_answer_in_the_chat(qtbot, window, clips):
    clip = clips("long_gop.mp4")
    identity = VideoIdentity.of(probes.info(clip))
    session = Session(identity)
    for turn in range(6):
        session.add_answer(answer(f"Question {turn}?", f"Answer {turn}. {LONG_ANSWER}", [0.5 * turn, 0.5 * turn + 0.2]))
    made = session.note_from_answer(1)
    session.add_note(4.0, 4.5, "typed by hand")
    SessionStore().save(session)

    open_and_wait_for_session(qtbot, window, clip)
    chat = window.chat
    bubbles = {bubble.turn_index: bubble for bubble in chat.answer_bubbles()}
    viewport = chat.scroll.viewport()
    chat.scroll.verticalScrollBar().setValue(chat.scroll.verticalScrollBar().maximum())
    qtbot.waitUntil(lambda: not in_view(bubbles[1], viewport), timeout=WAIT_MS)

    notes = window.notes.notes()
    row = [note.id for note in notes].index(made.id)
    assert notes[row].text == first_sentence(session.turns[1].text) == "Answer 1."
    assert bubbles[1].text == session.turns[1].text  # the whole answer, in the chat
    table = window.notes.table
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualItemRect(table.item(row, TEXT)).center())
    qtbot.waitUntil(lambda: in_view(bubbles[1], viewport), timeout=WAIT_MS)
    assert chat._selected is bubbles[1] and window.player.answer_ticks == pytest.approx(session.turns[1].times)
    question = chat.bubbles()[chat.bubbles().index(bubbles[1]) - 1]
    assert in_view(question, viewport, whole=True)  # what it answers, too

    # The context menu has the same entry; a note typed by hand has no answer to show.
    chat.scroll.verticalScrollBar().setValue(chat.scroll.verticalScrollBar().maximum())
    qtbot.waitUntil(lambda: not in_view(bubbles[1], viewport), timeout=WAIT_MS)
    [show, _delete] = window.notes.context_menu(row).actions()
    show.trigger()
    qtbot.waitUntil(lambda: in_view(bubbles[1], viewport), timeout=WAIT_MS)
    by_hand = [note.text for note in notes].index("typed by hand")
    assert not window.notes.context_menu(by_hand).actions()[0].isEnabled()


def test_showing_an_answer_already_in_view_repaints_its_selection(qtbot, window, clips):
    clip = clips("long_gop.mp4")
    session = Session(VideoIdentity.of(probes.info(clip)))
    for turn in range(2):
        session.add_answer(answer(f"Question {turn}?", f"Answer {turn}.", [0.5 * turn]))
    session.note_from_answer(0)
    SessionStore().save(session)
    open_and_wait_for_session(qtbot, window, clip)
    first = window.chat.answer_bubbles()[0]
    qtbot.waitUntil(lambda: in_view(first, window.chat.scroll.viewport(), whole=True), timeout=WAIT_MS)
    qtbot.wait(100)  # the restored chat has painted
    paints = PaintCounter(first)
    table = window.notes.table
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualItemRect(table.item(0, TEXT)).center())
    assert window.chat._selected is first
    qtbot.waitUntil(lambda: paints.count > 0, timeout=WAIT_MS)


def test_the_notes_panel_can_be_dragged_taller_than_the_player(qtbot, window, clips):
    open_and_wait_for_session(qtbot, window, clips("long_gop.mp4"))
    splitter = window.notes.parentWidget()
    assert isinstance(splitter, QSplitter) and splitter.orientation() == Qt.Orientation.Vertical
    assert window.notes.height() < window.player.height()
    handle = splitter.handle(1)
    centre = handle.rect().center()
    QTest.mousePress(handle, Qt.MouseButton.LeftButton, pos=centre)
    QTest.mouseMove(handle, centre - QPoint(0, 450))
    QTest.mouseRelease(handle, Qt.MouseButton.LeftButton, pos=centre - QPoint(0, 450))
    qtbot.waitUntil(lambda: window.notes.height() > window.player.height(), timeout=WAIT_MS)


def test_a_note_that_looks_like_markup_shows_as_typed_in_its_tooltip(qtbot):
    """Qt draws a tooltip that looks like markup as HTML: a note `<img src=file:///…>` (from a session
    file, or just typed) would show a local image and hide its text."""
    from PySide6.QtGui import Qt as GuiQt, QTextDocument

    from desktop.session.notes_panel import NotesPanel
    from videochat.sessions.session import Note

    panel = NotesPanel()
    qtbot.addWidget(panel)
    text = "<img src='file:///etc/hostname'> <b>keep</b> 1 < 2"
    panel.set_notes([Note(start=0.0, end=1.0, text=text)])
    tip = panel.table.item(0, TEXT).toolTip()
    shown = QTextDocument()
    shown.setHtml(tip) if GuiQt.mightBeRichText(tip) else shown.setPlainText(tip)
    assert shown.toPlainText() == text
