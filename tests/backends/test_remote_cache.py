"""Follow-ups of InternVL2 (each backbone's template), InternVideo2.5 and InternVideo2-Chat (and HD) reuse the
key/value cache, and answer as chat() does.

The reference is the checkpoint's own `chat()` called directly with the history it returned, which
reads the whole prompt every time. The stand-ins' language models are built with wide weights
(`init_range`), so that their greedy answers follow the context: every test checks that a history
lost or misplaced would change the answer it compares, so the comparison can fail.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.support.standins import build_hub_extras, build_internvideo2, build_internvideo25, build_internvl2, isolate_hf_caches
from videochat.backends import chat_cache, create_backend
from videochat.backends.base import GenerationSettings, LoadOptions, Turn
from videochat.backends.internvideo2 import chat_generation_config
from videochat.backends.internvl import frame_prefix
from videochat.frames.pipeline import prepare
from videochat.models.resolve import resolve_model
from videochat.video.source import VideoSource

SETTINGS = GenerationSettings(max_new_tokens=12)
FRAMES = 8
QUESTIONS = ["What is happening in this video?", "What is she wearing?", "How many people appear in the video?"]
WIDE = 0.3  # the language models' init range: answers that depend on every token of the prompt

# The prompt formats of the seed checkpoints: InternVL2's three backbones' templates, InternVideo2.5's,
# InternVideo2-Chat's [INST] turns (HD: the same with a video of several views).
FORMATS = ["Hermes-2", "internlm2-chat", "phi3-chat", "internvideo2.5", "internvideo2", "internvideo2-hd"]
FAMILY = {"internvideo2.5": "internvideo2.5", "internvideo2": "internvideo2", "internvideo2-hd": "internvideo2-hd"}


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf-cache-tests")
    with isolate_hf_caches(root) as (hub_cache, _):
        build_hub_extras(hub_cache, root / "scratch", init_range=WIDE)  # InternVideo2-Chat's language model comes from here
        folders = {name: build_internvl2(root / f"InternVL2-{name}", template=name, init_range=WIDE) for name in FORMATS[:3]}
        folders["internvideo2.5"] = build_internvideo25(root / "InternVideo2_5-wide", init_range=WIDE)
        folders["internvideo2"] = build_internvideo2(root / "InternVideo2-Chat-wide")
        folders["internvideo2-hd"] = build_internvideo2(root / "InternVideo2-Chat-HD-wide", hd=True)
        backends = {}
        for name, folder in folders.items():
            backend = create_backend(resolve_model(str(folder)), LoadOptions(trust_remote_code=True))
            backend.load()
            backends[name] = backend
        yield SimpleNamespace(folders=folders, backends=backends)


@pytest.fixture(scope="module")
def videos(clips):
    with VideoSource.open(clips("plain.mp4")) as source:
        return {family: prepare(source, family, FRAMES) for family in ("internvl2", "internvideo2.5", "internvideo2", "internvideo2-hd")}


@pytest.fixture(params=FORMATS)
def case(request, models, videos):
    family = FAMILY.get(request.param, "internvl2")
    return SimpleNamespace(backend=models.backends[request.param], video=videos[family])


def reference_answers(backend, video, questions, history=None):
    """chat() itself, as the card calls it, with the history it returned: the whole prompt read every time."""
    media = video.pixel_values.to(backend.device, backend.dtype)
    history, answers = list(history or []), []
    if backend.name == "internvideo2":
        for question in questions:
            answer, history = backend.model.chat(
                backend.tokenizer, video.sample.message or "", question, media_type="video", media_tensor=media,
                chat_history=list(history), return_history=True, generation_config=chat_generation_config(SETTINGS),
            )
            answers.append(answer)
        return answers
    for question in questions:
        asked = question if history else frame_prefix(FRAMES) + question
        answer, history = backend.model.chat(
            backend.tokenizer, media, asked, SETTINGS.as_kwargs(), history=history, return_history=True,
            num_patches_list=list(video.num_patches_list),
        )
        answers.append(answer)
    return answers


def answer(backend, conversation, question):
    pieces = list(backend.stream(conversation, question, SETTINGS))
    assert "".join(pieces) == conversation.turns[-1].answer
    return conversation.turns[-1].answer


def frame_tokens(backend, video) -> int:
    if backend.name == "internvideo2":
        return backend.model.media_tokens * backend.model.clips(video.pixel_values).shape[0]
    return backend.model.num_image_token * sum(video.num_patches_list)


def test_follow_ups_read_only_the_new_tokens_and_answer_as_chat_with_history_does(case):
    backend, video = case.backend, case.video
    conversation = backend.start(video)
    answers, read, reused = [], [], []
    for question in QUESTIONS:
        answers.append(answer(backend, conversation, question))
        read.append(conversation.state.memory.read)
        reused.append(conversation.state.memory.reused)

    # As chat() returned them (InternVideo2-Chat's keep their leading space; the turns shown are stripped).
    answers = [said for _, said in conversation.state.history]
    assert answers == reference_answers(backend, video, QUESTIONS)
    # The first question reads the frames; the follow-ups take them, and the earlier turns, from the cache.
    assert reused[0] == 0 and read[0] > frame_tokens(backend, video)
    assert all(taken > frame_tokens(backend, video) for taken in reused[1:])
    assert all(count < 60 for count in read[1:])
    # The answers follow the context: a follow-up asked without its history, or after the other question, differs.
    assert reference_answers(backend, video, QUESTIONS[1:2])[0] != answers[1]
    assert reference_answers(backend, video, [QUESTIONS[2], QUESTIONS[1]])[1] != answers[1]


def test_where_chat_re_tokenizes_the_answer_differently_the_cache_is_reused_only_up_to_the_common_prefix(models, videos, monkeypatch):
    backend, video = models.backends["Hermes-2"], videos["internvl2"]
    conversation = backend.start(video)
    first = answer(backend, conversation, QUESTIONS[0])
    generated = conversation.state.memory.cached_ids[0].clone()
    second = answer(backend, conversation, QUESTIONS[1])
    # What chat() read for the follow-up parts from what was generated before the end of the first answer.
    assert conversation.state.memory.reused < len(generated)
    assert [first, second] == reference_answers(backend, video, QUESTIONS[:2])

    # Reusing the cache as if the tokens matched throughout gives another answer: the prefix check is what keeps it equal.
    careless = backend.start(video)
    answer(backend, careless, QUESTIONS[0])
    monkeypatch.setattr(chat_cache, "common_prefix_length", lambda first, second: min(len(first), len(second)))
    assert answer(backend, careless, QUESTIONS[1]) != second


def test_a_stopped_answer_is_continued_as_chat_would_with_the_partial_answer(models, videos):
    backend, video = models.backends["internlm2-chat"], videos["internvl2"]
    conversation = backend.start(video)
    pieces = []
    for piece in backend.stream(conversation, QUESTIONS[0], GenerationSettings(max_new_tokens=200)):
        pieces.append(piece)
        if len(pieces) == 3:
            backend.cancel()
    stopped = conversation.turns[0]
    assert stopped.stopped and stopped.answer
    follow_up = answer(backend, conversation, QUESTIONS[1])
    assert conversation.state.memory.reused > frame_tokens(backend, video)
    history = [(frame_prefix(FRAMES) + QUESTIONS[0], stopped.answer)]
    assert [follow_up] == reference_answers(backend, video, QUESTIONS[1:2], history=history)
    assert [follow_up] != reference_answers(backend, video, QUESTIONS[1:2])


def test_a_resumed_conversation_reads_its_history_once_then_reuses_the_cache(models, videos):
    backend, video = models.backends["phi3-chat"], videos["internvl2"]
    said = reference_answers(backend, video, QUESTIONS[:1])
    conversation = backend.resume(video, [Turn(QUESTIONS[0], said[0])])
    second = answer(backend, conversation, QUESTIONS[1])
    assert conversation.state.memory.reused == 0 and conversation.state.memory.read > frame_tokens(backend, video)
    third = answer(backend, conversation, QUESTIONS[2])
    assert conversation.state.memory.reused > frame_tokens(backend, video)
    assert [said[0], second, third] == reference_answers(backend, video, QUESTIONS)


def test_unload_drops_the_cache_and_after_a_new_load_the_conversation_reads_everything_once(models, videos):
    backend = create_backend(resolve_model(str(models.folders["internvideo2.5"])), LoadOptions(trust_remote_code=True))
    backend.load()
    video = videos["internvideo2.5"]
    conversation = backend.start(video)
    first = answer(backend, conversation, QUESTIONS[0])
    assert conversation.state.memory.cache is not None
    backend.unload()
    assert conversation.state.memory.cache is None and conversation.state.memory.cached_ids is None
    backend.load()
    second = answer(backend, conversation, QUESTIONS[1])
    assert conversation.state.memory.reused == 0
    third = answer(backend, conversation, QUESTIONS[2])
    assert conversation.state.memory.reused > frame_tokens(backend, video)
    assert [first, second, third] == reference_answers(backend, video, QUESTIONS)


def test_the_cache_is_not_reused_where_the_rest_would_hold_frames():
    import torch

    def call(ids):
        ids = torch.tensor([ids])
        return chat_cache.GenerateCall(ids, ids == 9, {})

    memory = chat_cache.PromptCache(cached_ids=torch.tensor([[1, 2, 9, 9, 3, 4]]), cache=object())
    assert chat_cache.reusable_length(memory, call([1, 2, 9, 9, 3, 5, 6])) == 5
    assert chat_cache.reusable_length(memory, call([1, 2, 9, 7, 9, 5])) == 0
    assert chat_cache.reusable_length(memory, call([1, 2, 9, 9, 3, 4])) == 5  # one token left to read
    assert chat_cache.reusable_length(chat_cache.PromptCache(), call([1, 2])) == 0
