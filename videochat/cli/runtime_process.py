"""`videochat ask/batch --model M` for a model of another runtime: it runs in a model process of that runtime.

This interpreter cannot load it (the seed runtime's transformers 4.48 cannot run Qwen2.5-VL, say),
so the command starts `<runtime python> -m videochat.cli serve` on loopback with a random key in the
environment (`videochat.engines.local_process`, as the window does), grants it the clips, and asks
it through the engine client: the model process samples the frames with its family's rule and
reports them, so the answers and their `--json` keys are those of an in-process model (plus the
model process's address as `engine`). The process ends with the command, a Ctrl-C included.

The local commands' pieces (the question loop, the session recorder, the progress bar) are handed
in by `cli/commands.py` and `cli/batch.py`, which dispatch here.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator

from videochat.errors import VideoChatError
from videochat.safe_text import shown


def in_other_runtime(ref) -> bool:
    """Whether `ref`'s model needs another runtime than the seed one running this command.

    Run inside another runtime (its tests, a model process), the command loads the model itself:
    the seed's interpreter is the app's, which a runtime does not know.
    """
    from videochat.runtimes import SEED, this_runtime

    return this_runtime() == SEED and ref.runtime != SEED


@contextmanager
def model_process(ref, args) -> Iterator[tuple[object, object]]:
    """(process, engine): `ref` loaded in a model process of its runtime; the process ends on leaving."""
    from videochat.backends.consent import check_consent
    from videochat.engines.local_process import LocalModelProcess
    from videochat.engines.remote import EngineModel
    from videochat.runtimes import SHOWN

    code = check_consent(ref, args.trust_remote_code)
    process = LocalModelProcess(
        str(ref.local_folder or ref.source), device=args.device, precision=args.precision,
        approved_code=code.digest if code is not None else None, revision=ref.revision, runtime=ref.runtime,
    )
    print(shown(f"loading {ref.display_name} in {SHOWN.get(ref.runtime, ref.runtime)}...{ref.hint}"), file=sys.stderr)
    try:
        process.start()
        process.wait_loaded(_load_progress())
        yield process, EngineModel.connect(process.client, None)
    finally:
        process.kill()


def _load_progress():
    last = [""]

    def show(stage: str, fraction: float) -> None:
        if stage != last[0]:
            last[0] = stage
            print(shown(f"  {stage}"), file=sys.stderr, flush=True)

    return show


def run_ask(args, ref, *, ask_one, questions, open_session, check_segment) -> int:
    from videochat.cli.arguments import generation_settings
    from videochat.engines.remote import EngineChat
    from videochat.video.source import VideoSource

    settings = generation_settings(args)
    with VideoSource.open(args.file, reader=args.reader) as source:
        segment = check_segment(args, source.info)  # a usage error: said before a process starts
        with model_process(ref, args) as (process, engine):
            process.grant(args.file)
            chat = EngineChat(source, engine)
            session = None if args.no_save else open_session(source.info)
            for question in questions(args):
                ask_one(chat, question, args.frames, segment, settings, args.json, session)
    return 0


def run_batch(args, ref, todo, *, progress, run_with_progress) -> int:
    """The plan (recorded under the model's own name, as in-process) answered one question at a time by the model process."""
    from videochat.batch.concurrent import run_engine_batch
    from videochat.cli.arguments import generation_settings

    settings = generation_settings(args)
    with model_process(ref, args) as (process, engine):
        for clip in dict.fromkeys(clip for clip, _question in todo.pending):
            try:
                process.grant(clip)
            except (VideoChatError, OSError):
                pass  # not a regular file: the batch reports the clip as unreadable when it comes to it
        return run_with_progress(
            args, todo, progress(sys.stderr, len(todo.pending)),
            lambda on_event, should_stop: run_engine_batch(engine, todo, settings, 1, on_event, should_stop, args.reader),
        )
