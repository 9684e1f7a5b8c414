"""LLaVA-OneVision and Qwen2-VL backends on tiny random checkpoints, loaded the way the app loads them.

Each family's checkpoint is built once per module, resolved through the catalog and loaded through the
backend registry with the hub offline. Answers of random weights are gibberish, but greedy gibberish is
deterministic, which is what the cache tests compare.
"""

from __future__ import annotations

import contextlib
import json

import pytest

from tests.support.tiny_native import BUILDERS
from tests.support import clips as testing
from videochat.backends import create_backend
from videochat.backends.base import Conversation, GenerationSettings, Turn
from videochat.errors import BadModelFolder
from videochat.models.resolve import resolve_model
from videochat.errors import ModelLoadError, OutOfMemory
from videochat.frames.pipeline import prepare
from videochat.video.source import VideoSource

FAMILIES = sorted(BUILDERS)
FRAMES = 8
SHORT = GenerationSettings(max_new_tokens=12)
LONG = GenerationSettings(max_new_tokens=40)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return {name: build(tmp_path_factory.mktemp(name)) for name, build in BUILDERS.items()}


@pytest.fixture(scope="module")
def backends(folders):
    loaded = {}
    for name, folder in folders.items():
        backend = create_backend(resolve_model(str(folder)))
        backend.load()
        loaded[name] = backend
    return loaded


@pytest.fixture(params=FAMILIES)
def backend(request, backends):
    return backends[request.param]


@pytest.fixture(scope="module")
def prepared(clips):
    with VideoSource.open(clips("plain.mp4")) as source:
        return prepare(source, "native", FRAMES)


@pytest.fixture(scope="module")
def other_prepared(clips):
    """A second video whose frame count gives it a different token grid."""
    with VideoSource.open(clips("long_gop.mp4")) as source:
        return prepare(source, "native", 2 * FRAMES)


def ask(backend, conversation, question, settings=SHORT) -> str:
    return "".join(backend.stream(conversation, question, settings))


def vision_tower(backend):
    return getattr(backend.model, "vision_tower", None) or backend.model.visual


@contextlib.contextmanager
def calls_of(module):
    """The inputs (args, kwargs) of every forward of `module` while the block runs."""
    seen = []
    handle = module.register_forward_pre_hook(lambda _module, args, kwargs: seen.append((args, kwargs)), with_kwargs=True)
    try:
        yield seen
    finally:
        handle.remove()


def replay(prepared, turns: list[Turn]) -> Conversation:
    """A fresh conversation with this history and no cache."""
    return Conversation(prepared, turns=[Turn(turn.question, turn.answer) for turn in turns])


# -- answering ------------------------------------------------------------------------------


def test_answer_streams_in_pieces_that_join_to_the_recorded_turn(backend, prepared):
    conversation = backend.start(prepared)
    pieces = list(backend.stream(conversation, "What is happening in this video?", LONG))
    assert len(pieces) > 1
    assert conversation.turns == [Turn("What is happening in this video?", "".join(pieces), stopped=False)]


def test_the_model_sees_exactly_the_sampled_frames(backend, prepared, monkeypatch):
    processor_class = type(backend.processor)
    original_call = processor_class.__call__
    videos_given = []

    def spy(self, *args, **kwargs):
        videos_given.append(kwargs["videos"])
        return original_call(self, *args, **kwargs)

    monkeypatch.setattr(processor_class, "__call__", spy)
    with calls_of(vision_tower(backend)) as tower_inputs:
        ask(backend, backend.start(prepared), "Describe the video.")

    [frames] = videos_given
    assert [testing.read_frame_code(frame) for frame in frames] == list(prepared.indices)
    [tower_input] = tower_inputs
    assert frames_seen_by_tower(backend, tower_input) == FRAMES


def frames_seen_by_tower(backend, tower_input) -> int:
    args, kwargs = tower_input
    if backend.name == "qwen2-vl":
        # Qwen2-VL's tower takes patches and a (time, height, width) grid; a time step spans two frames.
        return int(kwargs["grid_thw"][0, 0]) * backend.model.config.vision_config.temporal_patch_size
    return args[0].shape[0]  # LLaVA-OneVision's SigLIP takes one image a frame


def test_cancel_stops_within_a_token_keeps_the_partial_answer_and_the_model_answers_again(backend, prepared):
    conversation = backend.start(prepared)
    pieces = []
    with calls_of(backend.model.get_decoder()) as steps:
        for piece in backend.stream(conversation, "What is happening in this video?", GenerationSettings(max_new_tokens=200)):
            if not pieces:
                backend.cancel()
                steps_when_cancelled = len(steps)  # read after: at most the step begun meanwhile may follow
            pieces.append(piece)
    assert len(steps) - steps_when_cancelled <= 1
    assert len(steps) < 200
    [turn] = conversation.turns
    assert turn.stopped and turn.answer == "".join(pieces)

    assert ask(backend, conversation, "How many people appear in the video?")
    assert conversation.turns[-1].stopped is False


def test_walking_away_from_the_stream_stops_generation_and_keeps_what_was_said(backend, prepared):
    conversation = backend.start(prepared)
    stream = backend.stream(conversation, "What is happening in this video?", GenerationSettings(max_new_tokens=200))
    first = next(stream)
    stream.close()
    [turn] = conversation.turns
    assert turn.stopped and turn.answer.startswith(first)
    assert ask(backend, conversation, "Why is it funny?")


# -- follow-ups and the key/value cache ------------------------------------------------------


def test_follow_ups_reuse_the_video_and_the_cache_and_answer_as_a_fresh_replay_does(backend, prepared, monkeypatch):
    frames_read = []
    original_iter_frames = VideoSource.iter_frames

    def counting_iter_frames(self, indices, *args, **kwargs):
        frames_read.extend(indices)
        return original_iter_frames(self, indices, *args, **kwargs)

    monkeypatch.setattr(VideoSource, "iter_frames", counting_iter_frames)
    conversation = backend.start(prepared)
    with calls_of(vision_tower(backend)) as tower_runs:
        ask(backend, conversation, "What is happening in this video?")
        second = ask(backend, conversation, "How many people appear in the video?")
        third = ask(backend, conversation, "What is she wearing?")
    assert len(tower_runs) == 1, "a follow-up ran the vision tower again instead of reusing the cache"
    assert frames_read == []  # the conversation works on the prepared frames, never the file

    assert ask(backend, replay(prepared, conversation.turns[:1]), "How many people appear in the video?") == second
    with calls_of(vision_tower(backend)) as tower_runs:
        assert ask(backend, replay(prepared, conversation.turns[:2]), "What is she wearing?") == third
    assert len(tower_runs) == 1  # the replay did read the video: the two answers came by different paths


def test_a_follow_up_after_a_conversation_on_another_video_still_answers_as_a_fresh_replay(backend, prepared, other_prepared):
    conversation = backend.start(prepared)
    ask(backend, conversation, "What is happening in this video?")
    ask(backend, backend.start(other_prepared), "Describe the video.")  # leaves its own positions in the model
    follow_up = ask(backend, conversation, "Why is it funny?")
    assert ask(backend, replay(prepared, conversation.turns[:1]), "Why is it funny?") == follow_up


def test_a_conversation_given_other_frames_reads_them_instead_of_its_cache(backend, prepared, other_prepared):
    conversation = backend.start(prepared)
    ask(backend, conversation, "What is happening in this video?")
    conversation.prepared = other_prepared  # the user asked for more frames, or another segment
    with calls_of(vision_tower(backend)) as tower_runs:
        answer = ask(backend, conversation, "Why is it funny?")
    assert len(tower_runs) == 1
    assert ask(backend, replay(other_prepared, conversation.turns[:1]), "Why is it funny?") == answer


def test_a_follow_up_to_a_stopped_answer_matches_a_fresh_replay(backend, prepared):
    conversation = backend.start(prepared)
    for _piece in backend.stream(conversation, "What is happening in this video?", LONG):
        backend.cancel()
    follow_up = ask(backend, conversation, "Why is it funny?")
    assert conversation.turns[0].stopped
    assert ask(backend, replay(prepared, conversation.turns[:1]), "Why is it funny?") == follow_up


def test_answers_are_the_same_with_the_cache_switched_off(backend, prepared, monkeypatch):
    with_cache = backend.start(prepared)
    ask(backend, with_cache, "What is happening in this video?")
    expected = ask(backend, with_cache, "How many people appear in the video?")
    monkeypatch.setattr(backend, "_reusable_length", lambda state, input_ids: 0)  # nothing of the cache is reused
    without = backend.start(prepared)
    ask(backend, without, "What is happening in this video?")
    with calls_of(vision_tower(backend)) as tower_runs:
        assert ask(backend, without, "How many people appear in the video?") == expected
    assert len(tower_runs) == 1


def test_qwen2_vl_frames_get_the_cards_pixel_budget(backends, prepared, monkeypatch):
    backend = backends["qwen2-vl"]
    # The real checkpoints' processor limits, wider than the card's video budget.
    monkeypatch.setattr(backend.processor.image_processor, "max_pixels", 28 * 28 * 1280)
    frames = backend._frames_for_processor(prepared.pixel_values)
    # qwen-vl-utils' fetch_video for 320 x 240: at least 128 tokens of 28 x 28 a frame pair, multiples of 28.
    assert frames.shape == (FRAMES, 280, 392, 3)
    assert [testing.read_frame_code(frame) for frame in frames] == list(prepared.indices)


def test_qwen2_vl_vision_tower_step_by_step_gives_what_it_gives_for_the_whole_video(backends, prepared):
    import torch

    backend = backends["qwen2-vl"]
    inputs = backend.processor(text="<|vision_start|><|video_pad|><|vision_end|>", videos=prepared.pixel_values.numpy(), return_tensors="pt")
    pixels, grid = inputs["pixel_values_videos"], inputs["video_grid_thw"]
    assert int(grid[0, 0]) > 1
    visual = backend.model.visual
    with torch.no_grad():
        step_by_step = visual(pixels, grid_thw=grid)
        whole = type(visual).forward(visual, pixels, grid_thw=grid)
    torch.testing.assert_close(step_by_step, whole, rtol=1e-4, atol=1e-5)


# -- failures -------------------------------------------------------------------------------


def test_out_of_memory_is_a_typed_error_and_the_model_answers_afterwards(backend, prepared, monkeypatch):
    import torch

    conversation = backend.start(prepared)
    first = ask(backend, conversation, "What is happening in this video?")

    def no_memory(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(backend.model, "generate", no_memory)
    with pytest.raises(OutOfMemory):
        ask(backend, conversation, "How many people appear in the video?")
    monkeypatch.undo()

    assert [turn.answer for turn in conversation.turns] == [first]
    after = ask(backend, conversation, "How many people appear in the video?")
    assert ask(backend, replay(prepared, conversation.turns[:1]), "How many people appear in the video?") == after


@pytest.fixture(params=FAMILIES)
def spoilt_folder(request, tmp_path):
    return BUILDERS[request.param](tmp_path / request.param)


def test_a_folder_without_weights_is_a_model_load_error(spoilt_folder):
    (spoilt_folder / "model.safetensors").unlink()
    backend = create_backend(resolve_model(str(spoilt_folder)))
    with pytest.raises(ModelLoadError, match="download it again"):
        backend.load()


def test_an_unreadable_config_is_a_bad_model_folder(spoilt_folder):
    config = spoilt_folder / "config.json"
    config.write_text(config.read_text()[:40])
    with pytest.raises(BadModelFolder, match="config.json"):
        resolve_model(str(spoilt_folder))


def test_a_config_that_does_not_fit_the_weights_is_a_model_load_error(spoilt_folder):
    config_path = spoilt_folder / "config.json"
    config = json.loads(config_path.read_text())
    text = config.get("text_config", config)
    text["hidden_size"] *= 2
    config_path.write_text(json.dumps(config))
    backend = create_backend(resolve_model(str(spoilt_folder)))
    with pytest.raises(ModelLoadError, match=backend.ref.display_name):
        backend.load()
