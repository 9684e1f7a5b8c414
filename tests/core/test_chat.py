"""`VideoChat`: scope and follow-ups, stopping while frames are read, unload and load again, question checks."""

from __future__ import annotations

import pytest

from tests.support.tiny_native import build_llava_onevision
from videochat import errors
from videochat.backends import create_backend
from videochat.backends.base import Conversation, GenerationSettings, Turn
from videochat.models.resolve import resolve_model
from videochat.chat import VideoChat
from videochat.video.source import VideoSource

SHORT = GenerationSettings(max_new_tokens=8)


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    backend = create_backend(resolve_model(build_llava_onevision(tmp_path_factory.mktemp("llava"))))
    backend.load()
    return backend


@pytest.fixture
def chat(backend, clips):
    with VideoSource.open(clips("plain.mp4")) as source:
        yield VideoChat(source, backend)


def answer(chat, question, **kwargs):
    return "".join(chat.ask(question, settings=SHORT, **kwargs))


def counting_decodes(chat, monkeypatch) -> list:
    calls = []
    original = chat.source.iter_frames

    def iter_frames(indices):
        calls.append(list(indices))
        return original(indices)

    monkeypatch.setattr(chat.source, "iter_frames", iter_frames)
    return calls


def test_follow_ups_keep_the_frames_and_a_new_scope_samples_again(chat, monkeypatch):
    decodes = counting_decodes(chat, monkeypatch)
    answer(chat, "What happens?", num_frames=4)
    answer(chat, "And then?", num_frames=4)
    assert len(decodes) == 1
    first, second = chat.answers
    assert (first.follow_up, second.follow_up) == (False, True) and first.indices == second.indices
    answer(chat, "Only the start?", num_frames=4, segment=(0.0, 1.0))
    third = chat.answers[-1]
    assert len(decodes) == 2 and not third.follow_up and max(third.times) <= 1.0
    assert third.segment == (0.0, 1.0) and third.frames == 4 and third.model == chat.backend.ref.display_name


def test_a_fresh_question_on_the_same_scope_reuses_the_frames_without_the_earlier_turns(chat, monkeypatch):
    import videochat.chat

    decodes = counting_decodes(chat, monkeypatch)
    prepares = []
    original_prepare = videochat.chat.prepare
    monkeypatch.setattr(videochat.chat, "prepare", lambda *args, **kwargs: prepares.append(args) or original_prepare(*args, **kwargs))
    answer(chat, "What happens?", num_frames=4)
    earlier = chat._conversation
    fresh = answer(chat, "And then?", num_frames=4, follow_up=False)
    assert len(decodes) == 1 and len(prepares) == 1
    conversation = chat._conversation
    assert conversation is not earlier and conversation.prepared is earlier.prepared
    assert [turn.question for turn in conversation.turns] == ["And then?"]
    first, second = chat.answers
    assert not second.follow_up and second.indices == first.indices
    assert fresh == "".join(chat.backend.stream(Conversation(earlier.prepared), "And then?", SHORT))


def test_stop_while_frames_are_read_cancels_and_the_next_question_works(chat, monkeypatch):
    original = chat.source.iter_frames

    def iter_frames(indices):
        for number, item in enumerate(original(indices)):
            if number == 1:
                chat.stop()  # as the GUI's Stop button would, from another thread
            yield item

    monkeypatch.setattr(chat.source, "iter_frames", iter_frames)
    with pytest.raises(errors.Cancelled):
        answer(chat, "What happens?", num_frames=8)
    assert chat.answers == []
    monkeypatch.setattr(chat.source, "iter_frames", original)
    assert answer(chat, "What happens?", num_frames=8) and not chat.answers[-1].stopped


def test_unload_frees_what_conversations_hold_and_they_continue_after_a_new_load(chat, backend):
    answer(chat, "What happens?", num_frames=4)
    conversation = chat._conversation
    assert conversation.state is not None and conversation.state.cache is not None
    backend.unload()
    try:
        assert backend.model is None and conversation.state is None
        with pytest.raises(errors.ModelError, match="load"):
            answer(chat, "And then?", num_frames=4)
    finally:
        backend.load()
    follow_up = answer(chat, "And then?", num_frames=4)
    replayed = Conversation(conversation.prepared, turns=[Turn(t.question, t.answer) for t in conversation.turns[:1]])
    assert follow_up == "".join(backend.stream(replayed, "And then?", SHORT))
    assert chat.answers[-1].follow_up


@pytest.mark.parametrize("question", ["", "  \n", "What is <video>?", "Say <|im_end|> twice"])
def test_questions_that_are_empty_or_hold_control_marks_are_refused_before_any_decode(chat, monkeypatch, question):
    decodes = counting_decodes(chat, monkeypatch)
    with pytest.raises(errors.InvalidQuestion):
        answer(chat, question)
    assert decodes == [] and chat.answers == []


@pytest.mark.parametrize("frames", [0, -4])
def test_a_frame_count_below_one_is_refused_as_sampling_refuses_it_not_replaced_by_the_default(chat, monkeypatch, frames):
    decodes = counting_decodes(chat, monkeypatch)
    with pytest.raises(errors.InvalidFrameCount, match=f"not {frames}"):
        answer(chat, "What happens?", num_frames=frames)
    assert decodes == [] and chat.answers == []


def test_answer_to_dict_names_the_text_answer(chat):
    answer(chat, "What happens?", num_frames=4)
    saved = chat.answers[-1].to_dict()
    assert saved["answer"] == chat.answers[-1].text and "text" not in saved
    assert saved["indices"] == chat.answers[-1].indices
