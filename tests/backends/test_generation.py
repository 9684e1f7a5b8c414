"""Streaming, stopping and error mapping around generate, on a tiny language model."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from tests.support.tiny_tokenizer import build_tokenizer
from videochat import errors
from videochat.backends.streaming import StreamedCall


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    tokenizer = build_tokenizer(tmp_path_factory.mktemp("tok"))
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2)
    model = Qwen2ForCausalLM(config).eval()
    model.generation_config.eos_token_id = None  # random weights: never stop early
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def generate_call(model, tokenizer, max_new_tokens=40, delay=0.0):
    inputs = tokenizer("What happens in the video?", return_tensors="pt")

    def call(streamer, stopping_criteria):
        if delay:
            time.sleep(delay)
        return model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False, streamer=streamer, stopping_criteria=stopping_criteria)

    return call


def test_text_streams_in_pieces_that_add_up_to_the_answer(tiny_lm):
    model, tokenizer = tiny_lm
    run = StreamedCall(generate_call(model, tokenizer), tokenizer, threading.Event())
    pieces = list(run)
    assert len(pieces) > 3
    prompt_length = len(tokenizer("What happens in the video?").input_ids)
    assert "".join(pieces) == tokenizer.decode(run.result[0, prompt_length:], skip_special_tokens=True)


def test_stop_ends_generation_within_a_token_and_keeps_the_partial_answer(tiny_lm):
    model, tokenizer = tiny_lm
    stop = threading.Event()
    steps = []

    def press_stop_at_the_fifth_step(_module, _args):
        steps.append(len(steps) + 1)
        if len(steps) == 5:
            stop.set()  # as if the user pressed Stop while the fifth token is computed

    handle = model.register_forward_pre_hook(press_stop_at_the_fifth_step)
    try:
        run = StreamedCall(generate_call(model, tokenizer, max_new_tokens=200), tokenizer, stop)
        pieces = list(run)
    finally:
        handle.remove()
    prompt_length = len(tokenizer("What happens in the video?").input_ids)
    generated = run.result[0, prompt_length:]
    assert len(generated) == 5 and len(steps) == 5  # the criterion ended it right after that token
    assert "".join(pieces) == tokenizer.decode(generated, skip_special_tokens=True)


def test_an_error_in_generate_is_raised_to_the_reader_never_a_hang(tiny_lm):
    _, tokenizer = tiny_lm

    def broken(streamer, stopping_criteria):
        raise ValueError("weights missing")

    with pytest.raises(ValueError, match="weights missing"):
        list(StreamedCall(broken, tokenizer, threading.Event()))


def test_out_of_memory_becomes_a_typed_error_with_advice(tiny_lm):
    _, tokenizer = tiny_lm

    def oom(streamer, stopping_criteria):
        streamer.put(torch.tensor([[1, 2]]))
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    with pytest.raises(errors.OutOfMemory, match="fewer frames"):
        list(StreamedCall(oom, tokenizer, threading.Event()))


def test_a_reader_that_goes_away_stops_the_generation_thread(tiny_lm):
    model, tokenizer = tiny_lm
    stop = threading.Event()
    stream = iter(StreamedCall(generate_call(model, tokenizer, max_new_tokens=500), tokenizer, stop))
    next(stream)
    stream.close()  # e.g. the caller was cancelled
    assert stop.is_set()
    assert not [t for t in threading.enumerate() if t.name == "videochat-generate"]
