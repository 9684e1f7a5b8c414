"""Asking: a question from the chat pane becomes a request to the model thread, and its answer a turn.

The chat pane asks (`sig_ask_requested`, `sig_regenerate_requested`); this adds the player's file
and segment and the pane's settings, refuses in the core's words what the loaded model or the open
clip cannot take (nothing sent: no load, no decode), and records the question in the video's
session when it is sent and the answer when it ends, through the session keeper's
`SessionRecorder`, as `videochat ask` does; a failed answer forgets the question.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from desktop.chat.pane import NO_MODEL_TEXT

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
            window.chat.show_error(NO_MODEL_TEXT)
            return
        if window.worker.batch_running:
            window.chat.show_error("The model is answering a batch (Tools ▸ Batch): ask when it has finished, or cancel it there.")
            return
        from desktop.threads.model_worker import AskRequest

        self.send(
            AskRequest(
                video_path=Path(window.player.info.path),
                question=question,
                frames=window.chat.frames(),
                segment=window.player.segment(),
                settings=window.chat.settings(),
            )
        )

    def _on_regenerate_requested(self) -> None:
        """Ask the last answer's question again, as it was asked (frames, segment, settings), about this video."""
        window = self._window
        if window.worker.is_busy or window.player.info is None:
            return
        bubbles = window.chat.answer_bubbles()
        answer = bubbles[-1].answer if bubbles else None
        video = Path(window.player.info.path)
        if answer is not None:
            from desktop.threads.model_worker import AskRequest
            from videochat.generation import GenerationSettings

            known = GenerationSettings.FIELDS
            settings = GenerationSettings(**{key: value for key, value in answer.settings.items() if key in known})
            self.send(AskRequest(video, answer.question, answer.frames, answer.segment, settings))
        elif self.last_request is not None and window.is_current_video(self.last_request.video_path):
            self.send(self.last_request)  # the last answer failed: its request is the one to repeat

    def send(self, request: AskRequest) -> None:
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
        window.sessions.record_question(request.video_path, request.question)
        window.chat.begin_answer(request.question)
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
        turn_index = window.sessions.record_answer(video, answer)
        window.chat.set_busy(False)
        if not window.is_current_video(video):  # another video was opened meanwhile
            window.statusBar().showMessage(f"The answer about {video.name} was saved with that video's conversation.", 8000)
            return
        window.chat.finish_answer(answer, turn_index=turn_index)
        window.player.set_answer_ticks(list(answer.times))

    def _on_answer_failed(self, error) -> None:
        window = self._window
        video = self.last_request.video_path
        window.sessions.forget_question(video)
        window.chat.set_busy(False)
        message = window.errors.message(error)
        if window.is_current_video(video):
            window.chat.fail_answer(message)
            from videochat.errors import ModelProcessEnded

            if isinstance(error, ModelProcessEnded) and not window.chat.question_box.toPlainText().strip():
                window.chat.question_box.setPlainText(self.last_request.question)  # as its message says: kept, to send again
        else:
            window.statusBar().showMessage(f"The question about {video.name} got no answer: {message}", 8000)
