"""`videochat batch`: every question of a file about every clip of a folder or list, resumable."""

from __future__ import annotations

import shutil
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from videochat.cli.arguments import add_model_arguments, check_frame_count, generation_settings, load_backend, quiet_library_logs
from videochat.safe_text import shown


def add_commands(commands) -> None:
    batch = commands.add_parser(
        "batch", help="ask every question of a file about every clip of a folder or list; run it again to go on where it stopped"
    )
    batch.add_argument("clips", type=Path, metavar="FOLDER_OR_LIST", help="a folder of videos (searched recursively), or a text file of paths")
    batch.add_argument("--questions", type=Path, required=True, metavar="FILE", help="one question per line; # starts a comment line")
    batch.add_argument("--out", type=Path, required=True, help="the results file (JSON Lines), appended to; what it holds is not asked again")
    add_model_arguments(batch)
    from videochat.cli.engine import add_engine_arguments

    add_engine_arguments(batch, batch=True)
    batch.set_defaults(run=run_batch_command)


def run_batch_command(args) -> int:
    if getattr(args, "engine", None):
        from videochat.cli.engine import run_engine_batch

        return run_engine_batch(args, progress=_BatchProgress, say_plan=say_plan, run_with_progress=run_with_progress)
    from videochat.backends.consent import check_consent
    from videochat.batch.inputs import find_clips, read_questions
    from videochat.batch.plan import plan_batch
    from videochat.batch.run import run_batch
    from videochat.models.resolve import resolve_model

    clips, questions = find_clips(args.clips), read_questions(args.questions)
    ref = resolve_model(args.model, revision=args.revision)  # no loading: the plan needs the name answers are recorded under
    check_frame_count(ref, args.frames)
    todo = plan_batch(clips, questions, args.out, ref.display_name, args.frames, ref.revision, ref.source)
    if not say_plan(args, todo):
        return 0
    import videochat.cli.runtime_process as runtime_process

    if runtime_process.in_other_runtime(ref):
        return runtime_process.run_batch(args, ref, todo, progress=_BatchProgress, run_with_progress=run_with_progress)
    check_consent(ref, args.trust_remote_code)
    quiet_library_logs()
    settings = generation_settings(args)
    backend = load_backend(ref, args)
    try:
        return run_with_progress(
            args, todo, _BatchProgress(sys.stderr, len(todo.pending)),
            lambda on_event, should_stop: run_batch(backend, todo, settings, on_event=on_event, should_stop=should_stop, reader=args.reader),
        )
    finally:
        backend.unload()


def say_plan(args, todo) -> bool:
    """Say what the plan found in the results file; False when nothing is left to ask."""
    if todo.skipped_lines:
        print(f"videochat: {todo.skipped_lines} lines of {args.out} are not batch results and were left out; what they held is done again", file=sys.stderr)
    if not todo.pending:
        print(shown(f"nothing to do: all {todo.answered} answers are in {args.out}{_unreadable(todo.failed_clips)}"), file=sys.stderr)
        return False
    return True


def run_with_progress(args, todo, bar, run) -> int:
    """`run(on_event, should_stop)` (a local or an engine batch) with its progress shown, Ctrl-C as a
    stop, the results file's errors and the summary said; the exit status."""
    try:
        with _ctrl_c_stops() as interrupted:
            summary = run(bar.show, interrupted.is_set)
    except KeyboardInterrupt:  # a second Ctrl-C: out at once; a line cut short is repaired by the next run
        bar.end()
        print(shown(f"videochat: interrupted; run the same command again to go on where it stopped ({args.out})"), file=sys.stderr)
        return 130
    except OSError as error:  # the results file: a clip's own read errors are written down, not raised
        bar.end()
        print(shown(f"videochat: {args.out} could not be written: {error.strerror or error}"), file=sys.stderr)
        return 1
    finally:
        bar.end()
    written = f"{summary.answered} answers written to {args.out}"
    if summary.stopped:
        print(shown(f"videochat: stopped; {written}. Run the same command again to go on where it stopped."), file=sys.stderr)
        return 130
    print(shown(written + _unreadable({**todo.failed_clips, **summary.failed_clips})), file=sys.stderr)
    return 0


def _unreadable(failed_clips: dict[str, str]) -> str:
    if not failed_clips:
        return ""
    reasons = "; ".join(f"{Path(clip).name} ({message})" for clip, message in failed_clips.items())
    return f"; {len(failed_clips)} clip(s) could not be read: {reasons}"


@contextmanager
def _ctrl_c_stops():
    """The first Ctrl-C asks the batch to stop after the current token; a second one interrupts."""
    interrupted = threading.Event()

    def on_interrupt(signum, frame):
        if interrupted.is_set():
            raise KeyboardInterrupt
        interrupted.set()
        print("\nvideochat: stopping (Ctrl-C again to quit at once)...", file=sys.stderr)

    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield interrupted
        return
    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)


class _BatchProgress:
    """On a terminal one line redrawn in place; elsewhere one plain line per clip."""

    WIDTH = 20

    def __init__(self, stream, total: int):
        self._stream = stream
        self._tty = stream.isatty()
        self._total = total
        self._done = 0
        self._bad = 0
        self._clip = ""
        self._answers_in_clip = 0
        self._drawn = 0

    def show(self, event) -> None:
        from videochat.batch.run import ClipFailed, ClipFinished, ClipStarted, QuestionAnswered

        if isinstance(event, ClipStarted):
            self._clip = f"clip {event.index}/{event.total_clips} {event.clip.name}"
            self._answers_in_clip = 0
        elif isinstance(event, QuestionAnswered):
            self._done = event.done
            self._answers_in_clip += 1
        elif isinstance(event, ClipFailed):
            self._bad += 1
            if not self._tty:
                self._line(f"{self._clip}: could not be read: {event.message}")
        elif isinstance(event, ClipFinished) and not self._tty:
            self._line(f"{self._clip}: {self._answers_in_clip} answers")
        if self._tty:
            self._redraw()

    def _redraw(self) -> None:
        filled = self.WIDTH * self._done // max(1, self._total)
        bad = f" · {self._bad} bad clip{'s' if self._bad != 1 else ''}" if self._bad else ""
        text = f"[{'#' * filled}{'-' * (self.WIDTH - filled)}] {self._done}/{self._total} answers · {self._clip}{bad}"
        text = shown(text, keep="")[: shutil.get_terminal_size().columns - 1]
        self._stream.write("\r" + text.ljust(self._drawn))
        self._stream.flush()
        self._drawn = len(text)

    def _line(self, text: str) -> None:
        self._stream.write(shown(text, keep="") + "\n")
        self._stream.flush()

    def end(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = 0
