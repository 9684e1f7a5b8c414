"""What a current-runtime family's backend does, measured inside that runtime and printed as JSON.

Run with the current runtime's interpreter (tests/support/current_runtime.py):

    python -m tests.support.current_checks FAMILY CHECKPOINT_FOLDER CLIP [VFR_CLIP]

It loads the tiny checkpoint through the app's own resolve/create_backend, asks about the clip's
frames and reports facts (the frames the processor got, the prompt it built, answers with and without
the key/value cache, what Stop and an out-of-memory error do); the tests in the seed runtime assert on them.
"""

from __future__ import annotations

import contextlib
import json
import sys

FRAMES = 8
SHORT = dict(max_new_tokens=12)


@contextlib.contextmanager
def calls_of(module):
    seen = []
    handle = module.register_forward_pre_hook(lambda _module, args, kwargs: seen.append(1), with_kwargs=True)
    try:
        yield seen
    finally:
        handle.remove()


def vision_tower(backend):
    inner = backend.model.model
    return getattr(inner, "visual", None) or inner.vision_tower


def main(family: str, folder: str, clip: str, vfr_clip: str | None = None) -> dict:
    import torch

    from tests.support.clips import read_frame_code
    from videochat.backends import create_backend
    from videochat.backends.base import Conversation, GenerationSettings, Turn
    from videochat.frames.pipeline import prepare
    from videochat.models.resolve import resolve_model
    from videochat.video.source import VideoSource

    torch.set_num_threads(1)
    facts: dict = {}
    ref = resolve_model(folder)
    facts.update(family=ref.family, backend=ref.backend)
    backend = create_backend(ref)
    backend.load()
    short = GenerationSettings(**SHORT)

    def ask(conversation, question, settings=short):
        return "".join(backend.stream(conversation, question, settings))

    def first_prompt(path):
        """The frames the processor got and the text it made of the first prompt, for a clip."""
        with VideoSource.open(path) as source:
            prepared = prepare(source, ref.family, FRAMES)
        processor_class = type(backend.processor)
        original = processor_class.__call__
        given = []

        def spy(self, *args, **kwargs):
            given.append(kwargs)
            outputs = original(self, *args, **kwargs)
            given[-1]["ids"] = outputs["input_ids"]
            return outputs

        processor_class.__call__ = spy
        try:
            conversation = backend.start(prepared)
            ask(conversation, "What is happening in this video?")
        finally:
            processor_class.__call__ = original
        [call] = given
        frames = call["videos"][0]
        return prepared, conversation, {
            "indices": [int(i) for i in prepared.indices],
            "times": [float(t) for t in prepared.times],
            "frame_codes": [read_frame_code(frame) for frame in frames],
            "do_sample_frames": call.get("do_sample_frames"),
            "metadata": call["video_metadata"][0],
            "prompt": backend.processor.tokenizer.decode(call["ids"][0], skip_special_tokens=False),
            "model_times": conversation.state.model_times,
        }

    prepared, conversation, facts["clip"] = first_prompt(clip)
    if vfr_clip:
        facts["vfr"] = first_prompt(vfr_clip)[2]

    # Streaming, and follow-ups with and without the cache.
    conversation = backend.start(prepared)
    pieces = list(backend.stream(conversation, "What is happening in this video?", GenerationSettings(max_new_tokens=40)))
    facts["pieces"] = len(pieces)
    facts["streamed_equals_turn"] = "".join(pieces) == conversation.turns[-1].answer
    with calls_of(vision_tower(backend)) as tower_runs:
        facts["follow_up"] = ask(conversation, "How many people appear in the video?")
        facts["third"] = ask(conversation, "What is she wearing?")
    facts["tower_runs_in_follow_ups"] = len(tower_runs)
    facts["follow_up_reused_the_video"] = conversation.state.cache is not None and conversation.state.expanded is not None

    def replay(turns):
        return Conversation(prepared, turns=[Turn(turn.question, turn.answer) for turn in turns])

    with calls_of(vision_tower(backend)) as tower_runs:
        facts["replayed_follow_up"] = ask(replay(conversation.turns[:1]), "How many people appear in the video?")
        facts["replayed_third"] = ask(replay(conversation.turns[:2]), "What is she wearing?")
    facts["tower_runs_in_replays"] = len(tower_runs)

    # Stop within one token.
    steps: list = []
    handle = backend.model.lm_head.register_forward_pre_hook(lambda *_: steps.append(1))
    stopped = backend.start(prepared)
    cancelled_at = None
    collected = []
    for piece in backend.stream(stopped, "What is happening in this video?", GenerationSettings(max_new_tokens=200)):
        if cancelled_at is None:
            backend.cancel()
            cancelled_at = len(steps)
        collected.append(piece)
    handle.remove()
    facts["steps_after_cancel"] = len(steps) - cancelled_at
    facts["stopped_turn"] = {"stopped": stopped.turns[-1].stopped, "kept": stopped.turns[-1].answer == "".join(collected)}
    facts["answers_after_stop"] = bool(ask(stopped, "Why is it funny?"))

    # Out of memory while answering: the typed error, and the next question works.
    original_generate = backend.model.generate

    def no_memory(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    backend.model.generate = no_memory
    try:
        ask(backend.start(prepared), "What is happening in this video?")
        facts["out_of_memory"] = None
    except Exception as error:  # the type is what the test checks
        facts["out_of_memory"] = type(error).__name__
    finally:
        backend.model.generate = original_generate
    facts["answers_after_out_of_memory"] = bool(ask(backend.start(prepared), "What is happening in this video?"))
    return facts


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:]), default=str))
