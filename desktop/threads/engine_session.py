"""A model on a server, as the model thread drives it: connect, ask, stop and batch, with no child process.

The model worker hands a load whose name is an `engine_choice` (a served model picked in the model
list) to `EngineSession.connect`, and then every question and batch while it is loaded. Everything
here runs on the model thread; the GUI thread only reaches `stop()` of the running chat. The app
samples and decodes the frames itself and sends them in the server's form (`videochat.engines.remote`),
so each answer carries the true times of the frames sent, the served model and the server's address
(never a key: the client sends the one stored for that address, `engines/keys.py`). The stored key
is read again at the start of each question and batch, so a key changed in "Servers…" while the
model is loaded is the one sent from the next request on (a server whose key was changed refuses
the old one; reconnecting would end the conversation for nothing). An answer or batch running then
goes on with the key it started with.

`EngineRef` stands where the worker's `ModelRef` stands for a local model: the window reads the
same fields (name, family, default frames, source to choose it again), plus `notes` (what the user
should know about the server, e.g. a vLLM older than a form needs). Its `key` is the CLI's
`engine:<model>`, so a batch's results file is resumed by `videochat batch --engine` and back.
"""

from __future__ import annotations

from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

CONNECT_TIMEOUT_S = 10.0
MAX_OPEN_VIDEOS = 3  # as the model process: the conversations (and open files) of the last few videos


def key_refused_text(address: str, key: str | None) -> str:
    """A server's refusal of its key in the window's words (the client's name the CLI's options)."""
    given = "refused the key given" if key else "needs an API key"
    return f"{address} {given}: choose “Servers…” in the model list, then “Change key…”."


@contextmanager
def _key_refusal_in_the_windows_words(address: str, key: str | None):
    from videochat.engines.errors import EngineError

    try:
        yield
    except EngineError as error:
        if error.code != "invalid_api_key":
            raise
        raise EngineError(key_refused_text(address, key), error.code, error.status) from None


@dataclass(frozen=True)
class EngineRef:
    """The loaded served model, with the fields the window reads from a `ModelRef`."""

    source: str  # the engine choice: chosen again by it, and kept as the settings' last model
    address: str
    model_id: str
    family: str
    default_frames: int
    notes: tuple[str, ...] = ()
    backend: str = "engine"
    revision: str | None = None
    entry: None = None  # no catalog entry: no HD twin, no catalog code
    local_folder: None = None

    @property
    def display_name(self) -> str:
        from videochat.engines.servers import served_label

        return served_label(self.model_id, self.address)

    @property
    def shown_name(self) -> str:
        """As `ModelRef.shown_name`: a server's model id is outside text."""
        from videochat.safe_text import one_line

        return one_line(self.display_name)

    @property
    def batch_source(self) -> str:
        """What a results line records as its model source: the CLI's, whichever port the server has today."""
        return f"engine:{self.model_id}"

    @property
    def key(self) -> tuple[str, str, str | None]:
        from videochat.models.resolve import model_key

        return model_key(self.batch_source, None)


class EngineSession:
    def __init__(self, engine, ref: EngineRef):
        self.engine = engine  # videochat.engines.remote.EngineModel
        self.ref = ref
        self._chats: OrderedDict[str, tuple] = OrderedDict()  # resolved path -> (VideoSource, EngineChat)

    @staticmethod
    def names_engine(model: str) -> bool:
        from videochat.engines.servers import parse_engine_choice

        return parse_engine_choice(model) is not None

    @classmethod
    def connect(cls, choice: str, post: Callable[[str, object], None]) -> EngineSession:
        """Ask the server what it serves and how it takes frames; `post` gets the load progress."""
        from videochat.engines.client import EngineClient
        from videochat.engines.keys import stored_key
        from videochat.engines.remote import EngineModel
        from videochat.engines.servers import parse_engine_choice

        address, model_id = parse_engine_choice(choice)
        post("load_progress", (f"Connecting to {address}", 0.0))
        client = EngineClient(address, stored_key(address), connect_timeout=CONNECT_TIMEOUT_S)
        with _key_refusal_in_the_windows_words(address, client.api_key):
            engine = EngineModel.connect(client, model_id)
        post("load_progress", (f"Connected to {address}", 1.0))
        ref = EngineRef(choice, address, engine.model_id, engine.family.name, engine.default_frames, tuple(engine.notes))
        return cls(engine, ref)

    def answer(self, request, stopped: Callable[[], bool], on_chat: Callable[[object], None], post, add_text: Callable[[str], None]):
        """Stream the answer to an `AskRequest`; returns the `Answer` (stopped if Stop closed the stream)."""
        self._use_stored_key()
        with _key_refusal_in_the_windows_words(self.ref.address, self.engine.client.api_key):
            return self._answer(request, stopped, on_chat, post, add_text)

    def _answer(self, request, stopped, on_chat, post, add_text):
        from videochat.errors import Cancelled
        from videochat.generation import GenerationSettings

        chat = self._chat_for(request.video_path)
        if request.new_conversation:
            chat.new_conversation()
        on_chat(chat)
        if stopped():
            raise Cancelled("Stopped before the answer began.")
        pieces = chat.ask(
            request.question, request.frames, request.segment, request.settings or GenerationSettings(),
            progress=lambda done, total: post("frames_progress", (done, total)),
        )
        for piece in pieces:
            if stopped():  # a Stop that came before the chat was known to the GUI thread
                chat.stop()
            add_text(piece)
        return chat.answers[-1]

    def run_batch(self, plan, settings, on_event, should_stop):
        """Tools ▸ Batch on the server: `videochat batch --engine`'s run, `DEFAULT_CONCURRENCY` questions in flight."""
        from videochat.batch.concurrent import run_engine_batch

        self._use_stored_key()
        self.engine.check_frame_count(plan.frames if plan.frames is not None else self.engine.default_frames)
        with _key_refusal_in_the_windows_words(self.ref.address, self.engine.client.api_key):
            return run_engine_batch(self.engine, plan, settings, on_event=on_event, should_stop=should_stop)

    def _use_stored_key(self) -> None:
        """The key stored for the server now (changed, or deleted, since the connect): sent from this request on."""
        from videochat.engines.keys import stored_key

        self.engine.client.api_key = stored_key(self.ref.address)

    def _chat_for(self, path: Path):
        from videochat.engines.remote import EngineChat
        from videochat.video.source import VideoSource

        key = str(Path(path).resolve())
        if key not in self._chats:
            source = VideoSource.open(path)
            self._chats[key] = (source, EngineChat(source, self.engine))
            while len(self._chats) > MAX_OPEN_VIDEOS:
                self._chats.popitem(last=False)[1][0].close()
        self._chats.move_to_end(key)
        return self._chats[key][1]

    def close(self) -> None:
        """Stop any stream and close the videos (unload, another model, shutdown)."""
        self.engine.client.stop()
        while self._chats:
            self._chats.popitem()[1][0].close()
