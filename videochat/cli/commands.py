"""The `videochat` command: probe, sample and preprocess video as each model family would see it,
ask a model about a video, and list and download models (`cli_models.py`).

Errors print one line on stderr and exit with status 1 (2 for bad usage: a value that means
nothing, a frame count the family does not take, a segment that does not fit the clip); `--json`
output keeps its keys from release to release.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from videochat.cli.arguments import (
    add_model_arguments,
    add_reader_argument,
    add_segment_arguments,
    check_family_frame_count,
    check_frame_count,
    check_segment,
    generation_settings,
    load_backend,
    question_text,
    quiet_library_logs,
    shown_escaped,
)
from videochat.cli.batch import add_commands as add_batch_commands
from videochat.cli.models import add_commands as add_model_commands
from videochat.errors import InvalidFrameCount, InvalidSegment, VideoChatError
from videochat.families import FAMILIES
from videochat.safe_text import json_text, shown
from videochat.sessions.formats import FORMATS
from videochat.video.timecode import format_time


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.run(args)
        sys.stdout.flush()  # inside the try: a closed pipe shows up here, not at exit
        return status
    except (InvalidFrameCount, InvalidSegment) as error:
        # Usage errors, found once the family or the clip is known: the message names the values given.
        print(shown(f"videochat: {error}"), file=sys.stderr)
        return 2
    except VideoChatError as error:
        print(shown(f"videochat: {error}"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("videochat: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (`videochat probe x --json | head`): not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="videochat", description="Ask video-language models about local video files.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    probe = commands.add_parser("probe", help="show a video's metadata and frame times")
    probe.add_argument("file", type=Path)
    probe.add_argument("--json", action="store_true", help="print everything as JSON, including every frame's time")
    probe.set_defaults(run=run_probe)

    for name, run, help_text in (
        ("sample", run_sample, "show which frames a model family would see, and when they are"),
        ("preprocess", run_preprocess, "save the tensors a model family would be fed (torch.save)"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("file", type=Path)
        command.add_argument("--family", required=True, choices=list(FAMILIES))
        command.add_argument("--frames", type=int, help="number of frames (default: the family's)")
        add_segment_arguments(command)
        add_reader_argument(command)
        command.set_defaults(run=run)
    ask = commands.add_parser("ask", help="ask a model about a video; the answer streams, then the frame times it saw")
    ask.add_argument("file", type=Path)
    ask.add_argument("question", type=question_text)
    add_model_arguments(ask)
    add_segment_arguments(ask)
    ask.add_argument("--follow-up", type=question_text, action="append", default=[], metavar="QUESTION", help="ask this next, on the same frames (repeatable)")
    ask.add_argument("--interactive", action="store_true", help="then read more questions from the terminal, one per line")
    ask.add_argument("--json", action="store_true", help="print one JSON object per answer instead of streaming text")
    ask.add_argument("--no-save", action="store_true", help="do not add the answers to the video's saved conversation (the app shows it)")
    ask.add_argument(
        "--continue", dest="continue_saved", action="store_true",
        help="go on from the video's saved conversation (the app's, or an earlier ask's): its turns are the history, on its frames and scope",
    )
    from videochat.cli.engine import add_engine_arguments

    add_engine_arguments(ask)
    ask.set_defaults(run=run_ask)
    export = commands.add_parser("export", help="write a video's saved conversation and notes as a report, JSON, captions or a table")
    export.add_argument("file", type=Path)
    export.add_argument("--format", required=True, choices=list(FORMATS))
    export.add_argument("--out", type=Path, help="the file to write (default: print to stdout)")
    export.set_defaults(run=run_export)

    add_model_commands(commands)
    add_batch_commands(commands)
    from videochat.cli.serve import add_command as add_serve_command

    add_serve_command(commands)
    from videochat.cli.runtimes import add_commands as add_runtime_commands

    add_runtime_commands(commands)
    commands.choices["sample"].add_argument("--json", action="store_true")
    commands.choices["preprocess"].add_argument("--out", type=Path, required=True, help="where to write the .pt file")
    return parser


def run_probe(args) -> int:
    from videochat.video.info import probe

    info = probe(args.file)
    if args.json:
        print(json_text(json.dumps(info.to_dict(), ensure_ascii=False)))
        return 0
    rate = "variable" if info.variable_frame_rate else "constant"
    print(shown(info.path.name, keep=""))
    print(shown(f"  codec      {info.codec}"))
    print(f"  size       {info.width} x {info.height} (upright)" + (f", stored turned {info.rotation}°" if info.rotation else ""))
    print(f"  frames     {info.frame_count} at {info.fps:.3f} fps on average ({rate} frame rate)")
    print(f"  duration   {format_time(info.duration)}")
    if info.truncated:
        print("  warning    the file ends early; only the frames listed can be read")
    return 0


def run_sample(args) -> int:
    from videochat.frames.pipeline import sample_frames
    from videochat.video.source import VideoSource

    check_family_frame_count(args.family, args.frames)
    with VideoSource.open(args.file, reader=args.reader) as source:
        sample = sample_frames(source, args.family, args.frames, check_segment(args, source.info))
    if args.json:
        print(json_text(json.dumps({"family": args.family, **sample.to_dict()}, ensure_ascii=False)))
        return 0
    for index, time in zip(sample.indices, sample.times):
        print(f"frame {int(index):>7}  at {format_time(float(time))}")
    if sample.message:
        print(sample.message)
    return 0


def run_preprocess(args) -> int:
    import io

    import torch

    from videochat.app_files import write_atomically
    from videochat.frames.pipeline import prepare
    from videochat.video.source import VideoSource

    check_family_frame_count(args.family, args.frames)
    with VideoSource.open(args.file, reader=args.reader) as source:
        prepared = prepare(source, args.family, args.frames, check_segment(args, source.info))
    tensors = io.BytesIO()
    torch.save(prepared.to_save(), tensors)
    write_atomically(args.out, tensors.getvalue())
    shape = "x".join(str(n) for n in prepared.pixel_values.shape)
    print(shown(f"wrote {args.out}: pixel_values {shape} from {len(prepared.indices)} frames"))
    return 0


def run_ask(args) -> int:
    if getattr(args, "engine", None):
        if args.continue_saved:
            print("videochat: --continue goes on with a model loaded here, not with --engine", file=sys.stderr)
            return 2
        from videochat.cli.engine import run_engine_ask

        return run_engine_ask(args, ask_one=_ask_one, questions=_questions, open_session=open_session, check_segment=check_segment)
    from videochat.backends.consent import check_consent
    from videochat.models.resolve import resolve_model
    from videochat.chat import VideoChat
    from videochat.video.source import VideoSource

    ref = resolve_model(args.model, revision=args.revision)
    check_frame_count(ref, args.frames)
    import videochat.cli.runtime_process as runtime_process

    if runtime_process.in_other_runtime(ref):
        return runtime_process.run_ask(args, ref, ask_one=_ask_one, questions=_questions, open_session=open_session, check_segment=check_segment)
    settings = generation_settings(args)
    with VideoSource.open(args.file, reader=args.reader) as source:
        segment = check_segment(args, source.info)  # a usage error: said before consent is asked or a model loads
        check_consent(ref, args.trust_remote_code)
        quiet_library_logs()
        backend = load_backend(ref, args)
        chat = VideoChat(source, backend)
        session = None if args.no_save else open_session(source.info)
        frames = args.frames
        try:
            if args.continue_saved:
                frames, segment = continue_saved(chat, saved_turns(session, source.info), args.frames, segment)
            for question in _questions(args):
                _ask_one(chat, question, frames, segment, settings, args.json, session)
        finally:
            backend.unload()
    return 0


def _questions(args):
    yield args.question
    yield from args.follow_up
    if args.interactive:
        print("more questions, one per line (an empty line or Ctrl-D ends):", file=sys.stderr)
        for line in _typed_lines():
            if not line.strip():
                return
            yield line.strip()


def _typed_lines():
    """Lines of stdin; one that is not UTF-8 is skipped with a warning (a text stdin would raise and
    end the session), so it is read as bytes where it can be."""
    lines = getattr(sys.stdin, "buffer", None)
    if lines is None:
        yield from sys.stdin
        return
    for raw in lines:
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            typed = shown_escaped(raw.decode("utf-8", "surrogateescape").strip())
            print(f"videochat: that line is not UTF-8 text ({typed}); type it again", file=sys.stderr)


def _ask_one(chat, question, frames, segment, settings, as_json: bool, session=None) -> None:
    if session is not None:
        session.question_asked(question)
    try:
        for piece in chat.ask(question, frames, segment, settings):
            if not as_json:
                print(shown(piece, keep="\n\t"), end="", flush=True)
    except VideoChatError:
        if session is not None:
            session.forget_question()  # refused or failed, and said so: nothing to bring back
        raise
    except KeyboardInterrupt:
        chat.stop()  # the stream below ends within a token, keeping the partial answer
        raise
    answer = chat.answers[-1]
    if session is not None:
        session.add_answer(answer)
    if as_json:
        print(json_text(json.dumps(answer.to_dict(), ensure_ascii=False)), flush=True)
        return
    print()
    times = ", ".join(format_time(t) for t in answer.times)
    print(shown(f"[{answer.model}, {len(answer.times)} frames{' (stopped)' if answer.stopped else ''}: {times}]"), flush=True)


def open_session(info):
    """`videochat ask` adds its turns to the video's saved conversation through the recorder the app
    uses: merged with what the app or another `ask` adds meanwhile. A failed save says so once and
    stops saving; the answers still print."""
    from videochat.sessions.recorder import SessionRecorder

    def stop_saving(error: OSError) -> None:
        recorder.writable = False
        print(shown(f"videochat: the conversation could not be saved ({error.strerror or error}); answers still print here"), file=sys.stderr)

    recorder = SessionRecorder.open(info, on_failure=stop_saving)
    if recorder.message:
        print(shown(f"videochat: {recorder.message}"), file=sys.stderr)
    return recorder


def saved_turns(recorder, info) -> list:
    """The video's saved turns: the recorder's (it read them), or read from its file without changing it (`--no-save`)."""
    if recorder is not None:
        return recorder.session.turns
    from videochat.sessions.store import SessionStore, SessionUnreadable

    try:
        session = SessionStore().read(info.path)
    except SessionUnreadable as error:
        print(shown(f"videochat: {error}"), file=sys.stderr)
        return []
    return session.turns if session is not None else []


def continue_saved(chat, turns, frames, segment) -> tuple:
    """`ask --continue`: `chat` goes on from the last saved conversation, on its frames; returns the scope
    to ask on (the saved frame count and segment, each unless --frames or --start/--end give another). Where it cannot (none
    saved, another model or scope, a video that changed), a new conversation starts on the scope given, and stderr says why."""
    from videochat.continuing import NEW, saved_conversation, scope_change
    from videochat.errors import SavedFramesChanged

    saved = saved_conversation(turns)
    if saved is None:
        print("videochat: this video has no saved conversation to continue; a new one starts", file=sys.stderr)
        return frames, segment
    wanted = (saved.frames if frames is None else frames, saved.segment if segment is None else segment)
    reason = scope_change(saved, chat.backend.ref, *wanted)
    if reason is None:
        try:
            chat.resume(saved.history(), list(saved.indices), list(saved.times), *wanted)
        except SavedFramesChanged as error:
            reason = f"{NEW}: {error.reason}."
        else:
            print(f"videochat: continuing the saved conversation ({len(saved.turns)} turns, {len(saved.indices)} frames)", file=sys.stderr)
            return wanted
    print(shown(f"videochat: {reason}"), file=sys.stderr)
    return frames, segment  # as asked: the saved scope may be what could not go on


def run_export(args) -> int:
    from videochat.sessions.export import render, saved_session, timeline_of_video, write_export

    session = saved_session(args.file)
    timeline = timeline_of_video(args.file)  # exact spans on variable frame rate while the video is there
    if args.out is None:
        sys.stdout.write(_for_stdout(render(session, args.format, timeline), args.format))
        return 0
    try:
        write_export(session, args.format, args.out, timeline)
    except OSError as error:
        print(shown(f"videochat: {args.out} could not be written: {error.strerror or error}"), file=sys.stderr)
        return 1
    print(shown(f"wrote {args.out} ({len(session.turns)} turns, {len(session.notes)} notes)"), file=sys.stderr)
    return 0


def _for_stdout(text: str, format_name: str) -> str:
    """JSON with its controls as \\u escapes (the same data); other formats exact into a pipe, escaped for a terminal."""
    if format_name == "json":
        return json_text(text)
    return shown(text.replace("\r\n", "\n"), keep="\n\t") if sys.stdout.isatty() else text

