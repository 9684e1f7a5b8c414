"""The app's record of its downloads: `downloads.json` in its data folder.

Per repo: the commit last finished (what loads use), the one under way with its files, and the
blobs already checked (by size and modification time). A damaged record is kept aside, since the
cache itself still says what is there. Changes are made under a lock, across threads and
processes, and written atomically.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import threading
from pathlib import Path

from videochat import app_files, paths
from videochat.models import hub_names
from videochat.app_files import BadAppFile
from videochat.errors import DownloadError, NotEnoughDisk, UnknownModel

log = logging.getLogger(__name__)
MAX_RECORD_BYTES = 64 * app_files.MiB


def record_path() -> Path:
    return paths.downloads_record()


_record_lock = threading.Lock()


def read_record() -> dict:
    """The record, every field of the type and shape it should have; an empty one when there is none.

    A record that cannot be used as it is (not JSON, nested too deep, a list where a commit
    belongs, a file name that climbs out of its snapshot) is kept aside whole for a person to look
    at: the cache itself still says what is there.
    """
    path = record_path()
    try:
        return _checked(app_files.read_json(path, max_bytes=MAX_RECORD_BYTES), path)
    except FileNotFoundError:
        return {"repos": {}}
    except BadAppFile as error:
        with contextlib.suppress(OSError):
            app_files.set_aside(path, "damaged")
        log.warning("the download record %s could not be used (%s); it was kept aside", path, error.reason)
        return {"repos": {}}


def _checked(raw: object, path: Path) -> dict:
    """The record's known fields, checked; `BadAppFile` at the first that is wrong."""
    repos = app_files.field(raw, "repos", dict, source=path)
    return {"repos": {_repo_id(repo_id, path): _checked_repo(entry, path) for repo_id, entry in repos.items()}}


def _repo_id(repo_id: str, path: Path) -> str:
    try:
        return hub_names.check_repo_id(repo_id)
    except UnknownModel:
        raise BadAppFile(path, f"names the repo {hub_names.shown(repo_id)}") from None


def _checked_repo(entry: object, path: Path) -> dict:
    checked: dict = {}
    revision = _optional(entry, "revision", str, path)
    if revision is not None:
        checked["revision"] = _commit(revision, path)
    files = _optional(entry, "files", dict, path)
    if files is not None:
        checked["files"] = _checked_files(files, path)
    pending = _optional(entry, "pending", dict, path)
    if pending is not None:
        checked["pending"] = {
            "revision": _commit(app_files.field(pending, "revision", str, source=path), path),
            "files": _checked_files(app_files.field(pending, "files", dict, source=path), path),
        }
    verified = _optional(entry, "verified", dict, path)
    if verified is not None:
        checked["verified"] = {_etag(etag, path): _numbers(check, path) for etag, check in verified.items()}
    return checked


def _optional(entry: object, key: str, kind: type, path: Path) -> object:
    """`entry[key]` of `kind`, None when absent; a value of another type is damage, not absence."""
    if isinstance(entry, dict) and key not in entry:
        return None
    return app_files.field(entry, key, kind, source=path)


def _checked_files(files: dict, path: Path) -> dict:
    """path -> [size, etag], every path one a snapshot may hold."""
    checked = {}
    for name, value in files.items():
        if hub_names.path_problem(name):
            raise BadAppFile(path, f"names the file {hub_names.shown(name)}")
        size, etag = _pair(value, path)
        if not isinstance(etag, str):
            raise BadAppFile(path, f"has no blob name for {hub_names.shown(name)}")
        checked[name] = [size, _etag(etag, path)]
    return checked


def _pair(value: object, path: Path) -> list:
    if not isinstance(value, list) or len(value) != 2 or not app_files.is_kind(value[0], int) or value[0] < 0:
        raise BadAppFile(path, f"holds {hub_names.shown(value)} where [size, name] belongs")
    return value


def _numbers(value: object, path: Path) -> list[int]:
    if not isinstance(value, list) or len(value) != 2 or not all(app_files.is_kind(number, int) for number in value):
        raise BadAppFile(path, f"holds {hub_names.shown(value)} where [size, time] belongs")
    return value


def _commit(revision: str, path: Path) -> str:
    if not hub_names.COMMIT.fullmatch(revision):
        raise BadAppFile(path, f"names the commit {hub_names.shown(revision)}")
    return revision


def _etag(etag: str, path: Path) -> str:
    if not (hub_names.COMMIT.fullmatch(etag) or hub_names.SHA256.fullmatch(etag)):
        raise BadAppFile(path, f"names the blob {hub_names.shown(etag)}")
    return etag


@contextlib.contextmanager
def editing_record():
    """The record to change in place; written atomically after, one writer at a time across processes."""
    from filelock import FileLock

    path = record_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _record_lock, FileLock(str(path.with_name(path.name + ".lock"))):
        record = read_record()
        yield record
        try:
            app_files.write_atomically(path, json.dumps(record, indent=1))
        except OSError as error:
            kind = NotEnoughDisk if error.errno == errno.ENOSPC else DownloadError
            raise kind(f"The download record {path} cannot be written ({error.strerror or error}): free some space or make its folder writable, then try again.") from error


def update_record(repo_id: str, **changes) -> None:
    with editing_record() as record:
        record["repos"].setdefault(repo_id, {}).update(changes)


def forget(repo_id: str) -> None:
    with editing_record() as record:
        record["repos"].pop(repo_id, None)


def recorded(repo_id: str) -> dict:
    return read_record()["repos"].get(repo_id, {})


def recorded_revision(repo_id: str) -> str | None:
    """The commit of `repo_id` this app finished downloading (what loads use); an update in progress
    does not change it until its last file is in."""
    return recorded(repo_id).get("revision")


def mark_verified(repo_id: str, etag: str, blob: Path) -> None:
    """Remember that `blob` (as its size and time are now) was checked against its etag's content."""
    stat = blob.stat()
    with editing_record() as record:  # read and written under the lock: two downloads may mark at once
        record["repos"].setdefault(repo_id, {}).setdefault("verified", {})[etag] = [stat.st_size, stat.st_mtime_ns]
