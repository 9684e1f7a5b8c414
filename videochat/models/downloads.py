"""Downloading models into the standard Hugging Face cache: fetch a plan (`plan.py`) with resume, verify, record.

The files land where huggingface_hub puts them (`<cache>/models--org--name/blobs/<etag>`, linked
from `snapshots/<commit>/<path>`, `refs/main` naming the commit), so every Hugging Face tool on
the machine shares them, and a model already in that cache counts as downloaded.

Each file is streamed into `blobs/<etag>.incomplete` (the name huggingface_hub resumes from too)
in 1 MiB chunks; whatever stopped it (pause, a dropped network, SIGKILL, power loss), the next
try asks for the remaining bytes only. A finished file is checked before it takes its place
(size, and sha256 for LFS files, the git object id for the others): a bad one is fetched
again, never linked into the snapshot. The commit downloaded is recorded (`record.py`);
later loads use it, and updating is an explicit `plan(..., update=True)`. What is on disk for a
model, its deletion and the update check are in `on_disk.py`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from videochat.models import record as download_record, hub, hub_names
from videochat.app_files import write_atomically
from videochat.errors import Cancelled, DownloadCorrupted, DownloadError, HubUnreachable, NotEnoughDisk
from videochat.models.hub import RemoteFile
from videochat.models.on_disk import repo_folder
from videochat.models.plan import DownloadPlan, RepoPlan
from videochat.sizes import format_bytes

log = logging.getLogger(__name__)
CHUNK_BYTES = 1 << 20
STREAM_PIECE_BYTES = 64 << 10  # read from the network at a time: a pause is heard within a piece (a MiB took 10 s at 100 KB/s)
PROGRESS_INTERVAL_S = 0.1
SPEED_WINDOW_S = 3.0


@dataclass
class DownloadProgress:
    repo_id: str
    path: str
    file_done: int
    file_total: int
    done: int  # over the whole plan, finished bytes on disk included
    total: int
    bytes_per_second: float
    files_done: int = 0
    files_total: int = 0

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0

    @property
    def seconds_left(self) -> float | None:
        return (self.total - self.done) / self.bytes_per_second if self.bytes_per_second > 0 else None

    @property
    def time_left_text(self) -> str:
        """"m:ss left", or "" before the speed is known."""
        left = self.seconds_left
        return f"{int(left // 60)}:{int(left % 60):02d} left" if left is not None else ""


class _Meter:
    """Bytes done over the whole plan, the speed over the last few seconds, and throttled reports."""

    def __init__(self, total: int, done: int, files_total: int, report: Callable[[DownloadProgress], None] | None):
        self.total, self.done, self.files_total, self.files_done = total, done, files_total, 0
        self._report = report
        self._samples: list[tuple[float, int]] = [(time.monotonic(), 0)]
        self._fetched = 0
        self._last_report = 0.0

    def add(self, count: int) -> None:
        self.done += count
        self._fetched += count
        now = time.monotonic()
        self._samples.append((now, self._fetched))
        while len(self._samples) > 2 and now - self._samples[1][0] > SPEED_WINDOW_S:
            self._samples.pop(0)

    def speed(self) -> float:
        (start, first), (end, last) = self._samples[0], self._samples[-1]
        return (last - first) / (end - start) if end - start > 0.2 else 0.0

    def report(self, file: RemoteFile, file_done: int, force: bool = False) -> None:
        now = time.monotonic()
        if self._report is None or (not force and now - self._last_report < PROGRESS_INTERVAL_S):
            return
        self._last_report = now
        done = min(max(self.done, 0), self.total)  # another process may have fetched some of it meanwhile
        self._report(DownloadProgress(file.repo_id, file.path, file_done, file.size, done, self.total, self.speed(), self.files_done, self.files_total))


def download(
    the_plan: DownloadPlan,
    progress: Callable[[DownloadProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    token: str | None = None,
) -> None:
    """Fetch every missing file of the plan, verify it, link it into its snapshot, record the commits.

    `should_stop` is read between chunks: stopping raises `Cancelled` and keeps the partial file.
    """
    the_plan.check_space()
    for repo in the_plan.repos:  # every name first: a bad one late in the list must not follow good files in
        for file in repo.files:
            _places(repo, file)
        _ref_path(repo)
    token = token if token is not None else hub.stored_token()
    stop = should_stop or (lambda: False)
    files_total = sum(len(repo.files) for repo in the_plan.repos)
    meter = _Meter(the_plan.total_bytes, the_plan.on_disk_bytes, files_total, progress)
    for repo in the_plan.repos:
        files = {f.path: [f.size, f.etag] for f in repo.files}
        if download_record.recorded_revision(repo.repo_id) != repo.commit:
            download_record.update_record(repo.repo_id, pending={"revision": repo.commit, "files": files})
        for file in repo.files:
            if stop():  # between files too: a repo of many small files never reaches a chunk's check
                raise _paused(repo.repo_id, meter)
            _fetch_file(repo, file, token, meter, stop)
            meter.files_done += 1
            meter.report(file, file.size, force=True)
        _write_refs(repo)
        with download_record.editing_record() as record:
            entry = record["repos"].setdefault(repo.repo_id, {})
            entry.pop("pending", None)
            entry.update(revision=repo.commit, files=files)


def _write_refs(repo: RepoPlan) -> None:
    """refs/<branch> names the commit when a branch was asked for; a commit asked for by hash moves
    no ref (another tool's newer main stays), except that a repo without refs/main gets one, since
    code that loads by name offline (InternVideo2-Chat's Mistral and BERT) looks there."""
    path = _ref_path(repo)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, repo.commit)


def _ref_path(repo: RepoPlan) -> Path | None:
    """refs/<branch> (None when no ref moves), refused unless it stays inside refs/."""
    folder = repo_folder(repo.repo_id)
    hub_names.check_commit(repo.repo_id, repo.commit)
    name = repo.branch or ("main" if not (folder / "refs" / "main").exists() else None)
    if name is None:
        return None
    return hub_names.inside(folder / "refs", hub_names.check_revision(repo.repo_id, name), within=folder)


def _places(repo: RepoPlan, file: RemoteFile) -> tuple[Path, Path]:
    """(blob, snapshot entry) of `file`, checked again here (a plan can be made by hand): each must
    stay inside the repo's folder, or nothing is written or deleted for it."""
    folder = repo_folder(repo.repo_id)
    hub_names.check_commit(repo.repo_id, repo.commit)
    hub_names.check_path(repo.repo_id, file.path)
    hub_names.check_blob_id(repo.repo_id, file.path, file.blob_id)
    if file.sha256 is not None:
        hub_names.check_sha256(repo.repo_id, file.path, file.sha256)
    blob = hub_names.inside(folder / "blobs", file.etag, within=folder)
    pointer = hub_names.inside(folder / "snapshots" / repo.commit, file.path, within=folder)
    return blob, pointer


def _fetch_file(repo: RepoPlan, file: RemoteFile, token: str | None, meter: _Meter, stop: Callable[[], bool]) -> None:
    folder = repo_folder(repo.repo_id)
    blob, pointer = _places(repo, file)
    if _already_there(blob, pointer, file):
        return
    if blob.is_file():  # damaged since: fetched again
        log.warning("%s/%s: the file on disk does not match its checksum; fetching it again", repo.repo_id, file.path)
        meter.done -= file.size
        blob.unlink()
    blob.parent.mkdir(parents=True, exist_ok=True)
    partial = blob.with_name(blob.name + ".incomplete")
    with _blob_lock(folder, file, stop):  # the lock huggingface_hub takes for the same blob
        if _already_there(blob, pointer, file):  # another process finished it while this one waited
            return
        if pointer.is_symlink() or pointer.is_file():
            pointer.unlink()
        for attempt in (1, 2):
            _stream_into(partial, file, repo.commit, token, meter, stop)
            if _content_matches(partial, file, stop):
                break
            log.warning("%s/%s arrived damaged (attempt %d)", repo.repo_id, file.path, attempt)
            meter.done -= partial.stat().st_size
            partial.unlink()
            if attempt == 2:
                raise DownloadCorrupted(f"{repo.repo_id}/{file.path} arrived damaged twice (wrong size or checksum); it was not kept. Try again later.")
        os.replace(partial, blob)
    log.info("%s/%s: %d bytes, verified", repo.repo_id, file.path, file.size)
    download_record.mark_verified(repo.repo_id, file.etag, blob)
    _link(blob, pointer)


def _already_there(blob: Path, pointer: Path, file: RemoteFile) -> bool:
    """The file is in, verified: as a blob (then linked into the snapshot), or, where the system has no
    symlinks and huggingface_hub moved the blob into the snapshot, as a plain file there."""
    if blob.is_file() and _verified(blob, file):
        _link(blob, pointer)
        return True
    return not blob.exists() and not pointer.is_symlink() and pointer.is_file() and _verified(pointer, file)


@contextlib.contextmanager
def _blob_lock(folder: Path, file: RemoteFile, stop: Callable[[], bool]):
    from filelock import FileLock, Timeout

    path = hub.cache_dir() / ".locks" / folder.name / f"{file.etag}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    while True:
        try:
            lock.acquire(timeout=0.5)
            break
        except Timeout:  # another download holds it: wait, but a pause still works
            if stop():
                raise Cancelled(f"Download of {file.repo_id} paused while another program was fetching {file.path}.") from None
    try:
        yield
    finally:
        lock.release()


def _stream_into(partial: Path, file: RemoteFile, commit: str, token: str | None, meter: _Meter, stop: Callable[[], bool]) -> None:
    _clear_if_not_a_file(partial)
    have = partial.stat().st_size if partial.is_file() else 0
    if have > file.size:  # not this file's bytes: start over
        meter.done -= min(have, file.size)
        partial.unlink()
        have = 0
    if have == file.size:
        partial.touch()  # an empty file has no bytes to fetch, but needs its blob
        return
    import requests

    if have:
        log.info("%s/%s: resuming at byte %d of %d", file.repo_id, file.path, have, file.size)
    response = hub.open_stream(file, commit, token, have)
    try:
        if have and response.status_code != 206:  # the server sent the whole file: start over
            meter.done -= have
            have = 0
        # Never through a link planted in the cache: it would append the hub's bytes to its target.
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if have else os.O_TRUNC) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        with os.fdopen(os.open(partial, flags, 0o644), "ab" if have else "wb") as out:
            try:
                for chunk in response.iter_content(STREAM_PIECE_BYTES):
                    if stop():
                        raise _paused(file.repo_id, meter)
                    chunk = chunk[: file.size - have]  # never past the size the listing gave: a body without end would fill the disk
                    out.write(chunk)
                    have += len(chunk)
                    meter.add(len(chunk))
                    meter.report(file, have)
                    if have == file.size:
                        break  # what follows is not this file's: the checksum decides on what came
                out.flush()
                os.fsync(out.fileno())
            # requests' errors are OSErrors too: the network's must be told apart from the disk's.
            except requests.RequestException as error:
                raise HubUnreachable(
                    f"The connection dropped while fetching {file.repo_id}/{file.path} ({type(error).__name__}); "
                    f"the {format_bytes(have)} fetched are kept and the next try resumes there."
                ) from error
            except OSError as error:
                raise _disk_error(error, partial) from error
    finally:
        response.close()


def _paused(repo_id: str, meter: _Meter) -> Cancelled:
    return Cancelled(f"Download of {repo_id} paused at {format_bytes(meter.done)} of {format_bytes(meter.total)}; it resumes from there.")


def _clear_if_not_a_file(partial: Path) -> None:
    """A partial download that is not a regular file (a link, a FIFO someone put in the cache) is removed, not followed."""
    try:
        mode = os.lstat(partial).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise DownloadError(f"{partial} is a folder where a partial download belongs: remove it, then try again.")
    log.warning("%s is not a regular file; removed", partial)
    partial.unlink()


def _disk_error(error: OSError, path: Path) -> DownloadError:
    if error.errno == errno.ENOSPC:
        return NotEnoughDisk(f"The disk filled up while writing {path.parent}; free some space and try again: the download resumes.")
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return DownloadError(f"Permission denied writing to {path.parent}: make the Hugging Face cache writable (or set HF_HOME), then try again.")
    return DownloadError(f"Writing {path} failed: {error}. What was fetched is kept; try again to resume.")


def _content_matches(path: Path, file: RemoteFile, stop: Callable[[], bool] = lambda: False) -> bool:
    if path.stat().st_size != file.size:
        return False
    if file.sha256:
        digest = hashlib.sha256()
    else:  # a regular git file
        digest = hub.git_blob_digest(file.size)
    with open(path, "rb") as stream:
        while block := stream.read(CHUNK_BYTES * 8):
            if stop():
                raise Cancelled(f"Download of {file.repo_id} paused while checking {file.path}; nothing is lost.")
            digest.update(block)
    return digest.hexdigest() == (file.sha256 or file.blob_id)


def _verified(blob: Path, file: RemoteFile) -> bool:
    """True when `blob` is `file`: a recorded check of this very file (size and time) or a new one."""
    info = blob.stat()
    if info.st_size != file.size:
        return False
    checked = download_record.recorded(file.repo_id).get("verified", {}).get(file.etag)
    if checked == [info.st_size, info.st_mtime_ns]:
        return True
    if _content_matches(blob, file):
        download_record.mark_verified(file.repo_id, file.etag, blob)
        return True
    return False


def _link(blob: Path, pointer: Path) -> None:
    """The snapshot's entry for the file: a relative link to the blob, as huggingface_hub makes it."""
    pointer.parent.mkdir(parents=True, exist_ok=True)
    if pointer.is_symlink() or pointer.exists():
        if pointer.is_symlink() and pointer.resolve() == blob.resolve():
            return
        pointer.unlink()
    try:
        pointer.symlink_to(os.path.relpath(blob, pointer.parent))
    except OSError:  # no symlinks (Windows without developer mode): the blob moves there, as huggingface_hub does
        shutil.move(blob, pointer)
