"""The video's timeline notes as the user changes them: added over the in/out frames or the frame on
screen, made from an answer, edited (times kept within the clip), removed; each change goes into
the video's session through the session keeper and is drawn again in the notes panel and the
player's note spans."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

if TYPE_CHECKING:
    from desktop.windows.main_window import MainWindow


class NotesController(QObject):
    def __init__(self, window: MainWindow):
        super().__init__(window)
        self._window = window

    def show(self, session) -> None:
        """Draw `session`'s notes in the panel and on the player's scrub bar."""
        self._window.notes.set_notes(session.sorted_notes())
        self._window.player.set_note_spans([(note.start, note.end) for note in session.notes])

    def _on_video_opened(self, _info) -> None:
        # The video's own notes come with its session, read a moment later.
        self._window.notes.set_notes([])
        self._window.notes.set_enabled_for_video(True)

    def _change(self, change) -> None:
        window = self._window
        if window.player.info is None or window.sessions.current() is None:
            return
        window.sessions.change(window.player.info.path, change)
        self.show(window.sessions.current())

    def _on_note_requested(self, turn_index: int) -> None:
        timeline = self._window.player.timeline
        self._change(lambda session: session.note_from_answer(turn_index, timeline))

    def _on_answer_of_note_requested(self, answer_id: str) -> None:
        session = self._window.sessions.current()
        turn = next((i for i, answer in enumerate(session.turns) if answer.id == answer_id), None) if session else None
        if turn is not None:
            self._window.chat.show_answer(turn)

    def _on_note_added(self) -> None:
        # Over the in/out frames, else over the frame on screen: a span ends where its last frame does.
        player = self._window.player
        segment = player.segment()
        if segment is None and player.timeline is not None:
            segment = player.timeline.span(*(2 * [player.current_frame_index()]))
        if segment is None:
            return
        made = []
        self._change(lambda session: made.append(session.add_note(segment[0], segment[1], "")))
        if made:
            self._window.notes.edit_text(made[0].id)

    def _on_note_edited(self, note_id: str, start: float, end: float, text: str) -> None:
        timeline = self._window.player.timeline
        if timeline is not None:
            start, end = timeline.clamp_time(start), timeline.clamp_time(end)
        else:
            start, end = max(0.0, start), max(0.0, end)
        self._change(lambda session: session.edit_note(note_id, start=start, end=end, text=text))

    def _on_notes_removed(self, note_ids: list) -> None:
        def remove(session) -> None:
            for note_id in note_ids:
                session.remove_note(note_id)

        self._change(remove)
