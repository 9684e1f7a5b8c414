"""One video's conversation with the window's model process: `VideoChat`'s ask, answers and stop, over HTTP.

The request hands the model process the file (`file://`, granted first) with the frame count and
segment; the process samples with the family's rule and says which frames its model saw (the
stream's first chunk, and again in its last). The `Answer` is built from those frames and that
provenance exactly as an in-process answer was (no `engine`: it is the window's own model). A
follow-up on the same scope sends the earlier turns, which the process matches to the
conversation it keeps (frames and key/value cache reused); after a new process, it resumes from them.
A saved conversation (`resume`) goes on the same way, its questions sent with its frames' indices
and times (`frame_indices`, `frame_times`): the process prepares those very frames again and refuses
them, saying why, if the file changed; then the conversation starts afresh.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Callable

from videochat.engines.client import StreamEnd
from videochat.engines.errors import EngineError
from videochat.errors import Cancelled, ModelProcessEnded, UnreadableVideo

MAX_FRAMES = 4096
# The conversations of the last few videos asked about (the model process keeps their frames).
MAX_OPEN_VIDEOS = 3


class Conversations:
    """One `ProcessChat` per video, by resolved path, for the last `MAX_OPEN_VIDEOS` videos asked about."""

    def __init__(self, default_frames: int):
        self.default_frames = default_frames
        self._chats: OrderedDict[str, ProcessChat] = OrderedDict()

    def chat_for(self, path: Path) -> ProcessChat:
        key = str(Path(path).resolve())
        chat = self._chats.get(key)
        if chat is None:
            chat = self._chats[key] = ProcessChat(path, self.default_frames)
            while len(self._chats) > MAX_OPEN_VIDEOS:
                self._chats.popitem(last=False)
        self._chats.move_to_end(key)
        return chat


class ProcessChat:
    def __init__(self, video_path: Path, default_frames: int):
        self.video_path = Path(video_path)
        self.default_frames = default_frames
        self.answers: list = []
        self._scope: tuple | None = None
        self._history: list[tuple[str, str]] = []
        self._frames: tuple[list[int], list[float]] | None = None  # a saved conversation's frames, asked on again
        self._stopping = threading.Event()
        self._process = None

    def new_conversation(self) -> None:
        self._scope = None
        self._history = []
        self._frames = None

    def resume(self, history, frame_indices, frame_times, num_frames: int | None, segment) -> None:
        """Go on from a saved conversation: the next question on this scope has `history` ((question, answer)
        pairs) before it and is asked on the frames at `frame_indices` (checked against `frame_times`)."""
        num_frames = self.default_frames if num_frames is None else num_frames
        self._scope = (num_frames, tuple(segment) if segment else None)
        self._history = [(str(question), str(answer)) for question, answer in history]
        self._frames = (list(frame_indices), None if frame_times is None else list(frame_times))

    def ask(self, process, question: str, num_frames: int | None, segment, settings, on_frames: Callable[[int], None], on_piece: Callable[[str], None],
            turns_before=None, should_stop: Callable[[], bool] = lambda: False):
        """Stream the answer from `process` (a started `ModelProcess`); returns the `Answer`.

        `turns_before`: exactly the (question, answer) turns the model is given before this question, as
        the chat shows them (Regenerate: the turns before the regenerated one); None: this conversation's own.
        `should_stop`: the caller's record of a Stop meant for this answer, asked once this one's stop is
        reset (a `stop()` that came just before the reset would be lost with it).

        A stop before the process said which frames it uses is `Cancelled`; a stop after that ends the
        answer early and keeps it, marked stopped. The process ending meanwhile is `ModelProcessEnded`.
        """
        self._stopping.clear()
        self._process = process
        client = process.client
        client.reset_stop()
        question = question.strip()
        num_frames = self.default_frames if num_frames is None else num_frames
        scope = (num_frames, tuple(segment) if segment else None)
        follow_up = scope == self._scope
        frames = self._frames if follow_up else None  # a saved conversation's frames hold for its whole scope
        if turns_before is None:
            history = self._history if follow_up else []
        else:
            history, follow_up = [(str(asked), str(answered)) for asked, answered in turns_before], bool(turns_before)
        process.grant(self.video_path)
        if self._stopping.is_set() or should_stop():
            raise Cancelled("Stopped before the answer began.")
        body = request_body(self.video_path, history, question, num_frames, scope[1], settings, frames)
        end, pieces, asked_at = StreamEnd(), [], time.time()
        try:
            for piece in client.stream(body, end):
                if not pieces and end.video_frames is not None:
                    named = end.video_frames.get("indices")  # checked whole by `seen_frames` once the stream ends
                    on_frames(len(named) if isinstance(named, list) else 0)
                pieces.append(piece)
                on_piece(piece)
        except UnreadableVideo:
            if frames is not None:
                self.new_conversation()  # the saved frames are not this file's any more (its message says why)
            raise
        except (EngineError, OSError) as error:
            if process.died_within(1.0):
                raise ModelProcessEnded(process.ended_message("while it answered")) from None
            raise error
        stopped = end.stopped or self._stopping.is_set()
        if end.video_frames is None:
            if stopped:
                raise Cancelled("Stopped before the answer began.")
            if process.died_within(1.0):
                raise ModelProcessEnded(process.ended_message("while it answered"))
        indices, times = seen_frames(end)
        text = "".join(pieces)
        self._scope, self._history, self._frames = scope, [*history, (question, text)], frames
        self.answers.append(make_answer(question, text, stopped, indices, times, end.videochat or {}, num_frames, scope[1], settings, asked_at,
                                        follow_up, model_times=end.model_times(len(indices))))
        return self.answers[-1]

    def stop(self) -> None:
        """From any thread: close the answer's stream now (the process stops generating within a token)."""
        self._stopping.set()
        process = self._process
        if process is not None and process.client is not None:
            process.client.stop()


def request_body(video_path: Path, history, question: str, num_frames: int, segment, settings, frames=None) -> dict:
    """The chat request; `frames`: (indices, times or None) of a saved conversation, asked on again."""
    url = Path(video_path).resolve().as_uri()
    turns = [*history, (question, None)]
    messages = []
    for number, (asked, answered) in enumerate(turns):
        content = [{"type": "video_url", "video_url": {"url": url}}, {"type": "text", "text": asked}] if number == 0 else asked
        messages.append({"role": "user", "content": content})
        if answered is not None:
            messages.append({"role": "assistant", "content": answered})
    body = {
        "messages": messages, "num_frames": num_frames, "segment": list(segment) if segment else None,
        "max_tokens": settings.max_new_tokens, "temperature": settings.temperature, "top_p": settings.top_p,
        "repetition_penalty": settings.repetition_penalty,
    }
    if frames is not None:
        body["frame_indices"], body["frame_times"] = frames
    return body


def seen_frames(end: StreamEnd) -> tuple[list[int], list[float]]:
    """The frames the process says its model saw, checked: indices and times (finite, not before 0), one each."""
    frames = end.video_frames or {}
    indices, times = frames.get("indices"), frames.get("times")
    valid = (
        isinstance(indices, list) and isinstance(times, list) and 0 < len(indices) == len(times) <= MAX_FRAMES
        and all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in indices)
        and all(isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t) and t >= 0 for t in times)
    )
    if not valid:
        raise EngineError("The model process did not say which frames its model saw.", "internal_error", 502)
    return list(indices), [round(float(t), 6) for t in times]


def make_answer(question, text, stopped, indices, times, provenance: dict, num_frames, segment, settings, asked_at, follow_up, model_times=None):
    """The `Answer`; `model_times`: the times the model was told, where the process says they are not `times` (checked: `StreamEnd.model_times`)."""
    from videochat.chat import Answer

    def reported(key: str, kind, default):
        value = provenance.get(key)
        return value if isinstance(value, kind) and not isinstance(value, bool) else default

    return Answer(
        question=question, text=text, stopped=stopped or provenance.get("stopped") is True, indices=indices, times=times,
        model=reported("model", str, ""), revision=reported("revision", str, None), family=reported("family", str, ""),
        frames=reported("frames", int, num_frames), segment=segment, settings=settings.as_dict(),
        device=reported("device", str, ""), precision=reported("precision", str, ""),
        asked_at=asked_at, follow_up=follow_up, answered_at=time.time(), model_times=model_times,
    )
