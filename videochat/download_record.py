"""The app's record of its downloads: `downloads.json` in its data folder.

Per repo: the commit last finished (what loads use), the one under way with its files, and the
blobs already checked (by size and modification time). A damaged record is kept aside, since the
cache itself still says what is there. Changes are made under a lock, across threads and
processes, and written atomically.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)


def record_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path("videochat", appauthor=False) / "downloads.json"


_record_lock = threading.Lock()


def read_record() -> dict:
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
def editing_record():
    """The record to change in place; written atomically after, one writer at a time across processes."""
    from filelock import FileLock

    path = record_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _record_lock, FileLock(str(path.with_name(path.name + ".lock"))):
        record = read_record()
        yield record
        with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=path.name, suffix=".tmp", delete=False, encoding="utf-8") as stream:
            json.dump(record, stream, indent=1)
        os.replace(stream.name, path)


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
