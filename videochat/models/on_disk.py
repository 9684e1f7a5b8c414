"""What is in the Hugging Face cache for each model, from the disk alone (no network): its state,
the bytes there, the commit; and deleting a model's repo.

A model downloaded by this app is ready when its recorded commit's files are all in; one fetched
by another tool, when the snapshot `refs/main` names holds a config and every weight it needs.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from videochat import app_files
from videochat.models import record as download_record, hub, hub_names
from videochat.models.catalog import CATALOG, CatalogEntry


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


def status(entry: CatalogEntry) -> ModelStatus:
    """The state of a catalog model from the disk alone (no network)."""
    main = status_of_repo(entry.repo_id)
    missing = [extra for extra in entry.extra_repos if status_of_repo(extra).state != "ready"]
    main.extras_missing = missing if main.state == "ready" else []
    return main


def status_of_repo(repo_id: str) -> ModelStatus:
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
    revision = _read_text(folder / "refs" / "main")
    if revision is not None and not hub_names.COMMIT.fullmatch(revision):
        revision = None  # another tool's ref, but not a commit: no snapshot folder to look in
    if revision and _snapshot_looks_complete(folder / "snapshots" / revision) and not any((folder / "blobs").glob("*.incomplete")):
        return ModelStatus("ready", 1.0, on_disk, revision)
    return ModelStatus("partial" if on_disk else "not downloaded", 0.0, on_disk, revision)


def _fraction_in(folder: Path, files: dict) -> float:
    """The share of `files` (path -> [size, etag]) whose bytes are in the cache, partial ones included."""
    unique = {etag: size for size, etag in files.values()}
    total = sum(unique.values())
    return bytes_in(folder, unique) / total if total else 1.0


def _snapshot_has(snapshot: Path, files: dict) -> bool:
    return all((snapshot / path).exists() for path in files)


WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")


def _snapshot_looks_complete(snapshot: Path) -> bool:
    """A config, and every weight shard its index names (or at least one weight file when there is no index)."""
    if not (snapshot / "config.json").exists():
        return False
    indexes = list(snapshot.glob("*.index.json"))
    if indexes:
        try:  # the index is the repo owner's file: a FIFO, a huge or deep one must not hang or raise
            shards = {name for index in indexes for name in app_files.read_json(index)["weight_map"].values()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return False
        return all(hub_names.path_problem(shard) is None and (snapshot / shard).exists() for shard in shards)
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
    """A ref's text; None for anything but a small regular UTF-8 file (a FIFO there would block)."""
    try:
        return app_files.read_regular_file(path, 4096).decode("utf-8").strip()
    except (OSError, ValueError):
        return None


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
    return [(entry, status(entry)) for entry in CATALOG]
