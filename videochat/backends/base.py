"""The one interface every model family's backend implements, and what it trades in.

A backend owns one loaded model. The caller (the CLI, or the desktop's model thread) loads
it, starts a conversation on a `PreparedVideo`, and streams answers; follow-up questions in
the same conversation reuse the prepared frames (and, where the family allows, the key/value
cache of everything said so far). `cancel()` may be called from any thread.
"""

from __future__ import annotations

import threading
import weakref
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterator

from videochat.errors import InvalidQuestion, ModelError
from videochat.generation import GenerationSettings
from videochat.safe_text import one_line

if TYPE_CHECKING:
    from videochat.models.resolve import ModelRef
    from videochat.frames.pipeline import PreparedVideo

Progress = Callable[[str, float], None]  # (what is happening, fraction done 0..1)


@dataclass(frozen=True)
class LoadOptions:
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    precision: str = "auto"  # auto | float32 | bfloat16 | float16 | 8bit | 4bit
    trust_remote_code: bool = False  # the user's yes to whatever code the model has (the CLI's --trust-remote-code)
    approved_code: str | None = None  # the user's yes to the code of this digest only (the desktop's dialog showed it)
    attention: str = "auto"  # auto | flash | sdpa | eager


@dataclass(frozen=True)
class Capabilities:
    streaming: bool = True
    multi_turn: bool = True
    reuses_kv_cache: bool = False  # follow-ups skip re-reading the video and earlier turns
    quantization: tuple[str, ...] = ()  # "8bit", "4bit" where the card allows them


@dataclass
class Turn:
    question: str
    answer: str
    stopped: bool = False  # the user stopped it: the answer is partial


@dataclass(eq=False)  # compared by identity: the backend keeps a weak set of them
class Conversation:
    """One video's exchange with one loaded model; `state` belongs to the backend."""

    prepared: PreparedVideo
    turns: list[Turn] = field(default_factory=list)
    state: Any = None


class Backend(ABC):
    name: ClassVar[str]
    capabilities: ClassVar[Capabilities] = Capabilities()
    # Text the model's prompt code reads as the place of a picture or video, on top of the tokenizer's special tokens.
    media_markers: ClassVar[tuple[str, ...]] = ()

    def __init__(self, ref: ModelRef, options: LoadOptions = LoadOptions()):
        self.ref = ref
        self.options = options
        self._stop = threading.Event()
        self.model = None  # set by load()
        self.device = None
        self.dtype = None
        self._conversations: weakref.WeakSet[Conversation] = weakref.WeakSet()

    @abstractmethod
    def load(self, progress: Progress | None = None) -> None:
        """Load weights and tokenizer/processor; raise typed errors (see videochat.errors)."""

    def start(self, prepared: PreparedVideo) -> Conversation:
        conversation = Conversation(prepared)
        self._conversations.add(conversation)
        return conversation

    def resume(self, prepared: PreparedVideo, turns: list[Turn]) -> Conversation:
        """A conversation on `prepared` that goes on from `turns` (said elsewhere: a saved conversation,
        or the history a client of `videochat serve` sends); the next question sees them as its history."""
        conversation = self.start(prepared)
        conversation.turns = list(turns)
        return conversation

    def _require_loaded(self) -> None:
        if self.model is None:
            raise ModelError(f"{self.ref.display_name} is not loaded: load it first.")

    @property
    def tokenizer_for_text(self):
        """The loaded tokenizer (None before load): its special tokens may not appear in a question."""
        return None

    def question_marks(self) -> tuple[str, ...]:
        """What a question may not hold: the prompt code's media markers and the tokenizer's special tokens."""
        tokenizer = self.tokenizer_for_text
        special = [token for token in getattr(tokenizer, "all_special_tokens", ()) if isinstance(token, str) and len(token) > 1]
        return (*self.media_markers, *special)

    def check_question(self, question: str) -> str:
        """The question, stripped; an `InvalidQuestion` when it is empty or holds a marker the prompt code would misread."""
        return check_question_text(question, self.question_marks(), self.ref.display_name)

    @abstractmethod
    def stream(self, conversation: Conversation, question: str, settings: GenerationSettings = GenerationSettings()) -> Iterator[str]:
        """Yield the answer in pieces; when done (or stopped), the turn is in `conversation.turns`."""

    def model_times(self, conversation: Conversation) -> list[float] | None:
        """The time the model was told for each frame where it differs from the frame's true time by more than
        0.05 s (Qwen2.5-VL on variable-rate video reads evenly spaced times); None where it read the true times or none."""
        return None

    def cancel(self) -> None:
        """Stop the answer being generated within one token; the partial answer is kept."""
        self._stop.set()

    def unload(self) -> None:
        """Drop the model and free its memory, including what conversations hold on its device.

        The conversations stay usable: after the next load, their turns and frames are still there.
        """
        for conversation in list(self._conversations):
            self._forget_device_state(conversation)
        self._release()

    def _forget_device_state(self, conversation: Conversation) -> None:
        conversation.state = None

    @abstractmethod
    def _release(self) -> None:
        """Drop the model, tokenizer or processor, and free the memory they held."""


def check_question_text(question: str, marks, model_name: str) -> str:
    """The question, stripped; an `InvalidQuestion` when it is empty or holds one of `marks`
    (`Backend.question_marks`), which `model_name` would read as a control mark."""
    text = question.strip()
    if not text:
        raise InvalidQuestion("The question is empty: type what you want to know about the video.")
    for marker in marks:
        if marker in text:
            raise InvalidQuestion(f"The question contains {marker}, which {one_line(model_name)} reads as a control mark, not as text: ask it without that mark.")
    return text
