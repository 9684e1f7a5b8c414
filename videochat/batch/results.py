"""A batch's results file (JSON Lines): read back line by line with each line checked, repaired
after a killed run, appended to under a lock held for the whole run, and which pairs it already
answers for a model."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from videochat.app_files import BadAppFile, MiB, is_kind, parse_json, read_regular_file
from videochat.batch.inputs import BatchInputError
from videochat.file_lock import LockBusy, lock_descriptor, unlock_descriptor

# A results file is read whole to resume; one answer line is a few kB, so this is some 100,000 answers.
MAX_RESULTS_BYTES = 256 * MiB


def read_results(out_path: str | os.PathLike) -> list[dict]:
    """The result lines written so far; none when the file does not exist yet (see `read_result_lines`)."""
    return read_result_lines(out_path)[0]


def read_result_lines(out_path: str | os.PathLike) -> tuple[list[dict], int]:
    """The result lines written so far, and how many whole lines were left out as not results.

    A line is a result when it is UTF-8 JSON, nested no deeper than app_files allows, an object
    whose fields have the kinds a batch writes (`parse_line`); any other line is left out and
    counted, except a last line without its newline, which is a write cut short by a killed run.
    A file that is not a regular file, or too large, or holds no result at all, is refused.
    """
    out_path = Path(out_path)
    try:
        data = read_regular_file(out_path, MAX_RESULTS_BYTES, follow_links=True)  # the user's --out: a link they made is theirs
    except FileNotFoundError:
        return [], 0
    except BadAppFile as error:
        raise BatchInputError(f"The results file {out_path} {error.reason}: choose another results file.") from None
    *whole_lines, last_line = data.split(b"\n")
    records, skipped = [], 0
    for line in whole_lines:
        record = parse_line(line)
        if record is not None:
            records.append(record)
        elif line.strip():
            skipped += 1
    if (last := parse_line(last_line)) is not None:
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
        if parse_line(data[start:]) is not None:
            file.write(b"\n")
        else:
            file.truncate(start)
        file.flush()
        os.fsync(file.fileno())


# The kinds of value each field of a result line may have; `plan_batch` hashes and compares them.
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


def parse_line(line: bytes) -> dict | None:
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


class ResultsFile:
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


def check_not_busy(out_path: Path) -> None:
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


def clip_state(clip: Path) -> tuple[int | None, float | None]:
    """Size and modification time: a clip that failed is tried again once either changes."""
    try:
        stat = os.stat(clip)
    except OSError:
        return None, None
    return stat.st_size, stat.st_mtime


def answered_pairs(records: list[dict], model_name: str, revision: str | None, model_source: str | None, frames: int | None) -> set[tuple[str, str]]:
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
        if record["status"] == "ok" and same_model and asked_frames(record) == frames:
            done.add((record["clip"], record.get("question")))
    return done


def asked_frames(record: dict) -> int | None | str:
    # A line without the key (not written by a batch) matches no frame count, not even the default.
    return record["asked_frames"] if "asked_frames" in record else "not recorded"
