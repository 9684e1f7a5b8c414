"""Batch questions: every question of a list about every clip of a folder (or a list of files), one model load.

Results go to a JSON Lines file: one line per answer, one per clip that could not be read, each
synced to disk as soon as it exists. A batch run again over the same inputs reads that file
first (`plan`) and does only what is missing, so a killed or stopped batch loses at most the
answer in progress, and a finished one costs nothing, not even a model load.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from videochat.app_files import BadAppFile, MiB, is_kind, parse_json, read_regular_file
from videochat.errors import Cancelled, ReaderUnavailable, UnreadableVideo, VideoChatError
from videochat.file_lock import LockBusy, lock_descriptor, unlock_descriptor
from videochat.video.files import VIDEO_EXTENSIONS, is_video_file

if TYPE_CHECKING:
    from videochat.backends.base import Backend, GenerationSettings
    from videochat.chat import Answer, VideoChat

# What reading one clip can raise: that clip's failure, written down, while the batch goes on.
CLIP_ERRORS = (UnreadableVideo, ReaderUnavailable, OSError)
# Failures that stay while the file stays the same: such a clip is not tried again until it changes.
# Others (a time limit, a file not allowed or not there yet) are tried again by the next run.
LASTING_ERRORS = frozenset({"UnreadableVideo", "CorruptVideo", "NoVideoStream", "NoFrames", "UnsupportedCodec"})
# A results file is read whole to resume; one answer line is a few kB, so this is some 100,000 answers.
MAX_RESULTS_BYTES = 256 * MiB


class BatchInputError(VideoChatError):
    """The clips, the questions or the results file of a batch cannot be used."""


# --- inputs -----------------------------------------------------------------------------------


def find_clips(folder_or_list: str | os.PathLike) -> list[Path]:
    """The clips to ask about, as absolute paths.

    A folder: its video files (by extension), recursively, sorted by relative path, hidden files
    and folders left out. A text file: the files it names, one per line, relative to its own
    folder, in its order. A video file: itself.
    """
    path = _absolute(folder_or_list)
    if path.is_dir():
        clips = _videos_under(path)
        if not clips:
            raise BatchInputError(f"There are no video files in {path} or its subfolders ({', '.join(sorted(VIDEO_EXTENSIONS))}).")
        return clips
    if not path.is_file():
        raise BatchInputError(f"{path} does not exist: give a folder of videos, or a text file listing them one per line.")
    if is_video_file(path):
        return [path]
    clips = [_absolute(path.parent / os.path.expanduser(line)) for line in _meaningful_lines(_read_text(path, "list of clips"))]
    if not clips:
        raise BatchInputError(f"{path} lists no clips: write one video path per line (lines starting with # are comments).")
    return list(dict.fromkeys(clips))


ONE_QUESTION_A_LINE = "write one question per line (lines starting with # are comments)"


def parse_questions(text: str) -> list[str]:
    """One question per line; blank lines and lines starting with # left out, a repeated question asked once."""
    questions = list(dict.fromkeys(_meaningful_lines(text)))
    if not questions:
        raise BatchInputError(f"There are no questions: {ONE_QUESTION_A_LINE}.")
    return questions


def read_questions(path: str | os.PathLike) -> list[str]:
    path = _absolute(path)
    questions = list(dict.fromkeys(_meaningful_lines(_read_text(path, "questions file"))))
    if not questions:
        raise BatchInputError(f"{path} holds no questions: {ONE_QUESTION_A_LINE}.")
    return questions


def _absolute(path: str | os.PathLike) -> Path:
    # abspath, not resolve: the clip keeps the name the user gave it (links not followed), yet a stable key.
    return Path(os.path.abspath(os.path.expanduser(os.fspath(path))))


def _videos_under(folder: Path) -> list[Path]:
    found = []
    for root, folders, files in os.walk(folder):
        folders[:] = [name for name in folders if not name.startswith(".")]
        found += [Path(root, name) for name in files if not name.startswith(".") and is_video_file(name)]
    return sorted(found, key=lambda clip: clip.relative_to(folder).parts)


def _read_text(path: Path, what: str) -> str:
    not_text = BatchInputError(f"{path} is not a text file: the {what} must be plain text, one entry per line.")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise BatchInputError(f"The {what} {path} cannot be read: {error.strerror or error}.") from None
    if b"\0" in data:  # binary: no line of it is worth naming
        raise not_text
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise BatchInputError(f"The {what} {path} is not UTF-8 text (line {line}): save it as UTF-8.") from None
    return text


def _meaningful_lines(text: str) -> Iterable[str]:
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            yield line


# --- the results file -------------------------------------------------------------------------


def read_results(out_path: str | os.PathLike) -> list[dict]:
    """The result lines written so far; none when the file does not exist yet (see `read_result_lines`)."""
    return read_result_lines(out_path)[0]


def read_result_lines(out_path: str | os.PathLike) -> tuple[list[dict], int]:
    """The result lines written so far, and how many whole lines were left out as not results.

    A line is a result when it is UTF-8 JSON, nested no deeper than app_files allows, an object
    whose fields have the kinds a batch writes (`_parse_line`); any other line is left out and
    counted, except a last line without its newline, which is a write cut short by a killed run.
    A file that is not a regular file, or too large, or holds no result at all, is refused.
    """
    out_path = Path(out_path)
    try:
        data = read_regular_file(out_path, MAX_RESULTS_BYTES)
    except FileNotFoundError:
        return [], 0
    except BadAppFile as error:
        raise BatchInputError(f"The results file {out_path} {error.reason}: choose another results file.") from None
    *whole_lines, last_line = data.split(b"\n")
    records, skipped = [], 0
    for line in whole_lines:
        record = _parse_line(line)
        if record is not None:
            records.append(record)
        elif line.strip():
            skipped += 1
    if (last := _parse_line(last_line)) is not None:
        records.append(last)
    if not records and skipped:
        # Appending to someone else's file would spoil it: refuse rather than guess.
        raise BatchInputError(f"{out_path} is not a batch results file (JSON Lines): choose another results file.")
    return records, skipped


def repair_results(out_path: str | os.PathLike) -> None:
    """Make the file end with a whole line before appending to it.

    A last line without its newline is a write cut short by a killed run: if it still parses,
    it gets its newline; otherwise it is cut off (the pair it held will be asked again).
    """
    try:
        file = open(out_path, "rb+")
    except FileNotFoundError:
        return
    with file:
        data = file.read()
        if not data or data.endswith(b"\n"):
            return
        start = data.rfind(b"\n") + 1
        if _parse_line(data[start:]) is not None:
            file.write(b"\n")
        else:
            file.truncate(start)
        file.flush()
        os.fsync(file.fileno())


# The kinds of value each field of a result line may have; `plan` hashes and compares them.
_LINE_FIELDS: dict[str, tuple[type, ...]] = {
    "question": (str,),
    "model": (str, type(None)),
    "revision": (str, type(None)),
    "model_source": (str, type(None)),
    "asked_frames": (int, type(None)),
    "error": (str, type(None)),
    "error_type": (str, type(None)),
    "clip_size": (int, type(None)),
    "clip_mtime": (int, float, type(None)),
}


def _parse_line(line: bytes) -> dict | None:
    """The result a line holds, or None when it is not one (not JSON, too deep, a field of another kind)."""
    if not line.strip():
        return None
    try:
        record = parse_json(line)
    except BadAppFile:
        return None
    if not (isinstance(record, dict) and is_kind(record.get("clip"), str) and record.get("status") in ("ok", "error")):
        return None
    if record["status"] == "ok" and "question" not in record:
        return None
    if any(key in record and not is_kind(record[key], kinds) for key, kinds in _LINE_FIELDS.items()):
        return None
    return record


BUSY = "Another batch is writing to {path} now: wait for it to end (or stop it), then run this again; it will ask only what is still missing. Or choose another results file."


class _ResultsFile:
    """Appends result lines, each on disk before the next answer starts.

    The file is locked for the whole run: two batches with one results file would otherwise both
    ask, and write, every pair. The lock goes with the process, so a killed batch never leaves it.
    """

    def __init__(self, out_path: Path):
        try:
            out_path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(out_path, "a", encoding="utf-8")
        except OSError as error:
            raise BatchInputError(f"The results file {out_path} cannot be written: {error.strerror or error}.") from None
        try:
            lock_descriptor(self._file.fileno())
            repair_results(out_path)
        except LockBusy:
            self._file.close()
            raise BatchInputError(BUSY.format(path=out_path)) from None
        except OSError as error:
            self._file.close()
            raise BatchInputError(f"The results file {out_path} cannot be written: {error.strerror or error}.") from None

    def write(self, record: dict) -> None:
        self._file.write(json.dumps(record, ensure_ascii=True) + "\n")  # a clip name that is not UTF-8 still writes
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()  # and with it the lock


def _check_not_busy(out_path: Path) -> None:
    """`BatchInputError` when another batch holds the results file: said before any model loads."""
    try:  # never blocks: a FIFO put there is left to `read_results` to refuse
        descriptor = os.open(out_path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return  # not there yet, or unreadable: reading it says so
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return
        try:
            lock_descriptor(descriptor)
        except LockBusy:
            raise BatchInputError(BUSY.format(path=out_path)) from None
        unlock_descriptor(descriptor)
    finally:
        os.close(descriptor)


def _clip_state(clip: Path) -> tuple[int | None, float | None]:
    """Size and modification time: a clip that failed is tried again once either changes."""
    try:
        stat = os.stat(clip)
    except OSError:
        return None, None
    return stat.st_size, stat.st_mtime


# --- the plan -----------------------------------------------------------------------------------


@dataclass
class BatchPlan:
    clips: list[Path]
    questions: list[str]
    out_path: Path
    model_name: str
    frames: int | None  # as asked; None is the model's default
    revision: str | None  # with model_source: which model answered, beyond its name
    pending: list[tuple[Path, str]]  # (clip, question) still to answer, clip by clip
    failed_clips: dict[str, str]  # clip → why it could not be read last time; skipped while unchanged
    answered: int  # pairs of this batch already in the results file
    model_source: str | None = None
    skipped_lines: int = 0  # lines of the results file left out as not results (what they held is done again)

    @property
    def skipped_pairs(self) -> int:
        return len(self.clips) * len(self.questions) - len(self.pending)

    def is_for(self, ref) -> bool:
        """Whether the model `ref` (a `ModelRef`) is the one this plan was made for (repo id or folder, and revision)."""
        from videochat.models.resolve import model_key

        return ref.key == model_key(self.model_source or self.model_name, self.revision)

    def pending_by_clip(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for clip, _question in self.pending:
            counts[str(clip)] = counts.get(str(clip), 0) + 1
        return counts


def plan(
    clips: Iterable[str | os.PathLike],
    questions: Iterable[str],
    out_path: str | os.PathLike,
    model_name: str,
    frames: int | None = None,
    revision: str | None = None,
    model_source: str | None = None,
) -> BatchPlan:
    """What is left to do: the pairs with no answer yet from this model (name, revision, folder or
    repo) and frame count.

    A clip that could not be read for a lasting reason is skipped until its size or modification
    time changes.
    """
    clips = list(dict.fromkeys(_absolute(clip) for clip in clips))
    questions = list(dict.fromkeys(question.strip() for question in questions))
    out_path = _absolute(out_path)
    _check_not_busy(out_path)
    records, skipped_lines = read_result_lines(out_path)
    done = _answered_pairs(records, model_name, revision, model_source, frames)
    unreadable: dict[str, list[dict]] = {}
    for record in records:
        if record["status"] == "error" and record.get("error_type") in LASTING_ERRORS:
            unreadable.setdefault(record["clip"], []).append(record)
    failed_clips = {}
    for clip in clips:
        state = _clip_state(clip)
        for record in unreadable.get(str(clip), ()):
            if (record.get("clip_size"), record.get("clip_mtime")) == state:
                failed_clips[str(clip)] = record.get("error") or "unreadable"
    pairs = [(clip, question) for clip in clips for question in questions]
    return BatchPlan(
        clips=clips,
        questions=questions,
        out_path=out_path,
        model_name=model_name,
        frames=frames,
        revision=revision,
        pending=[(clip, q) for clip, q in pairs if str(clip) not in failed_clips and (str(clip), q) not in done],
        failed_clips=failed_clips,
        answered=sum((str(clip), q) in done for clip, q in pairs),
        model_source=model_source,
        skipped_lines=skipped_lines,
    )


def _answered_pairs(records: list[dict], model_name: str, revision: str | None, model_source: str | None, frames: int | None) -> set[tuple[str, str]]:
    """(clip, question) answered by this model (repo id or folder, and revision) with this frame count.

    Compared by `model_key`, not by the name shown: a line written under a model's old name (its
    repo name, before labels) is the same model's.
    """
    from videochat.models.resolve import model_key

    wanted = model_key(model_source or model_name, revision)
    done = set()
    for record in records:
        source = record.get("model_source") or record.get("model")
        same_model = isinstance(source, str) and bool(source) and model_key(source, record.get("revision")) == wanted
        if record["status"] == "ok" and same_model and _asked_frames(record) == frames:
            done.add((record["clip"], record.get("question")))
    return done


def _asked_frames(record: dict) -> int | None | str:
    # A line without the key (not written by a batch) matches no frame count, not even the default.
    return record["asked_frames"] if "asked_frames" in record else "not recorded"


# --- running it ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClipStarted:
    clip: Path
    index: int  # from 1, among the clips this run has questions for
    total_clips: int


@dataclass(frozen=True)
class QuestionAnswered:
    clip: Path
    question: str
    answer_dict: dict  # the line written
    done: int  # pending pairs settled so far: answered, or dropped with a clip that could not be read
    total: int  # len(plan.pending)


@dataclass(frozen=True)
class ClipFailed:
    clip: Path
    message: str


@dataclass(frozen=True)
class ClipFinished:
    clip: Path


@dataclass
class BatchSummary:
    answered: int  # lines written by this run
    failed_clips: dict[str, str]  # clip → why it could not be read, in this run
    skipped_pairs: int  # pairs answered before, or of clips skipped as unreadable before
    stopped: bool
    out_path: Path


def run_batch(
    backend: Backend,
    plan: BatchPlan,
    settings: GenerationSettings,
    on_event: Callable[[object], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    reader: str = "auto",
) -> BatchSummary:
    """Ask the plan's pending questions with the loaded `backend`, writing each line to the results
    file the plan was made from, as it comes.

    Each question is asked on its own (no earlier turns) on frames decoded once per clip. A clip
    that cannot be read gets an error line and the batch goes on; any other error ends it and
    propagates. `should_stop` is read between questions and while an answer streams; the answer
    in progress is then dropped, to be asked again by the next run.
    """
    run = _Run(backend, plan, plan.out_path, settings, on_event or (lambda event: None), should_stop or (lambda: False), reader)
    for question in dict.fromkeys(question for _clip, question in plan.pending):
        backend.check_question(question)  # a question the model would misread fails the batch before any work
    results = _ResultsFile(run.summary.out_path)
    try:
        # Under the lock: what a batch that held the file before this one answered since the plan is not asked again.
        done = _answered_pairs(read_results(plan.out_path), plan.model_name, plan.revision, plan.model_source, plan.frames)
        pending = [(clip, question) for clip, question in plan.pending if (str(clip), question) not in done]
        run.settled = len(plan.pending) - len(pending)
        by_clip: dict[Path, list[str]] = {}
        for clip, question in pending:
            by_clip.setdefault(clip, []).append(question)
        for index, (clip, questions) in enumerate(by_clip.items(), 1):
            if run.should_stop():
                run.summary.stopped = True
                break
            run.on_event(ClipStarted(clip, index, len(by_clip)))
            run.clip(clip, questions, results)
            if run.summary.stopped:
                break
    finally:
        results.close()
    return run.summary


class _Run:
    def __init__(self, backend, plan, out_path, settings, on_event, should_stop, reader):
        self.backend, self.plan, self.settings = backend, plan, settings
        self.on_event, self.should_stop, self.reader = on_event, should_stop, reader
        self.summary = BatchSummary(answered=0, failed_clips={}, skipped_pairs=plan.skipped_pairs, stopped=False, out_path=out_path)
        self.settled = 0

    def clip(self, clip: Path, questions: list[str], results: _ResultsFile) -> None:
        from videochat.chat import VideoChat
        from videochat.video.source import VideoSource

        try:
            source = VideoSource.open(clip, reader=self.reader)
        except CLIP_ERRORS as error:
            self.fail(clip, error, len(questions), results)
            return
        with source:
            chat = VideoChat(source, self.backend)
            for number, question in enumerate(questions):
                if self.should_stop():
                    self.summary.stopped = True
                    return
                try:
                    answer = self.ask(chat, question)
                except CLIP_ERRORS as error:
                    self.fail(clip, error, len(questions) - number, results)
                    return
                if answer is None:
                    self.summary.stopped = True
                    return
                fields = answer.to_dict()
                fields.pop("id")  # a session's name for the turn; a results line is named by its clip and question
                record = {"clip": str(clip), "question": fields.pop("question"), "answer": fields.pop("answer"), "status": "ok"}
                record.update(fields, asked_frames=self.plan.frames, model_source=self.backend.ref.source)
                results.write(record)
                self.summary.answered += 1
                self.settled += 1
                self.on_event(QuestionAnswered(clip, question, record, self.settled, len(self.plan.pending)))
        self.on_event(ClipFinished(clip))

    def ask(self, chat: VideoChat, question: str) -> Answer | None:
        """The answer, or None when a stop came before it was complete."""

        def stop_if_asked(*_progress) -> None:
            if self.should_stop():
                chat.stop()

        try:
            for _piece in chat.ask(question, self.plan.frames, settings=self.settings, progress=stop_if_asked, follow_up=False):
                stop_if_asked()
        except Cancelled:
            return None
        answer = chat.answers[-1]
        return None if answer.stopped else answer

    def fail(self, clip: Path, error: Exception, unanswered: int, results: _ResultsFile) -> None:
        message = str(error) if isinstance(error, VideoChatError) else f"{clip.name} cannot be read: {error.strerror or error}."
        size, mtime = _clip_state(clip)
        results.write({"clip": str(clip), "status": "error", "error": message, "error_type": type(error).__name__, "clip_size": size, "clip_mtime": mtime})
        self.summary.failed_clips[str(clip)] = message
        self.settled += unanswered
        self.on_event(ClipFailed(clip, message))
