"""The remote-code backends (InternVL2, InternVideo2.5, InternVideo2-Chat and HD) on tiny stand-in checkpoints.

Each checkpoint is built here (tests/support/standins), found through the catalog like any model
folder, loaded by its backend with `trust_remote_code` and offline, and asked about a
generated clip. Spies on the model's own `chat()` check what it received; a hook on the inner
language model's input embeddings (called once per generated token) lets a test act at a
given token: stop, fail, or wait until the caller has seen text.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import json
import shutil
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from tests.support.standins import build_hub_extras, build_internvideo2, build_internvideo25, build_internvl2, isolate_hf_caches
from videochat import errors
from videochat.backends import create_backend
from videochat.backends.base import GenerationSettings, LoadOptions
from videochat.backends.consent import check_consent, model_code
from videochat.backends.internvl import chat_style, frame_prefix
from videochat.backends.remote_code import copy_code_to_module_cache, flash_attn_left_out_of_import_check
from videochat.backends.loading import hub_offline
from videochat.errors import BadModelFolder
from videochat.models.resolve import resolve_model
from videochat.frames.pipeline import prepare
from videochat.video.source import VideoSource

SETTINGS = GenerationSettings(max_new_tokens=24)
FRAMES = 8
QUESTION = "What is happening in this video?"
FOLLOW_UP = "What is she wearing?"

FAMILIES = ["internvl2", "internvideo2.5", "internvideo2", "internvideo2-hd"]


# -- fixtures: one isolated Hugging Face home, one tiny checkpoint and loaded backend per family --


@pytest.fixture(scope="module")
def hf(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf-home")
    with isolate_hf_caches(root) as (hub_cache, modules_cache):
        build_hub_extras(hub_cache, root / "scratch")
        yield SimpleNamespace(root=root, hub_cache=hub_cache, modules_cache=modules_cache)


@pytest.fixture(scope="module")
def checkpoints(hf):
    models = hf.root / "models"
    return {
        "internvl2": build_internvl2(models / "InternVL2-tiny"),
        "internvideo2.5": build_internvideo25(models / "InternVideo2_5-tiny"),
        "internvideo2": build_internvideo2(models / "InternVideo2-Chat-tiny"),
        "internvideo2-hd": build_internvideo2(models / "InternVideo2-Chat-HD-tiny", hd=True),
    }


def load(folder: Path, **options):
    backend = create_backend(resolve_model(str(folder)), LoadOptions(trust_remote_code=True, **options))
    backend.load()
    return backend


@pytest.fixture(scope="module")
def loaded(checkpoints):
    return {family: load(folder) for family, folder in checkpoints.items()}


@pytest.fixture(scope="module")
def prepared(clips):
    with VideoSource.open(clips("plain.mp4")) as source:
        return {family: prepare(source, family, FRAMES) for family in FAMILIES}


@pytest.fixture(params=FAMILIES)
def case(request, loaded, prepared):
    backend = loaded[request.param]
    return SimpleNamespace(family=request.param, backend=backend, prepared=prepared[request.param])


# -- helpers ---------------------------------------------------------------------------------


@contextlib.contextmanager
def chat_calls(model):
    """Record every call of `model.chat` by parameter name, with copies taken as it was called."""
    original = model.chat
    signature = inspect.signature(original)
    calls = []

    def chat(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        snapshot = {name: (dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value) for name, value in arguments.items()}
        calls.append(SimpleNamespace(arguments=arguments, at_call=snapshot, passed=set(kwargs) | set(list(signature.parameters)[: len(args)])))
        return original(*args, **kwargs)

    model.chat = chat
    try:
        yield calls
    finally:
        del model.chat


@contextlib.contextmanager
def on_each_token(backend, action):
    """Run `action(step)` each time the inner LLM embeds token ids: once for the prompt, then once per new token."""
    embeddings = getattr(backend.model, backend.inner_language_model).get_input_embeddings()
    original = embeddings.forward
    steps = []

    def forward(*args, **kwargs):
        steps.append(len(steps) + 1)
        action(len(steps))
        return original(*args, **kwargs)

    embeddings.forward = forward
    try:
        yield steps
    finally:
        del embeddings.forward


def ask(backend, conversation, question=QUESTION, settings=SETTINGS):
    pieces = list(backend.stream(conversation, question, settings))
    return pieces, conversation.turns[-1]


def remote_modules(name: str) -> list[str]:
    return [module for module in sys.modules if module.startswith(f"transformers_modules.{name}")]


# -- every family ------------------------------------------------------------------------------


def test_the_catalog_maps_each_stand_in_to_its_family_and_backend(checkpoints, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))  # no yes remembered from other tests
    families = {family: resolve_model(str(folder)) for family, folder in checkpoints.items()}
    assert {family: (ref.family, ref.backend) for family, ref in families.items()} == {
        "internvl2": ("internvl2", "internvl"),
        "internvideo2.5": ("internvideo2.5", "internvl"),
        "internvideo2": ("internvideo2", "internvideo2"),
        "internvideo2-hd": ("internvideo2-hd", "internvideo2"),
    }
    for ref in families.values():  # folders: nothing vouches for their code
        with pytest.raises(errors.RemoteCodeRefused):
            check_consent(ref)


def test_the_answer_streams_in_pieces_that_add_up_to_the_answer(case):
    backend, conversation = case.backend, case.backend.start(case.prepared)
    seen_text = threading.Event()
    waited = []

    def near_the_end(step):
        # The model may not finish before the caller has text: only real streaming gets past this.
        if step == SETTINGS.max_new_tokens - 2:
            waited.append(seen_text.wait(timeout=30))

    pieces = []
    with on_each_token(backend, near_the_end) as steps:
        for piece in backend.stream(conversation, QUESTION, SETTINGS):
            pieces.append(piece)
            seen_text.set()
    turn = conversation.turns[-1]
    assert waited == [True]
    assert len(pieces) >= 3
    assert "".join(pieces) == turn.answer != ""
    assert (turn.question, turn.stopped) == (QUESTION, False)
    assert len(steps) == SETTINGS.max_new_tokens  # greedy on random weights: no early end of text


def test_cancel_keeps_a_partial_stopped_answer_and_the_model_answers_the_next_question(case):
    backend, conversation = case.backend, case.backend.start(case.prepared)

    def user_presses_stop(step):
        if step == 8:
            backend.cancel()  # from the generating thread's side, as the GUI's Stop does from its own

    long_answer = GenerationSettings(max_new_tokens=200)
    with on_each_token(backend, user_presses_stop) as steps:
        pieces, stopped = ask(backend, conversation, settings=long_answer)
    assert stopped.stopped and len(steps) <= 9
    assert "".join(pieces) == stopped.answer != ""

    with on_each_token(backend, lambda step: None) as steps:
        pieces, turn = ask(backend, conversation, FOLLOW_UP)
    assert not turn.stopped and len(steps) == SETTINGS.max_new_tokens
    assert "".join(pieces) == turn.answer
    assert [t.question for t in conversation.turns] == [QUESTION, FOLLOW_UP]


def test_a_follow_up_reuses_the_frames_without_decoding_and_passes_the_history(case, monkeypatch):
    backend, conversation = case.backend, case.backend.start(case.prepared)
    with chat_calls(backend.model) as calls:
        ask(backend, conversation)

        def no_decoding(*args, **kwargs):
            raise AssertionError("a follow-up decoded the video again")

        monkeypatch.setattr(VideoSource, "iter_frames", no_decoding)
        ask(backend, conversation, FOLLOW_UP)
    first, second = calls
    media = "media_tensor" if "media_tensor" in first.arguments else "pixel_values"
    assert second.arguments[media] is first.arguments[media]
    history = "chat_history" if "chat_history" in first.arguments else "history"
    question = "user_prompt" if "user_prompt" in first.arguments else "question"
    assert first.at_call[history] == []
    [(asked, answered)] = second.at_call[history]
    assert asked == first.arguments[question] and answered.strip() == conversation.turns[0].answer


def test_out_of_memory_becomes_a_typed_error_and_the_model_still_answers(case):
    backend, conversation = case.backend, case.backend.start(case.prepared)

    def run_out_of_memory(step):
        if step == 3:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    with on_each_token(backend, run_out_of_memory), pytest.raises(errors.OutOfMemory, match="fewer frames"):
        ask(backend, conversation)
    assert conversation.turns == []

    pieces, turn = ask(backend, conversation)
    assert pieces and not turn.stopped and conversation.turns == [turn]


# -- what each family's chat() receives -----------------------------------------------------------


@pytest.mark.parametrize("family", ["internvl2", "internvideo2.5"])
def test_internvl_chat_gets_the_prepared_tiles_the_frame_prompt_and_a_fresh_config(family, loaded, prepared):
    backend, video = loaded[family], prepared[family]
    assert chat_style(backend.model) == "pixels"
    conversation = backend.start(video)
    with chat_calls(backend.model) as calls:
        ask(backend, conversation)
        ask(backend, conversation, FOLLOW_UP)
    first, second = calls
    assert torch.equal(first.arguments["pixel_values"], video.pixel_values)
    assert first.arguments["pixel_values"].dtype == backend.model.dtype
    assert first.arguments["num_patches_list"] == second.arguments["num_patches_list"] == video.num_patches_list == [1] * FRAMES
    assert first.arguments["question"] == "".join(f"Frame{i}: <image>\n" for i in range(1, FRAMES + 1)) + QUESTION
    assert first.arguments["question"] == frame_prefix(FRAMES) + QUESTION
    assert second.arguments["question"] == FOLLOW_UP
    assert {"history", "return_history"} <= first.passed and first.at_call["history"] == []
    # chat() writes eos_token_id into the dict it gets: each call must start from a fresh one.
    assert "eos_token_id" not in first.at_call["generation_config"] and "eos_token_id" not in second.at_call["generation_config"]
    assert first.arguments["generation_config"] is not second.arguments["generation_config"]
    assert conversation.state.history[0][0].startswith("Frame1: <image>\n")


@pytest.mark.parametrize("family, shape", [("internvideo2", (FRAMES, 3, 224, 224)), ("internvideo2-hd", (1, 3, FRAMES, 3, 224, 224))])
def test_internvideo2_chat_gets_the_cards_message_and_tensor_and_an_explicit_history(family, shape, loaded, prepared):
    backend, video = loaded[family], prepared[family]
    with chat_calls(backend.model) as calls:
        other = backend.start(video)
        ask(backend, other)
        ask(backend, other, FOLLOW_UP)
        conversation = backend.start(video)
        ask(backend, conversation)
    first, second, fresh = calls
    assert first.arguments["msg"] == video.sample.message
    assert video.sample.message.startswith(f"The video contains {FRAMES} frames sampled at ")
    assert first.arguments["media_type"] == "video"
    assert tuple(first.arguments["media_tensor"].shape) == shape
    assert torch.equal(first.arguments["media_tensor"], video.pixel_values)
    assert first.arguments["user_prompt"] == QUESTION and second.arguments["user_prompt"] == FOLLOW_UP
    # Its default chat_history is one list shared by every call: a new conversation must pass its own.
    assert "chat_history" in fresh.passed and fresh.at_call["chat_history"] == []
    assert second.at_call["chat_history"][0][0] == QUESTION
    assert set(first.arguments["generation_config"]) <= {
        "num_beams", "max_new_tokens", "do_sample", "top_p", "top_k", "temperature", "length_penalty", "repetition_penalty"
    }


def test_internvideo2_chat_itself_takes_no_streamer_so_the_backend_streams_around_it(loaded, prepared):
    backend, video = loaded["internvideo2"], prepared["internvideo2"]
    with pytest.raises(TypeError, match="streamer"):
        backend.model.chat(
            backend.tokenizer, video.sample.message, QUESTION, media_type="video", media_tensor=video.pixel_values,
            chat_history=[], return_history=True, generation_config={"streamer": None, "max_new_tokens": 2},
        )


def test_a_class_with_only_the_video_path_chat_is_called_with_the_file(loaded, prepared, clips):
    class FlashStyle:
        def chat(self, video_path, tokenizer, user_prompt, chat_history=None, return_history=True, max_num_frames=512, media_dict=None, generation_config={}):
            self.call = dict(video_path=video_path, user_prompt=user_prompt, chat_history=chat_history, max_num_frames=max_num_frames)
            return "an answer", [*chat_history, (user_prompt, "an answer")]

    class Both(FlashStyle):
        def chat(self, tokenizer, pixel_values, question, generation_config, history=None, return_history=False, num_patches_list=None, video_path=None):
            raise AssertionError

    assert (chat_style(FlashStyle()), chat_style(Both())) == ("video_path", "pixels")
    backend, video = loaded["internvideo2.5"], prepared["internvideo2.5"]
    conversation = backend.start(video)
    model, style = backend.model, backend._chat_style
    backend.model, backend._chat_style = FlashStyle(), "video_path"
    try:
        with pytest.raises(errors.UnsupportedSetting, match="which file"):
            backend._chat(dataclasses.replace(video, path=None), conversation.state, QUESTION, SETTINGS)
        flash = backend.model
        response, history = backend._chat(video, conversation.state, QUESTION, SETTINGS)
        assert flash.call == dict(video_path=str(clips("plain.mp4")), user_prompt=QUESTION, chat_history=[], max_num_frames=FRAMES)
    finally:
        backend.model, backend._chat_style = model, style
    assert (response, history) == ("an answer", [(QUESTION, "an answer")])


# -- loading ----------------------------------------------------------------------------------------


def test_remote_code_the_catalog_does_not_know_is_refused_without_consent_and_nothing_is_imported(checkpoints, hf, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))  # no yes remembered from other tests
    folder = shutil.copytree(checkpoints["internvl2"], hf.root / "elsewhere" / "Unvetted-model")
    backend = create_backend(resolve_model(str(folder)), LoadOptions(trust_remote_code=False))
    with pytest.raises(errors.RemoteCodeRefused, match="trust-remote-code"):
        backend.load()
    assert remote_modules("Unvetted") == []
    assert not (hf.modules_cache / "transformers_modules" / "Unvetted-model").exists()
    assert backend.model is None


def test_a_folder_named_with_a_dot_loads_under_a_module_safe_name(checkpoints, hf, prepared):
    folder = shutil.copytree(checkpoints["internvl2"], hf.root / "downloads" / "InternVL2.0-1B")
    backend = load(folder)
    assert type(backend.model).__module__ == "transformers_modules.InternVL2_0-1B.modeling_internvl_chat"
    pieces, turn = ask(backend, backend.start(prepared["internvl2"]), settings=GenerationSettings(max_new_tokens=4))
    assert "".join(pieces) == turn.answer


def test_plain_transformers_trips_over_each_internvideo2_quirk_and_the_backend_loads_after_it(checkpoints, hf, prepared):
    """The stand-in reproduces what the real code does to a plain load; the backend's load survives the mess it leaves."""
    from transformers import AutoModel

    folder = shutil.copytree(checkpoints["internvideo2"], hf.root / "quirks" / "InternVideo2-quirks")
    attempt = dict(trust_remote_code=True, torch_dtype=torch.float32, local_files_only=True)
    with hub_offline():
        with pytest.raises(ImportError, match="flash_attn"):  # (2) an import of flash_attn that only the GPU path runs
            AutoModel.from_pretrained(folder, **attempt)
        with flash_attn_left_out_of_import_check():
            with pytest.raises(OSError, match="modeling_"):  # (1) a module only a sibling imports was not copied
                AutoModel.from_pretrained(folder, **attempt)
            copy_code_to_module_cache(str(folder), model_code(folder))
            with pytest.raises(RuntimeError, match="meta"):  # (4) its constructor computes from weights
                AutoModel.from_pretrained(folder, low_cpu_mem_usage=True, **attempt)
    backend = load(folder)
    pieces, turn = ask(backend, backend.start(prepared["internvideo2"]), settings=GenerationSettings(max_new_tokens=4))
    assert pieces and "".join(pieces) == turn.answer


def test_internvideo2_reads_bert_and_mistral_offline_and_a_failed_load_does_not_break_the_retry(checkpoints, tmp_path, prepared, monkeypatch):
    import huggingface_hub.file_download as file_download

    folder = checkpoints["internvideo2"]
    with isolate_hf_caches(tmp_path) as (hub_cache, modules_cache):
        # Online as far as the environment goes: the load itself must not ask the network.
        monkeypatch.setenv("HF_HUB_OFFLINE", "0")
        monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
        monkeypatch.setattr("transformers.utils.hub._is_offline_mode", False)
        asked = []
        monkeypatch.setattr(file_download, "get_hf_file_metadata", lambda *args, **kwargs: asked.append(args) or (_ for _ in ()).throw(OSError("network")))

        backend = create_backend(resolve_model(str(folder)), LoadOptions(trust_remote_code=True))
        with pytest.raises(errors.ModelNotDownloaded, match="mistralai/Mistral-7B-Instruct-v0.3"):
            backend.load()
        build_hub_extras(hub_cache, tmp_path / "scratch", bert=False)
        with pytest.raises(errors.ModelNotDownloaded, match="bert-base-uncased"):
            backend.load()
        assert not (modules_cache / "transformers_modules" / folder.name).exists()  # the failed attempt was cleaned up
        build_hub_extras(hub_cache, tmp_path / "scratch", mistral=False)
        backend.load()
        pieces, turn = ask(backend, backend.start(prepared["internvideo2"]), settings=GenerationSettings(max_new_tokens=4))
    assert asked == []
    assert pieces and "".join(pieces) == turn.answer


def test_a_folder_without_weights_is_a_clear_load_error(checkpoints, hf):
    folder = shutil.copytree(checkpoints["internvideo2"], hf.root / "broken" / "No-weights", ignore=shutil.ignore_patterns("*.safetensors"))
    backend = create_backend(resolve_model(str(folder)), LoadOptions(trust_remote_code=True))
    with pytest.raises(errors.ModelLoadError, match="no weights"):
        backend.load()


def test_a_broken_config_is_a_clear_error_before_and_at_load(checkpoints, hf):
    folder = shutil.copytree(checkpoints["internvl2"], hf.root / "broken" / "Bad-config")
    ref = resolve_model(str(folder))
    (folder / "config.json").write_text('{"model_type": "internvl_chat", ', encoding="utf-8")
    with pytest.raises(BadModelFolder, match="config.json"):
        resolve_model(str(folder))
    with pytest.raises(errors.ModelLoadError, match="config.json"):
        create_backend(ref, LoadOptions(trust_remote_code=True)).load()


def test_a_config_naming_code_that_is_not_there_is_a_clear_load_error_and_leaves_no_module_cache(checkpoints, hf):
    folder = shutil.copytree(checkpoints["internvl2"], hf.root / "broken" / "Missing-code")
    (folder / "modeling_internvl_chat.py").unlink()
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    assert config["auto_map"]["AutoModel"] == "modeling_internvl_chat.InternVLChatModel"
    backend = create_backend(resolve_model(str(folder)), LoadOptions(trust_remote_code=True))
    with pytest.raises(errors.ModelLoadError, match="modeling_internvl_chat.py"):
        backend.load()
    assert not (hf.modules_cache / "transformers_modules" / "Missing-code").exists()
    assert remote_modules("Missing-code") == []


def test_unload_drops_the_frames_on_the_device_and_the_conversation_continues_after_a_new_load(checkpoints, prepared):
    backend = load(checkpoints["internvl2"])
    conversation = backend.start(prepared["internvl2"])
    _, first = ask(backend, conversation)
    backend.unload()
    assert backend.model is None and conversation.state.media is None and conversation.state.history
    with pytest.raises(errors.ModelError, match="not loaded"):
        ask(backend, conversation, FOLLOW_UP)
    backend.load()
    with chat_calls(backend.model) as calls:
        _, second = ask(backend, conversation, FOLLOW_UP)
    [call] = calls
    assert call.at_call["history"] == [(frame_prefix(FRAMES) + QUESTION, first.answer)]
    assert call.arguments["pixel_values"].shape == prepared["internvl2"].pixel_values.shape
    assert second.answer and len(conversation.turns) == 2


@pytest.mark.parametrize("question", ["Where is the <image>?", "Say <IMG_CONTEXT> please"])
def test_questions_with_the_prompt_codes_marks_are_refused(loaded, prepared, question):
    backend = loaded["internvl2"]
    conversation = backend.start(prepared["internvl2"])
    with pytest.raises(errors.InvalidQuestion, match="control mark"):
        ask(backend, conversation, question)
    assert conversation.turns == []
