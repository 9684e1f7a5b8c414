"""The CUDA paths of every family on tiny checkpoints: half precision, Stop, out of memory, unload, 8/4-bit, flash attention.

Tests marked `gpu` run only where torch sees a CUDA device (`pytest -m gpu`, scripts/gpu-check.sh);
elsewhere they are reported as skipped. Where a test means something on the CPU too, it is
parametrized by device, and its "cpu" case runs in CI with the same body. The frames are pictures
made in memory (tests/gpu/checkpoints.py): the GPU machine has no video decoder.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from tests.gpu.checkpoints import (
    FAMILIES,
    REMOTE_CODE,
    allocated,
    device_memory_filled,
    importable,
    load,
    on_each_token,
)
from videochat.backends.base import GenerationSettings
from videochat.errors import OutOfMemory, UnsupportedSetting

QUESTION = "What is happening in this video?"
FOLLOW_UP = "What is she wearing?"
SHORT = GenerationSettings(max_new_tokens=12)
LONG = GenerationSettings(max_new_tokens=200)
STOP_AT = 6  # the token at which the user presses Stop

INTERNVIDEO2 = ("internvideo2", "internvideo2-hd")  # its code takes neither bitsandbytes nor a choice of attention
QUANTISABLE = [family for family in FAMILIES if family not in INTERNVIDEO2]

gpu = pytest.mark.gpu
DEVICES = [pytest.param("cpu", id="cpu"), pytest.param("cuda", marks=gpu, id="cuda")]
HALF_PRECISIONS = [
    pytest.param("cpu", "bfloat16", id="cpu-bfloat16"),
    pytest.param("cuda", "bfloat16", marks=gpu, id="cuda-bfloat16"),
    pytest.param("cuda", "float16", marks=gpu, id="cuda-float16"),
]


def ask(backend, conversation, question=QUESTION, settings=SHORT):
    pieces = list(backend.stream(conversation, question, settings))
    return pieces, conversation.turns[-1]


def language_model(backend):
    inner = getattr(backend, "inner_language_model", None)
    return getattr(backend.model, inner) if inner else backend.model


def skip_unless_importable(module: str, what: str) -> None:
    why = importable(module)
    if why is not None:
        pytest.skip(f"{module} does not import here ({why}): {what} has not run")


# -- half precision on the device, streaming, Stop ----------------------------------------------


@pytest.mark.parametrize("device, precision", HALF_PRECISIONS)
@pytest.mark.parametrize("family", FAMILIES)
def test_a_model_loads_in_half_precision_on_the_device_and_streams_its_answer(loaded, prepared, family, device, precision):
    backend = loaded(family, device, precision)
    weights = list(backend.model.parameters())
    assert {weight.device.type for weight in weights} == {device}
    assert {weight.dtype for weight in weights if weight.is_floating_point()} == {getattr(torch, precision)}

    conversation = backend.start(prepared[family])
    pieces, turn = ask(backend, conversation)
    assert len(pieces) >= 1
    assert "".join(pieces) == turn.answer != ""
    assert (turn.question, turn.stopped) == (QUESTION, False)


@gpu
@pytest.mark.parametrize("family", FAMILIES)
def test_auto_settings_choose_the_gpu_in_bfloat16(checkpoints, family):
    backend = load(checkpoints[family])  # device and precision "auto", as the app's settings start
    try:
        assert (backend.device.type, backend.dtype) == ("cuda", torch.bfloat16)
        assert {weight.device.type for weight in backend.model.parameters()} == {"cuda"}
    finally:
        backend.unload()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("family", FAMILIES)
def test_stop_ends_the_answer_within_one_token_and_the_model_answers_the_next_question(loaded, prepared, family, device):
    backend = loaded(family, device)
    conversation = backend.start(prepared[family])

    def user_presses_stop(step):
        if step == STOP_AT:
            backend.cancel()  # from the generating thread, as the window's Stop does from its own

    with on_each_token(backend, user_presses_stop) as steps:
        pieces, stopped = ask(backend, conversation, settings=LONG)
    assert stopped.stopped and len(steps) <= STOP_AT + 1
    assert "".join(pieces) == stopped.answer

    with on_each_token(backend, lambda step: None) as steps:
        _, turn = ask(backend, conversation, FOLLOW_UP)
    assert not turn.stopped and turn.answer != ""
    assert len(steps) <= SHORT.max_new_tokens + 1  # the follow-up's prompt, then its tokens: never the stopped answer's 200
    assert [t.question for t in conversation.turns] == [QUESTION, FOLLOW_UP]


# -- out of memory ------------------------------------------------------------------------------


@gpu
@pytest.mark.parametrize("family", FAMILIES)
def test_out_of_memory_while_answering_is_the_typed_error_and_the_model_answers_once_memory_is_free(loaded, prepared, family):
    backend = loaded(family, "cuda")
    conversation = backend.start(prepared[family])
    _, first = ask(backend, conversation)

    with device_memory_filled(backend.device), pytest.raises(OutOfMemory, match="fewer frames"):
        ask(backend, conversation, FOLLOW_UP)
    assert conversation.turns == [first]

    _, turn = ask(backend, conversation, FOLLOW_UP)
    assert turn.answer != "" and not turn.stopped
    assert [t.question for t in conversation.turns] == [QUESTION, FOLLOW_UP]


@gpu
@pytest.mark.parametrize("family", FAMILIES)
def test_out_of_memory_on_a_new_videos_first_question_is_the_typed_error(loaded, prepared, family):
    backend = loaded(family, "cuda")
    with device_memory_filled(backend.device), pytest.raises(OutOfMemory):
        ask(backend, backend.start(prepared[family]))

    conversation = backend.start(prepared[family])
    _, turn = ask(backend, conversation)
    assert turn.answer != "" and conversation.turns == [turn]


class FramesThatDoNotFit:
    """Pixel values whose move to the model's device runs out of memory, as a full GPU makes them."""

    shape = (1,)

    def to(self, *args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


@pytest.mark.parametrize("family", sorted(REMOTE_CODE))
def test_frames_that_do_not_fit_on_the_device_are_the_typed_error(loaded, prepared, family):
    backend = loaded(family, "cpu")
    too_big = dataclasses.replace(prepared[family], pixel_values=FramesThatDoNotFit())
    with pytest.raises(OutOfMemory, match="fewer frames"):
        backend.start(too_big)


# -- unload -------------------------------------------------------------------------------------


@gpu
@pytest.mark.parametrize("family", FAMILIES)
def test_unload_returns_the_devices_allocated_memory_to_its_baseline_and_the_conversation_goes_on(checkpoints, prepared, family):
    device = torch.device("cuda")
    # Once before measuring: what torch allocates on first use and keeps (cuBLAS/cuBLASLt workspaces, kernels'
    # tables) is the process's, not the model's; a leak of the model's own shows in the measured round too.
    warm_up = load(checkpoints[family], device="cuda", precision="bfloat16")
    ask(warm_up, warm_up.start(prepared[family]))
    warm_up.unload()
    baseline = allocated(device)
    backend = load(checkpoints[family], device="cuda", precision="bfloat16")
    conversation = backend.start(prepared[family])
    ask(backend, conversation)
    assert allocated(device) > baseline

    backend.unload()
    assert allocated(device) == baseline

    backend.load()
    _, turn = ask(backend, conversation, FOLLOW_UP)
    assert turn.answer != "" and [t.question for t in conversation.turns] == [QUESTION, FOLLOW_UP]
    backend.unload()
    assert allocated(device) == baseline


# -- 8-bit and 4-bit ----------------------------------------------------------------------------

QUANTISED_LINEAR = {"8bit": "Linear8bitLt", "4bit": "Linear4bit"}


@gpu
@pytest.mark.parametrize("precision", ["8bit", "4bit"])
@pytest.mark.parametrize("family", QUANTISABLE)
def test_a_quantised_model_loads_and_answers_where_bitsandbytes_imports(checkpoints, prepared, family, precision):
    skip_unless_importable("bitsandbytes", f"{precision} loading")
    backend = load(checkpoints[family], device="cuda", precision=precision)
    try:
        layers = {type(module).__name__ for module in backend.model.modules()}
        assert QUANTISED_LINEAR[precision] in layers
        _, turn = ask(backend, backend.start(prepared[family]))
        assert turn.answer != "" and not turn.stopped
    finally:
        backend.unload()


@gpu
@pytest.mark.parametrize("family", INTERNVIDEO2)
def test_internvideo2_refuses_8bit_with_what_to_use_instead(checkpoints, family):
    skip_unless_importable("bitsandbytes", "the 8bit refusal")
    with pytest.raises(UnsupportedSetting, match="bfloat16"):
        load(checkpoints[family], device="cuda", precision="8bit")


# -- flash attention ----------------------------------------------------------------------------


@gpu
@pytest.mark.parametrize("family", QUANTISABLE)
def test_flash_attention_loads_and_answers_where_flash_attn_imports(checkpoints, prepared, family):
    skip_unless_importable("flash_attn", "flash attention")
    backend = load(checkpoints[family], device="cuda", precision="bfloat16", attention="flash")
    try:
        assert language_model(backend).config._attn_implementation == "flash_attention_2"
        _, turn = ask(backend, backend.start(prepared[family]))
        assert turn.answer != "" and not turn.stopped
    finally:
        backend.unload()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("family", FAMILIES)
def test_flash_attention_without_flash_attn_is_refused_with_what_to_choose(checkpoints, family, device):
    if importable("flash_attn") is None and family not in INTERNVIDEO2:
        pytest.skip("flash_attn imports here: test_flash_attention_loads_and_answers_where_flash_attn_imports covers it")
    with pytest.raises(UnsupportedSetting, match="flash|attention"):
        load(checkpoints[family], device=device, precision="bfloat16", attention="flash")
