"""What is in the Hugging Face cache for each model, from the disk alone (no network): its state,
the bytes there, the commit; and deleting a model's repo.

A model downloaded by this app is ready when its recorded commit's files are all in; one fetched
by another tool, when the snapshot `refs/main` names (as huggingface_hub's `scan_cache_dir` reads
the cache) holds a config and every weight it needs.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from videochat import app_files
from videochat.models import record as download_record, hub, hub_names
from videochat.models.catalog import CATALOG, CatalogEntry

log = logging.getLogger(__name__)
MAX_REF_BYTES = 4096


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


def repo_folder(repo_id: str) -> Path:
    return hub.cache_dir() / ("models--" + repo_id.replace("/", "--"))


def bytes_in(folder: Path, sizes: dict[str, int]) -> int:
    """How many of the bytes of these blobs (etag -> size) the cache holds, partial files included."""
    blobs = folder / "blobs"
    return sum(size if (blobs / etag).is_file() else min(_size(blobs / f"{etag}.incomplete"), size) for etag, size in sizes.items())


def status(entry: CatalogEntry, scanned: CacheScan | None = None) -> ModelStatus:
    """The state of a catalog model from the disk alone (no network); `scanned`: a scan to share."""
    main = status_of_repo(entry.repo_id, scanned)
    missing = [extra for extra in entry.extra_repos if status_of_repo(extra, scanned).state != "ready"]
    main.extras_missing = missing if main.state == "ready" else []
    return main


def status_of_repo(repo_id: str, scanned: CacheScan | None = None) -> ModelStatus:
    folder = repo_folder(repo_id)
    recorded = download_record.recorded(repo_id)
    on_disk = _folder_bytes(folder)
    revision, files = recorded.get("revision"), recorded.get("files", {})
    if revision and _fraction_in(folder, files) >= 1.0 and _snapshot_has(folder / "snapshots" / revision, files):
        return ModelStatus("ready", 1.0, on_disk, revision)  # an update under way does not change that
    wanted = recorded.get("pending") or ({"files": files} if revision else None)
    if wanted:
        fraction = _fraction_in(folder, wanted["files"])
        return ModelStatus("partial" if fraction > 0 else "not downloaded", min(fraction, 0.999), on_disk, revision)
    # Fetched by another tool: ready when the snapshot main names holds a config and all its weights.
    if not folder.is_dir():  # spares the scan (and importing huggingface_hub's HTTP side) for a model never fetched
        return ModelStatus("not downloaded", 0.0, 0, None)
    cached = (scanned or CacheScan()).get(repo_id)
    main = next((r for r in cached.revisions if "main" in r.refs), None) if cached is not None else None
    revision = main.commit_hash if main is not None and hub_names.COMMIT.fullmatch(main.commit_hash) else None
    if main is not None and revision and _looks_complete(main) and not any((folder / "blobs").glob("*.incomplete")):
        return ModelStatus("ready", 1.0, on_disk, revision)
    return ModelStatus("partial" if on_disk else "not downloaded", 0.0, on_disk, revision)


class CacheScan:
    """One `scan()` of the cache, made when a model first needs it and shared by the rest."""

    def __init__(self) -> None:
        self._repos: dict | None = None

    def get(self, repo_id: str):
        if self._repos is None:
            self._repos = scan()
        return self._repos.get(repo_id)


def scan() -> dict:
    """The cache's model repos as huggingface_hub reads them (repo id -> `CachedRepoInfo`).

    A damaged repo folder is left out (scan_cache_dir reports it as a warning, logged here). A ref
    that is not a small regular file (a FIFO would block the scan forever) or a scan that fails
    outright leaves every repo out: then only this app's own downloads count.
    """
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    cache = hub.cache_dir()
    odd_ref = _odd_ref(cache)
    if odd_ref is not None:
        log.warning("the Hugging Face cache holds a ref that is not a small file (%s); models fetched by other tools are not counted", odd_ref)
        return {}
    try:
        info = scan_cache_dir(cache)
    except CacheNotFound:
        return {}
    except (OSError, ValueError, RuntimeError) as error:  # unreadable, undecodable, a link loop
        log.warning("the Hugging Face cache %s could not be scanned (%s); models fetched by other tools are not counted", cache, error)
        return {}
    for warning in info.warnings:
        log.info("left out of the cache scan: %s", warning)
    return {repo.repo_id: repo for repo in info.repos if repo.repo_type == "model"}


def _odd_ref(cache: Path) -> Path | None:
    """The first ref of the cache that scan_cache_dir should not open, or None."""
    for refs in cache.glob("*/refs"):
        for path in refs.rglob("*"):
            try:
                status = os.stat(path)
            except OSError:
                return path
            if not stat.S_ISDIR(status.st_mode) and not (stat.S_ISREG(status.st_mode) and status.st_size <= MAX_REF_BYTES):
                return path
    return None


def _fraction_in(folder: Path, files: dict) -> float:
    """The share of `files` (path -> [size, etag]) whose bytes are in the cache, partial ones included."""
    unique = {etag: size for size, etag in files.values()}
    total = sum(unique.values())
    return bytes_in(folder, unique) / total if total else 1.0


def _snapshot_has(snapshot: Path, files: dict) -> bool:
    return all((snapshot / path).exists() for path in files)


WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")


def _looks_complete(revision) -> bool:
    """A config, and every weight shard its index names (or at least one weight file when there is
    no index), in a snapshot as scan_cache_dir lists it (every file there links to a blob present)."""
    snapshot = revision.snapshot_path
    names = {file.file_path.relative_to(snapshot).as_posix() for file in revision.files}
    if "config.json" not in names:
        return False
    indexes = [name for name in names if "/" not in name and name.endswith(".index.json")]
    if indexes:
        try:  # the index is the repo owner's file: a FIFO, a huge or deep one must not hang or raise
            shards = {shard for index in indexes for shard in app_files.read_json(snapshot / index, follow_links=True)["weight_map"].values()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return False
        return all(hub_names.path_problem(shard) is None and shard in names for shard in shards)
    return any("/" not in name and name.endswith(WEIGHT_SUFFIXES) for name in names)


def _folder_bytes(folder: Path) -> int:
    blobs = folder / "blobs"
    return sum(_size(path) for path in blobs.iterdir()) if blobs.is_dir() else 0


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def delete(entry_or_repo: CatalogEntry | str) -> int:
    """Remove a model's own repo from the cache (not the repos it shares with others); returns bytes freed."""
    repo_id = entry_or_repo.repo_id if isinstance(entry_or_repo, CatalogEntry) else entry_or_repo
    folder = repo_folder(repo_id)
    freed = _folder_bytes(folder)
    shutil.rmtree(folder, ignore_errors=True)
    download_record.forget(repo_id)
    return freed


def update_available(repo_id: str, token: str | None = None) -> bool:
    """True when the hub's main is ahead of the recorded commit (online; `HubUnreachable` offline)."""
    recorded = download_record.recorded_revision(repo_id)
    if recorded is None:
        return False
    commit, _ = hub.list_files(repo_id, None, token if token is not None else hub.stored_token())
    return commit != recorded


def catalog_status() -> list[tuple[CatalogEntry, ModelStatus]]:
    scanned = CacheScan()  # at most once for the whole catalog: scan_cache_dir reads every repo of the cache
    return [(entry, status(entry, scanned)) for entry in CATALOG]
