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

import contextlib
import errno
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from videochat import hub
from videochat.catalog import CATALOG, CatalogEntry, find_entry
from videochat.errors import Cancelled, DownloadCorrupted, DownloadError, HubUnreachable, NotEnoughDisk
from videochat.hub import RemoteFile
from videochat.sizes import format_bytes

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
    branch: str | None = None  # the branch or tag asked for, whose ref then names the commit

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in _unique_blobs(self.files))


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

    @property
    def time_left_text(self) -> str:
        """"m:ss left", or "" before the speed is known."""
        left = self.seconds_left
        return f"{int(left // 60)}:{int(left % 60):02d} left" if left is not None else ""


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
    path = record_path()
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(record, dict) and isinstance(record.get("repos"), dict):
            return record
    except FileNotFoundError:
        return {"repos": {}}
    except (OSError, ValueError):
        pass
    # Damaged: kept aside for a person to look at; the cache itself still says what is there.
    with contextlib.suppress(OSError):
        os.replace(path, path.with_name(f"{path.name}.damaged-{int(time.time())}"))
    log.warning("the download record %s could not be read; it was kept aside", path)
    return {"repos": {}}


@contextlib.contextmanager
def _editing_record():
    """The record to change in place; written atomically after, one writer at a time across processes."""
    from filelock import FileLock

    path = record_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _record_lock, FileLock(str(path.with_name(path.name + ".lock"))):
        record = _read_record()
        yield record
        with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=path.name, suffix=".tmp", delete=False, encoding="utf-8") as stream:
            json.dump(record, stream, indent=1)
        os.replace(stream.name, path)


def _update_record(repo_id: str, **changes) -> None:
    with _editing_record() as record:
        record["repos"].setdefault(repo_id, {}).update(changes)


def _forget(repo_id: str) -> None:
    with _editing_record() as record:
        record["repos"].pop(repo_id, None)


def _recorded(repo_id: str) -> dict:
    return _read_record()["repos"].get(repo_id, {})


def recorded_revision(repo_id: str) -> str | None:
    """The commit of `repo_id` this app finished downloading (what loads use); an update in progress
    does not change it until its last file is in."""
    return _recorded(repo_id).get("revision")


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
        recorded = _recorded(repo_id)
        if index == 0 and revision:
            wanted = revision
        elif update:
            wanted = None
        else:  # the commit being fetched (resume it), else the one downloaded, else main
            wanted = recorded.get("pending", {}).get("revision") or recorded.get("revision")
        commit, files = hub.list_files(repo_id, wanted, token)
        if files:
            first = min(files, key=lambda f: f.size)
            try:
                hub.check_file_access(repo_id, commit, first.path, token)
            except DownloadError as error:
                if reason != "the model":
                    error.args = (f"{display} also needs {repo_id} ({reason}). {error}",)
                raise
        branch = None if wanted and hub.is_commit(wanted) else (wanted or "main")
        repo_plans.append(RepoPlan(repo_id, commit, tuple(files), reason, branch))
        log.info("plan %s: %s @ %s, %d files, %d bytes", display, repo_id, commit, len(files), sum(f.size for f in files))
    result = DownloadPlan(display, repo_plans)
    result.on_disk_bytes = sum(_bytes_on_disk(repo) for repo in repo_plans)
    cache = hub.cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    result.free_bytes = shutil.disk_usage(cache).free
    return result


def _unique_blobs(files) -> list[RemoteFile]:
    """One file per blob: two paths with the same content are fetched (and counted) once."""
    return list({f.etag: f for f in files}.values())


def _bytes_on_disk(repo: RepoPlan) -> int:
    return _bytes_in(repo_folder(repo.repo_id), {f.etag: f.size for f in repo.files})


def _bytes_in(folder: Path, sizes: dict[str, int]) -> int:
    """How many of the bytes of these blobs (etag -> size) the cache holds, partial files included."""
    blobs = folder / "blobs"
    return sum(size if (blobs / etag).is_file() else min(_size(blobs / f"{etag}.incomplete"), size) for etag, size in sizes.items())


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
    token = token if token is not None else hub.stored_token()
    stop = should_stop or (lambda: False)
    files_total = sum(len(repo.files) for repo in the_plan.repos)
    meter = _Meter(the_plan.total_bytes, the_plan.on_disk_bytes, files_total, progress)
    for repo in the_plan.repos:
        files = {f.path: [f.size, f.etag] for f in repo.files}
        if recorded_revision(repo.repo_id) != repo.commit:
            _update_record(repo.repo_id, pending={"revision": repo.commit, "files": files})
        for file in repo.files:
            _fetch_file(repo, file, token, meter, stop)
            meter.files_done += 1
            meter.report(file, file.size, force=True)
        _write_refs(repo)
        with _editing_record() as record:
            entry = record["repos"].setdefault(repo.repo_id, {})
            entry.pop("pending", None)
            entry.update(revision=repo.commit, files=files)


def _write_refs(repo: RepoPlan) -> None:
    """refs/<branch> names the commit when a branch was asked for; a commit asked for by hash moves
    no ref (another tool's newer main stays), except that a repo without refs/main gets one, since
    code that loads by name offline (InternVideo2-Chat's Mistral and BERT) looks there."""
    refs = repo_folder(repo.repo_id) / "refs"
    name = repo.branch or ("main" if not (refs / "main").exists() else None)
    if name is not None:
        (refs / name).parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(refs / name, repo.commit)


def _fetch_file(repo: RepoPlan, file: RemoteFile, token: str | None, meter: _Meter, stop: Callable[[], bool]) -> None:
    folder = repo_folder(repo.repo_id)
    blob = folder / "blobs" / file.etag
    pointer = folder / "snapshots" / repo.commit / file.path
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
    _mark_verified(repo.repo_id, file, blob)
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


def _content_matches(path: Path, file: RemoteFile, stop: Callable[[], bool] = lambda: False) -> bool:
    if path.stat().st_size != file.size:
        return False
    if file.sha256:
        digest = hashlib.sha256()
    else:  # a regular git file: its object id is the sha1 of a header and the content
        digest = hashlib.sha1(b"blob %d\0" % file.size)
    with open(path, "rb") as stream:
        while block := stream.read(CHUNK_BYTES * 8):
            if stop():
                raise Cancelled(f"Download of {file.repo_id} paused while checking {file.path}; nothing is lost.")
            digest.update(block)
    return digest.hexdigest() == (file.sha256 or file.blob_id)


def _verified(blob: Path, file: RemoteFile) -> bool:
    """True when `blob` is `file`: a recorded check of this very file (size and time) or a new one."""
    stat = blob.stat()
    if stat.st_size != file.size:
        return False
    checked = _recorded(file.repo_id).get("verified", {}).get(file.etag)
    if checked == [stat.st_size, stat.st_mtime_ns]:
        return True
    if _content_matches(blob, file):
        _mark_verified(file.repo_id, file, blob)
        return True
    return False


def _mark_verified(repo_id: str, file: RemoteFile, blob: Path) -> None:
    stat = blob.stat()
    with _editing_record() as record:  # read and written under the lock: two downloads may mark at once
        record["repos"].setdefault(repo_id, {}).setdefault("verified", {})[file.etag] = [stat.st_size, stat.st_mtime_ns]


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
    recorded = _recorded(repo_id)
    on_disk = _folder_bytes(folder)
    revision, files = recorded.get("revision"), recorded.get("files", {})
    if revision and _fraction_in(folder, files) >= 1.0 and _snapshot_has(folder / "snapshots" / revision, files):
        return ModelStatus("ready", 1.0, on_disk, revision)  # an update under way does not change that
    wanted = recorded.get("pending") or ({"files": files} if revision else None)
    if wanted:
        fraction = _fraction_in(folder, wanted["files"])
        return ModelStatus("partial" if fraction > 0 else "not downloaded", min(fraction, 0.999), on_disk, revision)
    # Fetched by another tool: ready when the snapshot main names holds a config and all its weights.
    revision = _read_text(folder / "refs" / "main")
    if revision and _snapshot_looks_complete(folder / "snapshots" / revision) and not any((folder / "blobs").glob("*.incomplete")):
        return ModelStatus("ready", 1.0, on_disk, revision)
    return ModelStatus("partial" if on_disk else "not downloaded", 0.0, on_disk, revision)


def _fraction_in(folder: Path, files: dict) -> float:
    """The share of `files` (path -> [size, etag]) whose bytes are in the cache, partial ones included."""
    unique = {etag: size for size, etag in files.values()}
    total = sum(unique.values())
    return _bytes_in(folder, unique) / total if total else 1.0


def _snapshot_has(snapshot: Path, files: dict) -> bool:
    return all((snapshot / path).exists() for path in files)


WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")


def _snapshot_looks_complete(snapshot: Path) -> bool:
    """A config, and every weight shard its index names (or at least one weight file when there is no index)."""
    if not (snapshot / "config.json").exists():
        return False
    indexes = list(snapshot.glob("*.index.json"))
    if indexes:
        try:
            shards = {name for index in indexes for name in json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return False
        return all((snapshot / shard).exists() for shard in shards)
    return any(path.suffix in WEIGHT_SUFFIXES and path.exists() for path in snapshot.iterdir())


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
