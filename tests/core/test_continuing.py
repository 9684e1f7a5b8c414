"""A saved conversation goes on: its turns as the history, on its very frames, for every family; and
when it cannot (another model or scope, a video that changed, saved frames that are not this video's),
the reason is said and nothing is asked on the wrong frames."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tests.support.standins import build_hub_extras, build_internvideo2, build_internvideo25, build_internvl2, isolate_hf_caches
from tests.support.tiny_native import build_llava_onevision, build_qwen2_vl
from videochat.backends import create_backend
from videochat.backends.base import GenerationSettings, LoadOptions
from videochat.chat import Answer, VideoChat
from videochat.continuing import chosen_sample, frames_changed, saved_conversation, scope_change
from videochat.errors import SavedFramesChanged
from videochat.families import get_family
from videochat.models.resolve import resolve_model
from videochat.video.source import VideoSource

SETTINGS = GenerationSettings(max_new_tokens=10)
FRAMES = 8
QUESTIONS = ["What is happening in this video?", "What is she wearing?", "How many people appear in the video?"]
WIDE = 0.3  # the stand-ins' language models follow every token of their prompt (see tests/backends/test_remote_cache.py)
BUILDERS = {
    "llava-onevision": lambda folder: build_llava_onevision(folder, layers=2),  # one layer answers the last question alone
    "qwen2-vl": build_qwen2_vl,
    "internvl2": lambda folder: build_internvl2(folder, init_range=WIDE),
    "internvideo2.5": lambda folder: build_internvideo25(folder, init_range=WIDE),
    "internvideo2": build_internvideo2,
}


@pytest.fixture(scope="module")
def backends(tmp_path_factory):
    root = tmp_path_factory.mktemp("continuing")
    with isolate_hf_caches(root / "hf-home") as (hub_cache, _):
        build_hub_extras(hub_cache, root / "scratch", init_range=WIDE)  # InternVideo2-Chat's language model
        loaded = {}
        for name, build in BUILDERS.items():
            backend = create_backend(resolve_model(str(build(root / f"{name}-tiny"))), LoadOptions(trust_remote_code=True))
            backend.load()
            loaded[name] = backend
        yield loaded


def saved(answers: list[Answer]) -> list[Answer]:
    """The answers as a session file gives them back."""
    return [Answer.from_dict(json.loads(json.dumps(answer.to_dict()))) for answer in answers]


def ask(chat: VideoChat, question: str, **scope) -> str:
    return "".join(chat.ask(question, FRAMES if "num_frames" not in scope else scope.pop("num_frames"), settings=SETTINGS, **scope))


def card_chat(backend, chat: VideoChat, history, question: str) -> str:
    """InternVideo2-Chat's own chat() handed the saved turns as its history. Its history keeps each answer
    as decoded (the stand-in's tokenizer decodes a leading space), while an answer is shown and saved
    stripped: a conversation goes on from the saved text, as the card does when handed it."""
    from videochat.backends.internvideo2 import chat_generation_config

    prepared = chat._conversation.prepared
    media = prepared.pixel_values.to(backend.device, backend.dtype)
    answer = backend.model.chat(
        backend.tokenizer, prepared.sample.message or "", question, media_type="video", media_tensor=media,
        chat_history=list(history), return_history=False, generation_config=chat_generation_config(SETTINGS),
    )
    return answer.strip()


@pytest.mark.parametrize("family", list(BUILDERS))
def test_a_continued_conversation_answers_as_the_uninterrupted_one_on_the_same_frames(backends, clips, family):
    backend = backends[family]
    with VideoSource.open(clips("plain.mp4")) as source:
        original = VideoChat(source, backend)
        for question in QUESTIONS:
            ask(original, question)
        uninterrupted = [answer.text for answer in original.answers]

        # The app is closed after two turns and opened again: a new chat goes on from the saved ones.
        conversation = saved_conversation(saved(original.answers[:2]))
        assert conversation.history() == [(answer.question, answer.text) for answer in original.answers[:2]]
        assert scope_change(conversation, backend.ref, FRAMES, None) is None
        continued = VideoChat(source, backend)
        continued.resume(conversation.history(), list(conversation.indices), list(conversation.times), conversation.frames, conversation.segment)
        expected = uninterrupted[2] if family != "internvideo2" else card_chat(backend, continued, conversation.history(), QUESTIONS[2])
        assert ask(continued, QUESTIONS[2]) == expected
        answer = continued.answers[-1]
        assert answer.indices == original.answers[0].indices and answer.times == original.answers[0].times and answer.follow_up

        # The history is what makes the answer: without it (or with another), it differs.
        afresh = VideoChat(source, backend)
        afresh.resume([("Name every colour you see, one by one.", "Red, then green, then a deep blue sky.")], list(conversation.indices), None, FRAMES)
        assert ask(afresh, QUESTIONS[2]) != uninterrupted[2]


def test_the_saved_conversation_is_the_last_one_and_its_follow_ups(backends, clips):
    with VideoSource.open(clips("plain.mp4")) as source:
        chat = VideoChat(source, backends["llava-onevision"])
        ask(chat, "First?", num_frames=4)
        ask(chat, "Only the start?", num_frames=4, segment=(0.0, 1.0))
        ask(chat, "And then?", num_frames=4, segment=(0.0, 1.0))
    conversation = saved_conversation(saved(chat.answers))
    assert [question for question, _ in conversation.history()] == ["Only the start?", "And then?"]
    assert conversation.segment == (0.0, 1.0) and conversation.frames == 4 and list(conversation.indices) == chat.answers[-1].indices
    assert saved_conversation([]) is None


def test_another_model_frame_count_or_segment_says_a_new_conversation_starts(backends, clips):
    with VideoSource.open(clips("plain.mp4")) as source:
        chat = VideoChat(source, backends["llava-onevision"])
        ask(chat, "What happens?")
    conversation = saved_conversation(saved(chat.answers))
    llava, qwen = backends["llava-onevision"].ref, backends["qwen2-vl"].ref
    assert scope_change(conversation, llava, FRAMES, None) is None and scope_change(conversation, llava, None, None) is None
    assert scope_change(conversation, qwen, FRAMES, None) == (
        "A new conversation starts: the saved conversation was with llava-onevision-tiny, and qwen2-vl-tiny is loaded now."
    )
    # A session file's model name is outside text: it cannot break the chat's note or reverse its end.
    hostile = scope_change(dataclasses.replace(conversation, model="tiny\u202e\n\n# evil"), qwen, FRAMES, None)
    assert hostile == "A new conversation starts: the saved conversation was with tiny\\u202e # evil, and qwen2-vl-tiny is loaded now."
    assert scope_change(conversation, llava, 16, None) == "A new conversation starts: the saved conversation was about 8 frames, and this question asks for 16."
    assert scope_change(conversation, llava, FRAMES, (1.0, 2.0)) == (
        "A new conversation starts: the saved conversation was about the whole clip, and this question is about 0:00:01.000–0:00:02.000."
    )


def test_a_video_replaced_by_another_clip_is_not_continued_and_the_reason_is_said(backends, clips):
    with VideoSource.open(clips("plain.mp4")) as source:
        chat = VideoChat(source, backends["llava-onevision"])
        ask(chat, "What happens?")
    conversation = saved_conversation(saved(chat.answers))
    with VideoSource.open(clips("vfr.mp4")) as other:  # another clip at the same path: other frame times
        reason = frames_changed(list(conversation.indices), list(conversation.times), other.info, get_family("native"))
        assert reason.startswith("the video changed since it was saved: frame ")
        resumed = VideoChat(other, backends["llava-onevision"])
        with pytest.raises(SavedFramesChanged, match="The saved conversation cannot go on: the video changed since it was saved"):
            resumed.resume(conversation.history(), list(conversation.indices), list(conversation.times), FRAMES)
        assert resumed._conversation is None  # nothing was prepared or kept: the next question starts afresh
        ask(resumed, "What happens here?")
        assert not resumed.answers[-1].follow_up


@pytest.mark.parametrize(
    "indices, times, reason",
    [
        ([0, 5, 90], [0.0, 0.2, 3.0], "not frames of this video in order (it has 90 frames)"),
        ([-1, 5], [0.0, 0.2], "not frames of this video in order"),
        ([5, 1], [0.2, 0.04], "not frames of this video in order"),
        (list(range(10**6)), [0.0] * 10**6, "not a count this model takes"),
        ([], [], "not saved with their times"),
        ([0, 1], [0.0], "not saved with their times"),
        ([0, 1.5], [0.0, 0.04], "not frame numbers with times"),
        ([0, True], [0.0, 0.04], "not frame numbers with times"),
        ([0, 1], [0.0, float("nan")], "not frame numbers with times"),
        ([0, 2**70], [0.0, 1.0], "not frames of this video in order"),
    ],
)
def test_hostile_saved_frames_are_refused_with_a_reason_and_nothing_crashes(clips, indices, times, reason):
    with VideoSource.open(clips("plain.mp4")) as source:
        family = get_family("native")
        assert reason in frames_changed(indices, times, source.info, family)
        with pytest.raises(SavedFramesChanged, match="The saved conversation cannot go on"):
            chosen_sample(family, source.info, indices, times)
