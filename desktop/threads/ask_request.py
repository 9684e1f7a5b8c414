"""`AskRequest`: one question about one video, as the window hands it to the model thread."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from videochat.generation import GenerationSettings


@dataclass(frozen=True)
class AskRequest:
    """One question about one video; follow-ups on the same video and scope reuse its frames."""

    video_path: Path
    question: str
    frames: int | None = None  # None: the model's default
    segment: tuple[float, float] | None = None  # None: the whole clip
    settings: GenerationSettings | None = None  # None: the defaults
    new_conversation: bool = False  # forget earlier turns about this video
    # A saved conversation to go on from (the first question after its video opened): its (question,
    # answer) turns, and the frames they were about, by index and saved time; asked on those frames.
    history: tuple[tuple[str, str], ...] = ()
    frame_indices: tuple[int, ...] | None = None
    frame_times: tuple[float, ...] | None = None
    # Regenerate: exactly these (question, answer) turns before it, as the chat shows them; None: the conversation's own.
    turns_before: tuple[tuple[str, str], ...] | None = None
