"""What downloading a model takes: every repo it needs at one commit each, their files and sizes,
what the cache already holds and the free disk, listed from the hub before anything is fetched.

The commit recorded for a repo is kept (a plain download resumes or repairs it); only
`plan(..., update=True)` moves to the hub's newest main. `downloads.download` fetches a plan.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass

from videochat.models import record as download_record, hub, hub_names
from videochat.models.catalog import find_entry
from videochat.errors import DownloadError, NotEnoughDisk, RevisionNotFound
from videochat.models.hub import RemoteFile
from videochat.models.on_disk import bytes_in, repo_folder
from videochat.sizes import format_bytes

log = logging.getLogger(__name__)
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


def repos_of(name: str) -> tuple[str, list[tuple[str, str]]]:
    """(display name, [(repo id, reason)]) for a catalog name or a repo id: a catalog model's label
    (whichever of its names was given), else the repo id. Messages print it escaped (`safe_text`)."""
    entry = find_entry(name)
    if entry is None:
        if name.count("/") != 1:
            from videochat.errors import UnknownModel

            raise UnknownModel(f"{hub_names.shown(name)} is neither a catalog model nor a repo id (owner/name).")
        return name, [(hub_names.check_repo_id(name), "the model")]
    repos = [(entry.repo_id, "the model")]
    repos += [(extra, f"read by {entry.label}'s code at load time") for extra in entry.extra_repos]
    return entry.label, repos


def plan(name: str, revision: str | None = None, token: str | None = None, update: bool = False) -> DownloadPlan:
    """List what downloading `name` fetches (online). The recorded commit is kept unless `update`."""
    display, repos = repos_of(name)
    token = token if token is not None else hub.stored_token()
    repo_plans = []
    for index, (repo_id, reason) in enumerate(repos):
        recorded = download_record.recorded(repo_id)
        if index == 0 and revision:
            wanted = revision
        elif update:
            wanted = None
        else:  # the commit being fetched (resume it), else the one downloaded, else main
            wanted = recorded.get("pending", {}).get("revision") or recorded.get("revision")
        try:
            commit, files = hub.list_files(repo_id, wanted, token)
        except RevisionNotFound as error:
            if wanted == revision and index == 0:
                error.args = (f"{repo_id} has no revision {hub_names.shown(revision)}: check the branch, tag or commit asked for.",)
            else:  # the commit this app downloaded before: the repo's history was rewritten since
                error.args = (
                    f"The commit of {repo_id} downloaded before ({str(wanted)[:12]}) is no longer on the hub. Move to its newest "
                    f"version: Update in the model manager, or `videochat download {display} --update`.",
                )
            raise
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
    return bytes_in(repo_folder(repo.repo_id), {f.etag: f.size for f in repo.files})
