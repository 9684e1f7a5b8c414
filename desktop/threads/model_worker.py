"""The model thread: one long-lived thread talks to the window's model process and runs every request in order.

The model runs in a child process (`model_process`: `videochat serve` on loopback), started at a load,
ended at an unload or the next load, and asked questions through `process_chat`; torch and
transformers are never imported here. A process that died fails the answer with `ModelProcessEnded`;
the next question starts a new one. A model on a server has no process (`engine_session`).
The GUI thread only enqueues requests and receives signals; it never waits. A Python daemon thread,
not a QThread (one still running when its object is destroyed aborts the process). `shutdown()`
closes the stream, ends the process, and joins for at most `timeout_s`. The thread reports through
one queued private signal, whose public signals are emitted on the GUI thread; streamed text is
coalesced (a `Throttler`): at most one `sig_text` every `TEXT_INTERVAL_MS`, flushed before the end.
"""

from __future__ import annotations

import itertools
import queue
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal

from desktop.threads.ask_request import AskRequest  # noqa: F401 (imported from here by the window)
from desktop.threads.background import drain
from desktop.threads.engine_session import EngineSession
from desktop.threads.throttle import Throttler
from videochat.safe_text import one_line

if TYPE_CHECKING:
    from videochat.generation import GenerationSettings

TEXT_INTERVAL_MS = 30
NO_MODEL_MESSAGE = "No model is loaded: choose a model and wait until it is ready, then ask again."


@dataclass(frozen=True)
class _Job:
    kind: str  # "load" | "unload" | "ask" | "find_models" | "batch"
    seq: int
    payload: object = None


_SHUTDOWN = object()
_RELAYED = {"load_progress": True, "load_failed": False, "models_found": False, "answer_started": False, "frames_progress": True, "batch_event": False}


class ModelWorker(QObject):
    sig_load_progress = Signal(str, float)  # (what is happening, fraction 0..1)
    sig_loaded = Signal(object)  # videochat.models.resolve.ModelRef
    sig_load_failed = Signal(object)  # the exception; videochat.errors.* carry a message for the user
    sig_unloaded = Signal()  # the loaded model was dropped (unload, or before loading another)
    sig_models_found = Signal(list)  # [(label, repo id)]: the catalog models in the Hugging Face cache
    sig_answer_started = Signal(object)  # AskRequest
    sig_frames_progress = Signal(int, int)  # (frames prepared, frames wanted)
    sig_text = Signal(str)  # the next piece of the answer (coalesced)
    sig_answer_finished = Signal(object)  # videochat.chat.Answer (.stopped when Stop was pressed)
    sig_answer_failed = Signal(object)  # the exception; videochat.errors.Cancelled when stopped while reading frames
    sig_busy_changed = Signal(bool)
    sig_batch_event = Signal(object)  # videochat.batch.run's ClipStarted / QuestionAnswered / ClipFailed / ClipFinished
    sig_batch_finished = Signal(object)  # videochat.batch.run.BatchSummary (.stopped when cancelled)
    sig_batch_failed = Signal(object)  # the exception that ended the batch (a model error, no model)

    _sig_post = Signal(str, object)  # (event, payload) from the model thread

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._requests: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._seq = itertools.count(1)
        self._last_ask_seq = 0
        self._stop_upto = 0  # asks with a seq up to this one were stopped
        self._outstanding = 0
        self._loads_waiting = 0  # load jobs asked for and not ended: an unload on the way to another model is no "no model"
        self._closed = False
        self._loaded_ref = None
        self.last_requested_model: str | None = None
        # Owned by the model thread; read here only to reach stop() of the running answer and, at
        # shutdown, to end the process.
        self._process = None
        self._load_args: tuple | None = None  # how the loaded model's process is started again after it died
        self._ref = None  # the loaded model, as the model thread knows it
        self._chats = None  # desktop.threads.process_chat.Conversations, made on the model thread
        self._engine = None  # desktop.threads.engine_session.EngineSession: the loaded model is on a server
        self._current_chat = None
        self._batch_stopping = threading.Event()
        self._batch_running = False

        self._text_lock = threading.Lock()
        self._text_pieces: list[str] = []
        self._text_posted = False
        self._text_throttler = Throttler(TEXT_INTERVAL_MS, self)
        self._text_throttler.triggered.connect(self._emit_text)
        self._sig_post.connect(self._on_post, Qt.ConnectionType.QueuedConnection)

    # -- the GUI thread's API ---------------------------------------------------------------

    @property
    def is_busy(self) -> bool:
        """A request is running or waiting."""
        return self._outstanding > 0

    @property
    def is_loading(self) -> bool:
        """A load was asked for and has not ended (the model it replaces may be gone already)."""
        return self._loads_waiting > 0

    @property
    def loaded_ref(self):
        """The `ModelRef` of the loaded model, or None."""
        return self._loaded_ref

    @property
    def is_running(self) -> bool:
        """The model thread is alive (False before start() and after a shutdown that joined it)."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self._thread is None and not self._closed:
            self._thread = threading.Thread(target=self._run, name="videochat-model", daemon=True)
            self._thread.start()

    def load(
        self, model: str, trust_remote_code: bool = False, device: str = "auto", precision: str = "auto", approved_code: str | None = None
    ) -> None:
        """Load a catalog name, repo id or folder (unloading the current model first).

        A model whose code needs the user's yes fails with `RemoteCodeRefused`, whose `code` says
        what would run; `approved_code` (that code's digest) is the yes to exactly that code.
        """
        self.last_requested_model = str(model)
        self._enqueue("load", (str(model), trust_remote_code, device, precision, approved_code))

    def unload(self) -> None:
        self._enqueue("unload")

    def find_models(self) -> None:
        """Emit `sig_models_found` with the catalog models already downloaded."""
        self._enqueue("find_models")

    def ask(self, request: AskRequest) -> None:
        self._last_ask_seq = self._enqueue("ask", request)

    @property
    def batch_running(self) -> bool:
        return self._batch_running

    def run_batch(self, plan, settings: GenerationSettings) -> None:
        """Answer a `videochat.batch.plan.BatchPlan` with the loaded model, into its results file; events arrive as `sig_batch_*`."""
        self._batch_stopping.clear()
        self._batch_running = True
        self._enqueue("batch", (plan, settings))

    def stop_batch(self) -> None:
        """Stop the batch within one answer; the answer in progress is not written (the next run redoes it)."""
        self._batch_stopping.set()

    def stop(self) -> None:
        """Stop the running answer and any asked before now; from any thread, without waiting.

        A load is not stopped (unload or load another model to end it); a load asked after a
        running answer starts as soon as Stop has ended that answer.
        """
        self._stop_upto = self._last_ask_seq
        chat = self._current_chat
        if chat is not None:
            chat.stop()

    def shutdown(self, timeout_s: float = 2.0) -> bool:
        """Stop everything and end the thread; True if it ended within `timeout_s`.

        The model process ends first (a load in it is simply killed); a thread still busy after
        `timeout_s` is left behind (a daemon) and reports nothing more.
        """
        self._closed = True
        self._batch_stopping.set()
        if self._thread is None:
            return True
        drain(self._requests)
        self.stop()
        process = self._process
        if process is not None:
            process.kill(grace_s=min(0.6, timeout_s / 3))  # whatever the thread is waiting for ends with it
        self._requests.put(_SHUTDOWN)
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _enqueue(self, kind: str, payload: object = None) -> int:
        if self._closed:
            return 0
        self.start()
        seq = next(self._seq)
        self._outstanding += 1
        self._loads_waiting += kind == "load"
        if self._outstanding == 1:
            self.sig_busy_changed.emit(True)
        self._requests.put(_Job(kind, seq, payload))
        return seq

    # -- events from the model thread, handled on the GUI thread ----------------------------

    def _post(self, event: str, payload: object = None) -> None:
        """From the model thread: hand an event to the GUI thread (dropped once shut down)."""
        if self._closed:
            return
        try:
            self._sig_post.emit(event, payload)
        except RuntimeError:  # this object was deleted while a shut-down thread kept going
            pass

    def _on_post(self, event: str, payload: object) -> None:
        if self._closed:
            return
        if event in _RELAYED:  # a public signal's as they come: the payload is its argument, or (True) its arguments' tuple
            signal = getattr(self, f"sig_{event}")
            signal.emit(*payload) if _RELAYED[event] else signal.emit(payload)
        elif event == "text":
            self._text_throttler.throttle()
        elif event == "loaded":
            self._loaded_ref = payload
            self.sig_loaded.emit(payload)
        elif event == "unloaded":
            self._loaded_ref = None
            self.sig_unloaded.emit()
        elif event == "answer_finished":
            self._flush_text()
            self.sig_answer_finished.emit(payload)
        elif event == "answer_failed":
            self._flush_text()
            self.sig_answer_failed.emit(payload)
        elif event in ("batch_finished", "batch_failed"):
            self._batch_running = False
            (self.sig_batch_finished if event == "batch_finished" else self.sig_batch_failed).emit(payload)
        elif event == "end":
            # The job's last word: counted as done first, so that its slots see the worker idle.
            kind, outcome = payload
            self._outstanding -= 1
            self._loads_waiting -= kind == "load"
            if outcome is not None:
                self._on_post(*outcome)
            if self._outstanding == 0:
                self.sig_busy_changed.emit(False)

    def _flush_text(self) -> None:
        """Before an answer's end: what is still waiting goes now."""
        self._text_throttler.flush()
        self._emit_text()

    def _emit_text(self) -> None:
        with self._text_lock:
            text = "".join(self._text_pieces)
            self._text_pieces.clear()
            self._text_posted = False
        if text and not self._closed:
            self.sig_text.emit(text)

    # -- the model thread -------------------------------------------------------------------

    def _run(self) -> None:
        handlers = {"load": self._do_load, "unload": lambda job: self._drop_model(), "ask": self._do_ask, "find_models": self._do_find_models, "batch": self._do_batch}
        failures = {"ask": "answer_failed", "batch": "batch_failed"}
        try:
            while True:
                job = self._requests.get()
                if job is _SHUTDOWN:
                    break
                try:
                    outcome = handlers[job.kind](job)
                except BaseException as error:  # every failure reaches a signal, none ends the thread
                    outcome = (failures.get(job.kind, "load_failed"), error)
                self._post("end", (job.kind, outcome))
        finally:
            self._end_process()

    def _do_find_models(self, job: _Job) -> tuple:
        from desktop.threads.model_choices import models_on_disk

        return "models_found", models_on_disk()

    def _do_load(self, job: _Job) -> tuple:
        model, trust_remote_code, device, precision, approved_code = job.payload
        self._drop_model()
        if EngineSession.names_engine(model):
            self._engine = EngineSession.connect(model, self._post)
            self._ref = self._engine.ref
            return "loaded", self._ref
        self._post("load_progress", ("Starting the model process", 0.0))
        from videochat.backends.consent import check_consent
        from videochat.models.resolve import resolve_model

        ref = resolve_model(model)  # a bare name is the catalog's or the hub's, never a folder of the current directory
        # Asked here, where the dialog can follow; the process is handed the yes for exactly that code.
        code = check_consent(ref, trust_remote_code, approved_code)
        self._load_args = (str(ref.local_folder or ref.source), device, precision, code.digest if code is not None else None, ref.revision, ref.runtime)
        self._start_process()
        self._ref = ref
        return "loaded", ref

    def _start_process(self) -> None:
        from desktop.threads.model_process import ModelProcess

        model, device, precision, approved, revision, runtime = self._load_args
        process = self._process = ModelProcess(model, device=device, precision=precision, approved_code=approved, revision=revision, runtime=runtime)
        try:
            process.start()
            process.wait_loaded(lambda what, fraction: self._post("load_progress", (what, fraction)))
        except BaseException:
            self._end_process()
            raise

    def _drop_model(self) -> None:
        self._chats, engine, self._engine = None, self._engine, None
        if engine is not None:
            engine.close()
        had_model = self._ref is not None
        self._ref, self._load_args = None, None
        self._end_process()
        if had_model:
            self._post("unloaded")

    def _end_process(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.kill()

    def _ready_process(self):
        """The loaded model's process; a new one if the last one died (its load progress shown as a load's)."""
        process = self._process
        if process is None or process.died:
            self._end_process()
            self._start_process()
        return self._process

    def _do_batch(self, job: _Job) -> tuple:
        from desktop.threads.process_batch import run_process_batch
        from videochat.errors import ModelLoadError

        if self._ref is None:
            raise ModelLoadError(NO_MODEL_MESSAGE)
        plan, settings = job.payload
        if not plan.is_for(self._ref):  # a load queued before this job
            raise ModelLoadError(f"The batch was planned for {one_line(plan.model_name)}, but {self._ref.shown_name} is loaded now: start it again.")
        on_event, should_stop = (lambda event: self._post("batch_event", event)), self._batch_stopping.is_set
        if self._engine is not None:
            return "batch_finished", self._engine.run_batch(plan, settings, on_event, should_stop)
        return "batch_finished", run_process_batch(self._ready_process(), self._ref, plan, settings, on_event=on_event, should_stop=should_stop)

    def _do_ask(self, job: _Job) -> tuple:
        request: AskRequest = job.payload
        self._post("answer_started", request)
        try:
            return "answer_finished", self._answer(job.seq, request)
        finally:
            self._current_chat = None

    def _answer(self, seq: int, request: AskRequest):
        from videochat.errors import Cancelled, ModelLoadError
        from videochat.generation import GenerationSettings
        from videochat.video.files import check_video_file

        if self._ref is None:
            raise ModelLoadError(NO_MODEL_MESSAGE)
        if seq <= self._stop_upto:
            raise Cancelled("Stopped before the answer began.")
        check_video_file(request.video_path)  # a FIFO or a folder is named for what it is, before the process is asked
        if self._engine is not None:
            return self._engine.answer(request, lambda: seq <= self._stop_upto, lambda chat: setattr(self, "_current_chat", chat), self._post, self._add_text)
        if self._chats is None:
            from desktop.threads.process_chat import Conversations

            self._chats = Conversations(self._ref.default_frames)
        chat = self._chats.chat_for(request.video_path)
        if request.new_conversation:
            chat.new_conversation()
        if request.frame_indices is not None:
            chat.resume(request.history, request.frame_indices, request.frame_times, request.frames, request.segment)
        self._current_chat = chat
        process = self._ready_process()
        if seq <= self._stop_upto:  # a Stop pressed while a dead process was replaced
            raise Cancelled("Stopped before the answer began.")

        def on_piece(piece: str) -> None:
            if seq <= self._stop_upto:
                chat.stop()
            self._add_text(piece)

        return chat.ask(
            process, request.question, request.frames, request.segment, request.settings or GenerationSettings(),
            on_frames=lambda count: self._post("frames_progress", (count, count)), on_piece=on_piece, turns_before=request.turns_before,
            should_stop=lambda: seq <= self._stop_upto,
        )

    def _add_text(self, piece: str) -> None:
        with self._text_lock:
            self._text_pieces.append(piece)
            if self._text_posted:
                return
            self._text_posted = True
        self._post("text")
