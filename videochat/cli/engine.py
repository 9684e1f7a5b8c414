"""`videochat ask/batch --engine URL`: the same commands, answered by a model on a server.

The server is `videochat serve` or any OpenAI-compatible engine (vLLM, SGLang, LMDeploy); the
frames are sampled and decoded here and sent to it (videochat/engines/remote.py). The key comes
from --api-key, OPENAI_API_KEY or the one stored for that address (--save-api-key), and is never
printed: every message passes through safe_text, which blanks it.

The local commands' own pieces (the question loop, the session recorder, the progress bar, Ctrl-C)
are handed in by `cli/commands.py` and `cli/batch.py`, which dispatch here: importing them from
here would make a cycle of the three modules.
"""

from __future__ import annotations

import argparse
import sys

from videochat.safe_text import shown


def add_engine_arguments(command, batch: bool = False) -> None:
    group = command.add_argument_group("engine (a model on a server)")
    group.add_argument("--engine", metavar="URL", help="ask the model --model served at this OpenAI-compatible address (videochat serve, vLLM, SGLang, LMDeploy)")
    group.add_argument("--api-key", help="the engine's key (better: OPENAI_API_KEY, which other users cannot see in the process list)")
    group.add_argument("--save-api-key", action="store_true", help="remember the key for this engine's address (a file only you can read)")
    group.add_argument("--engine-form", choices=["vllm", "images", "videochat"], help="how frames are sent (default: detected from /v1/models)")
    group.add_argument(
        "--engine-max-frames", type=int, metavar="N",
        help="the most frames of a video the engine keeps (vLLM before 0.18: 32 unless started with --media-io-kwargs; -1 for no limit)",
    )
    if batch:
        group.add_argument("--concurrency", type=_concurrency, default=4, metavar="N", help="questions in flight at once on the engine (default 4)")


def _concurrency(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 256, not {text!r}")
    return value


def connect(args):
    """The engine model the options name, after telling the user what they should know about the server."""
    from videochat.engines.client import EngineClient
    from videochat.engines.keys import api_key_for, store_key
    from videochat.engines.remote import EngineModel

    client = EngineClient(args.engine)
    client.api_key = api_key_for(client.display_url, args.api_key)
    if args.save_api_key and client.api_key:
        path = store_key(client.display_url, client.api_key)
        print(shown(f"videochat: the key for {client.display_url} is stored in {path}"), file=sys.stderr)
    engine = EngineModel.connect(client, args.model, args.engine_form, args.engine_max_frames)
    for note in engine.notes:
        print(shown(f"videochat: {note}"), file=sys.stderr)
    return engine


def _settings(args):
    from videochat.generation import GenerationSettings

    return GenerationSettings(max_new_tokens=args.max_new_tokens, temperature=args.temperature)


def run_engine_ask(args, *, ask_one, questions, open_session, check_segment) -> int:
    from videochat.engines.remote import EngineChat
    from videochat.video.source import VideoSource

    engine = connect(args)
    if args.frames is not None:
        engine.check_frame_count(args.frames)
    settings = _settings(args)
    with VideoSource.open(args.file, reader=args.reader) as source:
        segment = check_segment(args, source.info)
        chat = EngineChat(source, engine)
        session = None if args.no_save else open_session(source.info)
        for question in questions(args):
            ask_one(chat, question, args.frames, segment, settings, args.json, session)
    return 0


def run_engine_batch(args, *, progress, say_plan, run_with_progress) -> int:
    from videochat.batch.concurrent import run_engine_batch as run_batch
    from videochat.batch.inputs import find_clips
    from videochat.batch.plan import plan_batch as plan

    clips, questions = find_clips(args.clips), _read_questions(args)
    engine = connect(args)
    engine.check_frame_count(args.frames if args.frames is not None else engine.default_frames)
    # Recorded under the served name; compared as "engine:<model>", so that a restarted engine (another
    # port) resumes the file, and a local model's answers are not taken for the engine's.
    todo = plan(clips, questions, args.out, engine.model_id, args.frames, None, f"engine:{engine.model_id}")
    if not say_plan(args, todo):
        return 0
    return run_with_progress(
        args, todo, _overlapping_clips(progress)(sys.stderr, len(todo.pending)),
        lambda on_event, should_stop: run_batch(engine, todo, _settings(args), args.concurrency, on_event, should_stop, args.reader),
    )


def _overlapping_clips(progress_class):
    """The batch's progress display, told which clip each event is about: with questions in flight
    (and clips prepared ahead) the events of several clips interleave, where a local batch finishes
    one clip before it starts the next."""
    from videochat.batch.run import ClipStarted

    class OverlappingClips(progress_class):
        def __init__(self, *args):
            super().__init__(*args)
            self._names: dict = {}
            self._counts: dict = {}

        def show(self, event) -> None:
            clip = getattr(event, "clip", None)
            if isinstance(event, ClipStarted):
                super().show(event)
                self._names[clip], self._counts[clip] = self._clip, 0
                return
            if clip in self._names:
                self._clip, self._answers_in_clip = self._names[clip], self._counts[clip]
            super().show(event)
            if clip in self._names:
                self._counts[clip] = self._answers_in_clip

    return OverlappingClips


def _read_questions(args):
    from videochat.batch.inputs import read_questions

    return read_questions(args.questions)
