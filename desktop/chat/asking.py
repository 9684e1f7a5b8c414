"""Asking: a question from the chat pane becomes a request to the model thread, and its answer a turn.

The chat pane asks (`sig_ask_requested`, `sig_regenerate_requested`); this adds the player's file
and segment and the pane's settings, refuses in the core's words what the loaded model or the open
clip cannot take (nothing sent: no load, no decode), and records the question in the video's
session when it is sent and the answer when it ends, through the session keeper's
`SessionRecorder`, as `videochat ask` does; a failed answer forgets the question.

Regenerate asks the last answer's question again with the turns before it as the chat shows them
(not the answer it replaces, nor anything after), its frames and segment, and the pane's generation
settings; the new answer becomes the shown answer of the same turn (`Session.regenerated`), not a
new turn, and the old one stays among the turn's answers (the bubble's ‹ › arrows). A follow-up
on a conversation where a turn shows another of its answers is asked with the turns as shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from desktop.plain_text import one_line_name

LONGEST_STATUS = 1000  # characters of an error in the status bar: its whole sentence, never megabytes

if TYPE_CHECKING:
    from desktop.threads.model_worker import AskRequest
    from desktop.windows.main_window import MainWindow


class Asking(QObject):
    def __init__(self, window: MainWindow):
        super().__init__(window)
        self._window = window
        self.last_request: AskRequest | None = None  # for Regenerate, and where the answer goes
        # The first question after a video opens goes on from its saved conversation, or says why it cannot.
        self._starts_afresh = True
        self._regenerating: str | None = None  # the id of the turn whose new answer is being made

    def is_answering_open_video(self) -> bool:
        """Whether an answer is being made about the video open in the player."""
        worker, request = self._window.existing_worker, self.last_request
        return worker is not None and worker.is_busy and request is not None and self._window.is_current_video(request.video_path)

    def _on_video_opened(self, _info) -> None:
        self._starts_afresh = True

    def _on_ask_requested(self, question: str) -> None:
        window = self._window
        if window.player.info is None:
            window.chat.show_error("Open a video first (File ▸ Open, or drop a file on the window).")
            return
        if window.worker.loaded_ref is None:
            window.chat.show_error(window.model_loading.no_model_text())  # after an unload: which model, and how to load it again
            return
        if window.worker.batch_running:
            window.chat.show_error("The model is answering a batch (Tools ▸ Batch): ask when it has finished, or cancel it there.")
            return
        from desktop.threads.model_worker import AskRequest

        frames, segment = window.chat.frames(), window.player.segment()
        turns_before = self._shown_turns(frames, segment)
        self.send(AskRequest(Path(window.player.info.path), question, frames, segment, window.chat.settings(), turns_before=turns_before))

    def _shown_turns(self, frames: int, segment) -> tuple | None:
        """The turns a follow-up goes on from, as the chat shows them, when one of them was
        regenerated (it may show an answer the model did not give last); None: the model's own record."""
        window = self._window
        answered = [bubble for bubble in window.chat.answer_bubbles() if bubble.answer is not None]
        last = answered[-1].answer if answered else None
        ref = window.worker.loaded_ref
        if self._starts_afresh or last is None or (last.frames, last.segment) != (frames, segment) or ref is None or last.model != ref.display_name:
            return None
        turns = conversation(answered)
        return tuple((b.answer.question, b.answer.text) for b in turns) if any(len(b.answers) > 1 for b in turns) else None

    def _on_regenerate_requested(self) -> None:
        """A new answer to the last answer's question, in its place (see the module's docstring); a
        last answer that failed is asked again as it was."""
        window = self._window
        if window.worker.is_busy or window.player.info is None:
            return
        bubbles = window.chat.answer_bubbles()
        last = bubbles[-1] if bubbles else None
        if last is not None and last.answer is not None:
            from desktop.threads.model_worker import AskRequest

            answer, answered = last.answer, [bubble for bubble in bubbles if bubble.answer is not None]
            before = conversation(answered[:-1]) if answer.follow_up else []
            turns_before = tuple((bubble.answer.question, bubble.answer.text) for bubble in before)
            video = Path(window.player.info.path)
            self.send(AskRequest(video, answer.question, answer.frames, answer.segment, window.chat.settings(), turns_before=turns_before), regenerating=last)
        elif self.last_request is not None and window.is_current_video(self.last_request.video_path):
            self.send(self.last_request)  # the last answer failed: its request is the one to repeat

    def _on_alternative_chosen(self, turn_index: int, choice: int) -> None:
        """The chat shows another answer of a turn: the session shows it too (and exports it)."""
        if self._window.player.info is not None:
            self._window.sessions.change(self._window.player.info.path, lambda session: session.show_alternative(turn_index, choice))

    def send(self, request: AskRequest, regenerating=None) -> None:
        """Ask; `regenerating`: the answer bubble whose turn gets the new answer."""
        window = self._window
        refusal = self.refusal(request)
        if refusal is not None:
            window.chat.show_error(refusal)  # the question stays in the box, to ask again once changed
            return
        if self._starts_afresh:
            info = window.player.info if window.is_current_video(request.video_path) else None
            request, note = window.sessions.continued(request, window.worker.loaded_ref, info)
            if note:
                window.chat.show_note(note)
            self._starts_afresh = False
        self.last_request = request
        self._regenerating = regenerating.answer.id if regenerating is not None else None
        if regenerating is None:
            window.sessions.record_question(request.video_path, request.question)
            window.chat.begin_answer(request.question)
        else:  # its turn is answered already: nothing for a crash to bring back
            window.chat.begin_regenerate(regenerating)
        window.chat.set_busy(True)
        window.worker.ask(request)
        window.player.setFocus()  # the question is sent: the keys are the player's again

    def refusal(self, request: AskRequest) -> str | None:
        """Why the loaded model or the open clip cannot take this request, in the core's words; None
        if they can. Said here, before the model thread gets it: no model load, no decode.

        The frame control only takes the family's counts, but a repeated question (Regenerate) comes
        with the count and segment it was first asked with.
        """
        from videochat.errors import InvalidFrameCount, InvalidSegment
        from videochat.families import get_family  # loaded with the model by now

        ref, timeline = self._window.worker.loaded_ref, self._window.player.timeline
        try:
            if ref is not None and request.frames is not None:
                get_family(ref.family).check_frame_count(request.frames)
            if timeline is not None and request.segment is not None and self._window.is_current_video(request.video_path):
                timeline.frames_in(*request.segment)
        except (InvalidFrameCount, InvalidSegment) as error:
            return str(error)
        return None

    def _on_answer_finished(self, answer) -> None:
        window = self._window
        video = self.last_request.video_path
        turn_id, self._regenerating, answers = self._regenerating, None, None
        if turn_id is None:
            turn_index = window.sessions.record_answer(video, answer)
        else:
            turn_index, answers = window.sessions.change(video, lambda session: _regenerated(session, turn_id, answer)) or (None, None)
            import dataclasses  # loaded with the model worker's module by now

            answer = answers.shown_answer if answers is not None else dataclasses.replace(answer, id=turn_id)
        window.chat.set_busy(False)
        if not window.is_current_video(video):  # another video was opened meanwhile
            window.statusBar().showMessage(f"The answer about {one_line_name(video)} was saved with that video's conversation.", 8000)
            return
        window.chat.finish_answer(answer, turn_index=turn_index, answers=answers)
        window.player.set_answer_ticks(list(answer.times))

    def _on_answer_failed(self, error) -> None:
        window = self._window
        video = self.last_request.video_path
        regenerating, self._regenerating = self._regenerating is not None, None
        if not regenerating:
            window.sessions.forget_question(video)
        window.chat.set_busy(False)
        message = window.errors.message(error)
        if window.is_current_video(video):
            window.chat.fail_answer(message)
            from videochat.errors import ModelProcessEnded

            if isinstance(error, ModelProcessEnded) and not regenerating and not window.chat.question_box.toPlainText().strip():
                window.chat.question_box.setPlainText(self.last_request.question)  # as its message says: kept, to send again
        else:
            from videochat.safe_text import one_line

            window.statusBar().showMessage(f"The question about {one_line_name(video)} got no answer: {one_line(message, LONGEST_STATUS)}", 8000)


def conversation(bubbles: list) -> list:
    """The answer bubbles of the conversation the last one belongs to, in order: back to the turn
    that started it (one that was no follow-up)."""
    turns = []
    for bubble in reversed(bubbles):
        turns.insert(0, bubble)
        if not bubble.answer.follow_up:
            break
    return turns


def _regenerated(session, turn_id: str, answer) -> tuple | None:
    """(the turn's index, its answers) once `answer` is its shown answer; None if the session has no such turn."""
    index = session.regenerated(turn_id, answer)
    return None if index is None else (index, session.answers_of(index))
