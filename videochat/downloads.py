"""Downloading models into the standard Hugging Face cache: plan, fetch with resume, verify, record.

The files land where huggingface_hub puts them (`<cache>/models--org--name/blobs/<etag>`, linked
from `snapshots/<commit>/<path>`, `refs/main` naming the commit), so every Hugging Face tool on
the machine shares them, and a model already in that cache counts as downloaded.

Each file is streamed into `blobs/<etag>.incomplete` (the name huggingface_hub resumes from too)
in 1 MiB chunks; whatever stopped it (pause, a dropped network, SIGKILL, power loss), the next
try asks for the remaining bytes only. A finished file is checked before it takes its place
(size, and sha256 for LFS files, the git object id for the others): a bad one is fetched
again, never linked into the snapshot. The commit downloaded is recorded (`downloads.json` in the
app's data folder); later loads use it, and updating is an explicit `plan(..., update=True)`.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from videochat import hub
from videochat.catalog import CATALOG, CatalogEntry, find_entry
from videochat.errors import Cancelled, DownloadCorrupted, DownloadError, HubUnreachable, NotEnoughDisk
from videochat.hub import RemoteFile

log = logging.getLogger(__name__)
CHUNK_BYTES = 1 << 20
PROGRESS_INTERVAL_S = 0.1
SPEED_WINDOW_S = 3.0
DISK_MARGIN_BYTES = 200 << 20  # left free besides the download: a full disk breaks more than this app


@dataclass(frozen=True)
class RepoPlan:
    repo_id: str
    commit: str
    files: tuple[RemoteFile, ...]
    reason: str = "the model"  # or why the model needs it, e.g. "read by its code at load time"

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


@dataclass
class DownloadPlan:
    """What a download will fetch: every repo the model needs, at one commit each."""

    name: str
    repos: list[RepoPlan]
    on_disk_bytes: int = 0  # finished files and partial bytes already in the cache
    free_bytes: int = 0

    @property
    def total_bytes(self) -> int:
        return sum(repo.total_bytes for repo in self.repos)

    @property
    def missing_bytes(self) -> int:
        return max(0, self.total_bytes - self.on_disk_bytes)

    def check_space(self) -> None:
        if self.missing_bytes + DISK_MARGIN_BYTES > self.free_bytes:
            raise NotEnoughDisk(
                f"{self.name} needs {format_bytes(self.missing_bytes)} more, and the disk holding {hub.cache_dir()} has "
                f"{format_bytes(self.free_bytes)} free: free some space (or set HF_HOME to a larger disk) and try again."
            )


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


@dataclass
class ModelStatus:
    """What is on disk for a catalog model, read from the disk alone (no network)."""

    state: str  # "not downloaded" | "partial" | "ready"
    fraction: float = 0.0  # of the bytes, for "partial"
    bytes_on_disk: int = 0
    revision: str | None = None
    extras_missing: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.state == "partial":
            return f"partial {self.fraction:.0%}"
        if self.state == "ready" and self.extras_missing:
            return "needs " + ", ".join(self.extras_missing)
        return self.state


# -- where things are ------------------------------------------------------------------------


def repo_folder(repo_id: str) -> Path:
    return hub.cache_dir() / ("models--" + repo_id.replace("/", "--"))


def record_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path("videochat", appauthor=False) / "downloads.json"


_record_lock = threading.Lock()


def _read_record() -> dict:
    try:
        record = json.loads(record_path().read_text(encoding="utf-8"))
        return record if isinstance(record, dict) and isinstance(record.get("repos"), dict) else {"repos": {}}
    except (OSError, ValueError):
        return {"repos": {}}  # none yet, or damaged: the cache itself still says what is there


def _update_record(repo_id: str, **changes) -> None:
    with _record_lock:
        record = _read_record()
        entry = record["repos"].setdefault(repo_id, {})
        entry.update(changes)
        path = record_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(record, indent=1), encoding="utf-8")
        os.replace(temporary, path)


def _forget(repo_id: str) -> None:
    with _record_lock:
        record = _read_record()
        if record["repos"].pop(repo_id, None) is not None:
            path = record_path()
            temporary = path.with_name(path.name + ".tmp")
            temporary.write_text(json.dumps(record, indent=1), encoding="utf-8")
            os.replace(temporary, path)


def recorded_revision(repo_id: str) -> str | None:
    """The commit this app downloaded of `repo_id` (what loads use), if it downloaded one."""
    return _read_record()["repos"].get(repo_id, {}).get("revision")


# -- planning ----------------------------------------------------------------------------------


def repos_of(name: str) -> tuple[str, list[tuple[str, str]]]:
    """(display name, [(repo id, reason)]) for a catalog name or a repo id."""
    entry = find_entry(name)
    if entry is None:
        if name.count("/") != 1:
            from videochat.errors import UnknownModel

            raise UnknownModel(f"{name!r} is neither a catalog model nor a repo id (owner/name).")
        return name, [(name, "the model")]
    repos = [(entry.repo_id, "the model")]
    repos += [(extra, f"read by {entry.name}'s code at load time") for extra in entry.extra_repos]
    return entry.name, repos


def plan(name: str, revision: str | None = None, token: str | None = None, update: bool = False) -> DownloadPlan:
    """List what downloading `name` fetches (online). The recorded commit is kept unless `update`."""
    display, repos = repos_of(name)
    token = token if token is not None else hub.stored_token()
    repo_plans = []
    for index, (repo_id, reason) in enumerate(repos):
        wanted = revision if index == 0 and revision else (None if update else recorded_revision(repo_id))
        commit, files = hub.list_files(repo_id, wanted, token)
        if files:
            first = min(files, key=lambda f: f.size)
            try:
                hub.check_file_access(repo_id, commit, first.path, token)
            except DownloadError as error:
                if reason != "the model":
                    error.args = (f"{display} also needs {repo_id} ({reason}). {error}",)
                raise
        repo_plans.append(RepoPlan(repo_id, commit, tuple(files), reason))
        log.info("plan %s: %s @ %s, %d files, %d bytes", display, repo_id, commit, len(files), sum(f.size for f in files))
    result = DownloadPlan(display, repo_plans)
    result.on_disk_bytes = sum(_bytes_on_disk(repo) for repo in repo_plans)
    cache = hub.cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    result.free_bytes = shutil.disk_usage(cache).free
    return result


def _bytes_on_disk(repo: RepoPlan) -> int:
    blobs = repo_folder(repo.repo_id) / "blobs"
    total = 0
    for f in repo.files:
        blob = blobs / f.etag
        if blob.is_file():
            total += f.size
        elif (partial := blob.with_name(blob.name + ".incomplete")).is_file():
            total += min(partial.stat().st_size, f.size)
    return total


# -- downloading -------------------------------------------------------------------------------


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
        self._report(DownloadProgress(file.repo_id, file.path, file_done, file.size, self.done, self.total, self.speed(), self.files_done, self.files_total))


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
    token = token if token is not None else hub.stored_token()
    stop = should_stop or (lambda: False)
    files_total = sum(len(repo.files) for repo in the_plan.repos)
    meter = _Meter(the_plan.total_bytes, the_plan.on_disk_bytes, files_total, progress)
    for repo in the_plan.repos:
        _update_record(repo.repo_id, revision=repo.commit, files={f.path: [f.size, f.etag] for f in repo.files}, complete=False)
        for file in repo.files:
            _fetch_file(repo, file, token, meter, stop)
            meter.files_done += 1
            meter.report(file, file.size, force=True)
        (repo_folder(repo.repo_id) / "refs").mkdir(parents=True, exist_ok=True)
        _write_atomically(repo_folder(repo.repo_id) / "refs" / "main", repo.commit)
        _update_record(repo.repo_id, complete=True)


def _fetch_file(repo: RepoPlan, file: RemoteFile, token: str | None, meter: _Meter, stop: Callable[[], bool]) -> None:
    folder = repo_folder(repo.repo_id)
    blob = folder / "blobs" / file.etag
    pointer = folder / "snapshots" / repo.commit / file.path
    if blob.is_file() and _verified(blob, file):
        _link(blob, pointer)
        return
    if blob.is_file():  # damaged since: fetched again
        log.warning("%s/%s: the file on disk does not match its checksum; fetching it again", repo.repo_id, file.path)
        meter.done -= file.size
        blob.unlink()
    pointer.unlink(missing_ok=True)
    blob.parent.mkdir(parents=True, exist_ok=True)
    partial = blob.with_name(blob.name + ".incomplete")
    from filelock import FileLock

    lock_path = hub.cache_dir() / ".locks" / folder.name / f"{file.etag}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock_path)):  # the lock huggingface_hub takes for the same blob
        for attempt in (1, 2):
            _stream_into(partial, file, repo.commit, token, meter, stop)
            if _content_matches(partial, file):
                break
            log.warning("%s/%s arrived damaged (attempt %d)", repo.repo_id, file.path, attempt)
            meter.done -= partial.stat().st_size
            partial.unlink()
            if attempt == 2:
                raise DownloadCorrupted(f"{repo.repo_id}/{file.path} arrived damaged twice (wrong size or checksum); it was not kept. Try again later.")
        os.replace(partial, blob)
    log.info("%s/%s: %d bytes, verified", repo.repo_id, file.path, file.size)
    _mark_verified(repo.repo_id, file, blob)
    _link(blob, pointer)


def _stream_into(partial: Path, file: RemoteFile, commit: str, token: str | None, meter: _Meter, stop: Callable[[], bool]) -> None:
    have = partial.stat().st_size if partial.is_file() else 0
    if have > file.size:  # not this file's bytes: start over
        meter.done -= min(have, file.size)
        partial.unlink()
        have = 0
    if have == file.size:
        return
    import requests

    if have:
        log.info("%s/%s: resuming at byte %d of %d", file.repo_id, file.path, have, file.size)
    response = hub.open_stream(file, commit, token, have)
    try:
        if have and response.status_code != 206:  # the server sent the whole file: start over
            meter.done -= have
            have = 0
        with open(partial, "ab" if have else "wb") as out:
            try:
                for chunk in response.iter_content(CHUNK_BYTES):
                    if stop():
                        raise Cancelled(f"Download of {file.repo_id} paused at {format_bytes(meter.done)} of {format_bytes(meter.total)}; it resumes from there.")
                    out.write(chunk)
                    have += len(chunk)
                    meter.add(len(chunk))
                    meter.report(file, have)
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


def _disk_error(error: OSError, path: Path) -> DownloadError:
    if error.errno == errno.ENOSPC:
        return NotEnoughDisk(f"The disk filled up while writing {path.parent}; free some space and try again: the download resumes.")
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return DownloadError(f"Permission denied writing to {path.parent}: make the Hugging Face cache writable (or set HF_HOME), then try again.")
    return DownloadError(f"Writing {path} failed: {error}. What was fetched is kept; try again to resume.")


def _content_matches(path: Path, file: RemoteFile) -> bool:
    if path.stat().st_size != file.size:
        return False
    if file.sha256:
        digest = hashlib.sha256()
    else:  # a regular git file: its object id is the sha1 of a header and the content
        digest = hashlib.sha1(b"blob %d\0" % file.size)
    with open(path, "rb") as stream:
        while block := stream.read(CHUNK_BYTES * 8):
            digest.update(block)
    return digest.hexdigest() == (file.sha256 or file.blob_id)


def _verified(blob: Path, file: RemoteFile) -> bool:
    """True when `blob` is `file`: a recorded check of this very file (size and time) or a new one."""
    stat = blob.stat()
    if stat.st_size != file.size:
        return False
    checked = _read_record()["repos"].get(file.repo_id, {}).get("verified", {}).get(file.etag)
    if checked == [stat.st_size, stat.st_mtime_ns]:
        return True
    if _content_matches(blob, file):
        _mark_verified(file.repo_id, file, blob)
        return True
    return False


def _mark_verified(repo_id: str, file: RemoteFile, blob: Path) -> None:
    stat = blob.stat()
    verified = dict(_read_record()["repos"].get(repo_id, {}).get("verified", {}))
    verified[file.etag] = [stat.st_size, stat.st_mtime_ns]
    _update_record(repo_id, verified=verified)


def _link(blob: Path, pointer: Path) -> None:
    """The snapshot's entry for the file: a relative link to the blob, as huggingface_hub makes it."""
    pointer.parent.mkdir(parents=True, exist_ok=True)
    if pointer.is_symlink() or pointer.exists():
        if pointer.resolve() == blob.resolve():
            return
        pointer.unlink()
    try:
        pointer.symlink_to(os.path.relpath(blob, pointer.parent))
    except OSError:  # no symlinks (Windows without developer mode): a copy, as huggingface_hub does then
        shutil.copy2(blob, pointer)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


# -- what is on disk ---------------------------------------------------------------------------


def status(entry: CatalogEntry) -> ModelStatus:
    """The state of a catalog model from the disk alone (no network)."""
    main = status_of_repo(entry.repo_id)
    missing = [extra for extra in entry.extra_repos if status_of_repo(extra).state != "ready"]
    main.extras_missing = missing if main.state == "ready" else []
    return main


def status_of_repo(repo_id: str) -> ModelStatus:
    folder = repo_folder(repo_id)
    recorded = _read_record()["repos"].get(repo_id)
    on_disk = _folder_bytes(folder)
    if recorded and recorded.get("files"):
        total = sum(size for size, _ in recorded["files"].values())
        blobs = folder / "blobs"
        done = sum(
            size if (blobs / etag).is_file() else _size(blobs / f"{etag}.incomplete")
            for size, etag in recorded["files"].values()
        )
        if done >= total and all((folder / "snapshots" / recorded["revision"] / path).exists() for path in recorded["files"]):
            return ModelStatus("ready", 1.0, on_disk, recorded["revision"])
        if done == 0:
            return ModelStatus("not downloaded", 0.0, on_disk, recorded.get("revision"))
        return ModelStatus("partial", min(done / total, 0.999) if total else 0.0, on_disk, recorded.get("revision"))
    # Downloaded by another tool: ready when its main snapshot holds a config and nothing is half-fetched.
    revision = _read_text(folder / "refs" / "main")
    if revision and (folder / "snapshots" / revision / "config.json").exists():
        if any((folder / "blobs").glob("*.incomplete")):
            return ModelStatus("partial", 0.0, on_disk, revision)
        return ModelStatus("ready", 1.0, on_disk, revision)
    return ModelStatus("partial" if on_disk else "not downloaded", 0.0, on_disk, revision)


def _folder_bytes(folder: Path) -> int:
    blobs = folder / "blobs"
    return sum(_size(path) for path in blobs.iterdir()) if blobs.is_dir() else 0


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return None


def delete(entry_or_repo: CatalogEntry | str) -> int:
    """Remove a model's own repo from the cache (not the repos it shares with others); returns bytes freed."""
    repo_id = entry_or_repo.repo_id if isinstance(entry_or_repo, CatalogEntry) else entry_or_repo
    folder = repo_folder(repo_id)
    freed = _folder_bytes(folder)
    shutil.rmtree(folder, ignore_errors=True)
    _forget(repo_id)
    return freed


def update_available(repo_id: str, token: str | None = None) -> bool:
    """True when the hub's main is ahead of the recorded commit (online; `HubUnreachable` offline)."""
    recorded = recorded_revision(repo_id)
    if recorded is None:
        return False
    commit, _ = hub.list_files(repo_id, None, token if token is not None else hub.stored_token())
    return commit != recorded


def catalog_status() -> list[tuple[CatalogEntry, ModelStatus]]:
    return [(entry, status(entry)) for entry in CATALOG]


def format_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(count) < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"
