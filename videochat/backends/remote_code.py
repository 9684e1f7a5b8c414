"""What the remote-code backends (internvl.py, internvideo2.py) share: loading the checkpoint's code, streaming around its chat().

- loading: the code files are put into transformers' module cache before the first attempt,
  `flash_attn` is left out of transformers' import check where it is not installed, and a
  failed attempt's module cache is removed so that a retry starts clean; everything runs
  offline;
- streaming and stopping: `chat()` builds its own generation arguments, so the streamer and
  the stop criterion are added to the inner language model's `generate` for the duration of
  the call (one mechanism for every family: InternVideo2-Chat's `chat()` accepts no streamer).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import shutil
import sys
import traceback
from abc import abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from videochat.backends.consent import ModelCode, code_digest
from videochat.backends.base import Backend, Conversation, GenerationSettings, LoadOptions, Turn
from videochat.backends.chat_cache import PromptCache
from videochat.backends.streaming import StreamedCall, free_cached_memory, is_out_of_memory, load_out_of_memory, map_generation_error
from videochat.backends.loading import hub_offline
from videochat.models.model_json import read_config
from videochat.models.resolve import ModelRef
from videochat.models.torch_pairs import NEEDS, fix_command, installed_torch
from videochat.errors import MissingPackages, ModelError, ModelLoadError, ModelNotDownloaded, UnsupportedSetting, VideoChatError
from videochat.frames.pipeline import PreparedVideo
from videochat.safe_text import LONGEST_PATH, one_line

TIMM_PACKAGES = frozenset({"timm", "torchvision"})  # what the OpenGVLab code imports that must match torch
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")


def no_progress(what: str, fraction: float) -> None:
    pass


# -- loading remote code ------------------------------------------------------------------


def flash_attn_installed() -> bool:
    return importlib.util.find_spec("flash_attn") is not None


def check_model_files(location: str, ref: ModelRef) -> None:
    """Fail early, and clearly, on a folder that cannot hold a loadable model."""
    folder = Path(location)
    read_config(folder)  # BadModelFolder (a ModelLoadError) when config.json is missing or broken
    if not any((folder / name).is_file() for name in WEIGHT_FILES):
        raise ModelLoadError(
            f"{ref.display_name} has no weights in {folder} (no model.safetensors or pytorch_model.bin): the download is "
            "incomplete. Download the model again."
        )


def _module_cache_folder(location: str) -> tuple[Path, str]:
    """Where transformers puts a local folder's code, and the module name it imports it under."""
    import transformers.dynamic_module_utils as dynamic_modules

    name = Path(location).name  # transformers names the module after the folder (the module-safe link)
    package = dynamic_modules.TRANSFORMERS_DYNAMIC_MODULE_NAME
    return Path(dynamic_modules.HF_MODULES_CACHE) / package / name, f"{package}.{name}"


def copy_code_to_module_cache(location: str, code: ModelCode | None) -> None:
    """Write the model's code files, as `consent.model_code` read them (what was allowed), where transformers imports them from.

    For a local folder transformers copies only the entry module and its direct imports, so a
    module that only a sibling imports is missing (InternVideo2-Chat's modeling_base.py imports
    modules that modeling_videochat2.py does not). Only the allowed files are written: a .py file
    of the folder that no code file imports is not there to be imported by name. The bytes are the
    ones the digest was taken of, not the folder's read again (they may have changed since).
    """
    import transformers.dynamic_module_utils as dynamic_modules

    target, _ = _module_cache_folder(location)
    dynamic_modules.create_dynamic_module(Path(dynamic_modules.TRANSFORMERS_DYNAMIC_MODULE_NAME) / target.name)
    for name, data in sorted((code.contents if code is not None else {}).items()):
        destination = target / name
        if not destination.is_file() or destination.read_bytes() != data:
            destination.write_bytes(data)
    importlib.invalidate_caches()


@contextlib.contextmanager
def only_the_allowed_code_imported(location: str, code: ModelCode | None):
    """Each time transformers imports the model's code, the module cache holds the very code allowed.

    transformers copies the entry module and its imports from the folder again at each
    from_pretrained, after the consent was asked: one who can write in the folder could swap a
    file in between. Checked just before the import (its copying is done by then); the module
    cache is the user's own folder.
    """
    import transformers.dynamic_module_utils as dynamic_modules

    if code is None:
        yield
        return
    target, _ = _module_cache_folder(location)
    importing = dynamic_modules.get_class_in_module

    def checked(class_name, module_path, *args, **kwargs):
        try:
            cached = {name: (target / name).read_bytes() for name in code.files}
        except OSError:
            cached = {}
        if code_digest(cached) != code.digest:
            raise ModelLoadError(f"The code of {one_line(str(code.folder), LONGEST_PATH)} changed after it was allowed ({code.files_text()}): "
                                 "it did not run. Load the model again to see its code as it is now.")
        return importing(class_name, module_path, *args, **kwargs)

    dynamic_modules.get_class_in_module = checked
    try:
        yield
    finally:
        dynamic_modules.get_class_in_module = importing


def forget_module_cache(location: str) -> None:
    """Remove what a failed attempt left in the module cache and in sys.modules: a retry starts clean."""
    target, module = _module_cache_folder(location)
    shutil.rmtree(target, ignore_errors=True)
    for name in [name for name in sys.modules if name == module or name.startswith(module + ".")]:
        del sys.modules[name]
    importlib.invalidate_caches()


@contextlib.contextmanager
def flash_attn_left_out_of_import_check():
    """transformers refuses a model file whose imports are missing; flash_attn is optional on every family.

    Its check reads every `import` line outside try/except blocks, wherever it is, so code that
    imports flash_attn only on its GPU path is refused where flash-attn is not installed.
    """
    if flash_attn_installed():
        yield
        return
    import transformers.dynamic_module_utils as dynamic_modules

    original = dynamic_modules.get_imports

    def get_imports(filename):
        return [name for name in original(filename) if name != "flash_attn"]

    dynamic_modules.get_imports = get_imports
    try:
        yield
    finally:
        dynamic_modules.get_imports = original


@contextlib.contextmanager
def remote_code_loading(location: str, ref: ModelRef, code: ModelCode | None, needs: Iterable[str] = ()):
    """Around the from_pretrained calls of a remote-code model: offline, the allowed code in place, typed errors."""
    with hub_offline(), flash_attn_left_out_of_import_check(), only_the_allowed_code_imported(location, code):
        try:
            copy_code_to_module_cache(location, code)
            yield
        except BaseException as error:
            forget_module_cache(location)
            if isinstance(error, VideoChatError) or not isinstance(error, Exception):
                raise
            raise load_error(ref, location, error, tuple(needs)) from error


def _missing_packages(error: ImportError) -> list[str]:
    text = str(error)
    marker = "not found in your environment: "  # transformers' check of a model file's imports
    if marker in text:
        return [name.strip() for name in text.split(marker, 1)[1].split(".", 1)[0].split(",")]
    name = getattr(error, "name", None)
    return [name.split(".")[0]] if name and not name.startswith("transformers_modules") else []


def _raised_in(error: BaseException, packages: frozenset[str]) -> bool:
    """Whether `error`, or an error it was raised from, came out of one of these packages' own files."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if any(packages & set(Path(frame.filename).parts[:-1]) for frame in traceback.extract_tb(error.__traceback__)):
            return True
        error = error.__cause__ or error.__context__
    return False


def missing_timm(ref: ModelRef, error: Exception) -> MissingPackages | None:
    """The typed error, with the one command that fixes it, when timm or torchvision is missing or does not import."""
    missing = [name for name in _missing_packages(error) if name in TIMM_PACKAGES] if isinstance(error, ImportError) else []
    if missing:
        reason = f"{' and '.join(missing)} {'are' if len(missing) > 1 else 'is'} not installed"
    elif _raised_in(error, TIMM_PACKAGES):
        first_line = str(error).splitlines()[0] if str(error) else ""
        reason = f"timm/torchvision do not import ({type(error).__name__}: {first_line})"
    else:
        return None
    return MissingPackages(
        f"{ref.display_name} {NEEDS} ({reason} in {sys.executable}, which runs the model; its torchvision must be the "
        f"build made for its torch). Fix: {fix_command(sys.executable, installed_torch())}"
    )


def load_error(ref: ModelRef, location: str, error: Exception, needs: tuple[str, ...] = ()) -> ModelError:
    """The typed error, with what to do, for an exception raised while loading a model."""
    name = ref.display_name
    if is_out_of_memory(error):
        return load_out_of_memory(name)
    text = str(error)
    for repo in needs if isinstance(error, OSError) else ():
        if repo in text or repo.split("/")[-1] in text:
            return ModelNotDownloaded(
                f"{name} builds part of itself from {repo} when it loads, and {repo} is not downloaded. Download it "
                f"(videochat download {repo}), then load the model again."
            )
    timm_error = missing_timm(ref, error)
    if timm_error is not None:
        return timm_error
    packages = _missing_packages(error) if isinstance(error, ImportError) else []
    if packages:
        return ModelLoadError(
            f"{name}'s code needs the Python package{'s' if len(packages) > 1 else ''} {', '.join(packages)}, which "
            f"{'are' if len(packages) > 1 else 'is'} not installed: pip install {' '.join(packages)}"
        )
    if isinstance(error, json.JSONDecodeError):
        return ModelLoadError(f"One of {name}'s JSON files in {location} is broken ({error}). Download the model again.")
    return ModelLoadError(
        f"{name} could not be loaded from {location}: {type(error).__name__}: {text}. The files may be incomplete or not "
        "those of this model family; download the model again."
    )


# -- streaming through a remote chat() ----------------------------------------------------


@contextlib.contextmanager
def generate_with(language_model, **extra):
    """Add `extra` (streamer, stopping criteria) to every `language_model.generate` call meanwhile.

    Remote `chat()` methods call their inner LLM's `generate` with arguments of their own
    making; wrapping that one method on the instance reaches it whatever `chat()` accepts.
    """
    had_own = "generate" in vars(language_model)
    previous = vars(language_model).get("generate")
    original = language_model.generate

    def generate(*args, **kwargs):
        kwargs.update(extra)
        return original(*args, **kwargs)

    language_model.generate = generate
    try:
        yield
    finally:
        if had_own:
            language_model.generate = previous
        else:
            del language_model.generate


def trimmed(pieces: Iterator[str]) -> Iterator[str]:
    """The pieces with leading and trailing whitespace of the whole held back, as `answer.strip()`."""
    started, pending = False, ""
    try:
        for piece in pieces:
            if not started:
                piece = piece.lstrip()
                if not piece:
                    continue
                started = True
            text = pending + piece
            body = text.rstrip()
            pending = text[len(body) :]
            if body:
                yield body
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()


@dataclass
class RemoteChatState:
    """A conversation's state: the frames on the model's device, the history in the family's format, and
    (for the families that reuse it) the key/value cache of everything said."""

    media: Any
    history: list = field(default_factory=list)
    memory: PromptCache = field(default_factory=PromptCache)


class RemoteChatBackend(Backend):
    """What both remote-code backends share: the conversation state, streaming, cancel, unload."""

    inner_language_model: ClassVar[str]  # the attribute holding the LLM whose generate() chat() calls

    def __init__(self, ref: ModelRef, options: LoadOptions = LoadOptions()):
        super().__init__(ref, options)
        self.tokenizer = None

    @property
    def tokenizer_for_text(self):
        return self.tokenizer

    def _media(self, prepared: PreparedVideo):
        if prepared.family != self.ref.family:
            raise UnsupportedSetting(
                f"The video was prepared for {prepared.family} models, and {self.ref.display_name} is a {self.ref.family} model: "
                "prepare it again for this model."
            )
        try:
            return prepared.pixel_values.to(device=self.device, dtype=self.dtype)
        except RuntimeError as error:  # torch.cuda.OutOfMemoryError is one; this runs before generation's own mapping
            if is_out_of_memory(error):
                raise map_generation_error(error) from error
            raise

    def start(self, prepared: PreparedVideo) -> Conversation:
        self._require_loaded()
        conversation = super().start(prepared)
        conversation.state = RemoteChatState(self._media(prepared))
        return conversation

    def stream(self, conversation: Conversation, question: str, settings: GenerationSettings = GenerationSettings()) -> Iterator[str]:
        self._require_loaded()
        question = self.check_question(question)
        if conversation.state is None:
            conversation.state = RemoteChatState(self._media(conversation.prepared))
        elif conversation.state.media is None:  # the model was unloaded and loaded again since
            conversation.state.media = self._media(conversation.prepared)
        self._conversations.add(conversation)
        state: RemoteChatState = conversation.state
        self._stop.clear()
        language_model = getattr(self.model, self.inner_language_model)

        def call(streamer, stopping_criteria):
            with generate_with(language_model, streamer=streamer, stopping_criteria=stopping_criteria):
                return self._chat(conversation.prepared, state, question, settings)

        run = StreamedCall(call, self.tokenizer, self._stop)
        try:
            yield from trimmed(iter(run))
        finally:
            # Also when the caller stops reading: the answer so far is the turn, marked stopped.
            if run.result is not None:
                response, history = run.result
                state.history = list(history)
                conversation.turns.append(Turn(question, str(response).strip(), stopped=self._stop.is_set()))

    def resume(self, prepared: PreparedVideo, turns: list[Turn]) -> Conversation:
        conversation = super().resume(prepared, turns)
        conversation.state.history = [(self._asked(prepared, number, turn.question), turn.answer) for number, turn in enumerate(turns)]
        return conversation

    def _asked(self, prepared: PreparedVideo, number: int, question: str) -> str:
        """The question as `_chat` passed it to chat(), which keeps it so in the history it returns."""
        return question

    @abstractmethod
    def _chat(self, prepared: PreparedVideo, state: RemoteChatState, question: str, settings: GenerationSettings):
        """Call the model's chat() once (on the generation thread); return (response, history)."""

    def _forget_device_state(self, conversation: Conversation) -> None:
        if conversation.state is not None:
            conversation.state.media = None  # the history stays: it is text
            conversation.state.memory.drop()

    def _release(self) -> None:
        self.model = None
        self.tokenizer = None
        free_cached_memory()
