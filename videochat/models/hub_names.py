"""What the hub (or a record of it) may name, checked before any name becomes a path in the cache.

A repo listing is written by whoever owns the repo: its file names (`rfilename`), blob ids and
LFS checksums become file names under `models--<org>--<name>/`, its commit names a snapshot
folder, and a revision asked for names a file under `refs/`. huggingface_hub only checks that a
snapshot path stays under `snapshots/`; the app is stricter: each name must have the shape the hub
gives it (40 or 64 lowercase hex digits, a git ref name, a relative path of plain segments),
and a name that does not is refused with `UnsafeHubName` before anything is written or deleted.
Names are shown with `shown()` (escaped, shortened), never raw: they may hold terminal controls.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

from videochat.errors import UnsafeHubName, UnknownModel

COMMIT = re.compile(r"[0-9a-f]{40}")
SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_PATH_CHARS = 1000
MAX_SEGMENT_BYTES = 255  # the longest file name most file systems take
MAX_FILE_BYTES = 1 << 50
# Characters that are no part of a portable file name: controls (terminal escapes included), the
# other separator, and on Windows those it forbids (a colon opens a drive or an NTFS stream).
_BAD_CHARS = re.compile(r'[\x00-\x1f\x7f\\]' + (r'|[:<>"|?*]' if os.name == "nt" else ""))
# Format characters (right-to-left overrides, zero-width ones) make a name read as another;
# lone surrogates cannot be encoded as a file name at all.
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}
_BAD_REF = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")


def shown(name: object, limit: int = 120) -> str:
    """`name` as a quoted, escaped literal (control and invisible characters spelled out), shortened."""
    text = repr(name if isinstance(name, str) else str(name))
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def path_problem(path: object) -> str | None:
    """Why `path` cannot be a file of a repo snapshot, or None when it can."""
    if not isinstance(path, str) or not path:
        return "not a file name"
    if len(path) > MAX_PATH_CHARS:
        return "too long"
    if path.startswith("/"):
        return "an absolute path"
    if _BAD_CHARS.search(path):
        return "a control character or backslash in it"
    if any(unicodedata.category(c) in _INVISIBLE for c in path):
        return "an invisible, reordering or unencodable character in it"
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            return "an empty, '.' or '..' part"
        if len(segment.encode("utf-8", "surrogatepass")) > MAX_SEGMENT_BYTES:
            return "a part longer than a file name may be"
        if os.name == "nt" and segment.rstrip(" .") != segment:
            return "a part ending in a space or a dot"
    return None


def check_path(repo_id: str, path: object) -> str:
    problem = path_problem(path)
    if problem:
        raise UnsafeHubName(f"{repo_id} lists a file named {shown(path)} ({problem}), which cannot be stored safely in the Hugging Face cache; nothing of it was written. Do not use this repo, or ask its owner to rename the file.")
    return path  # type: ignore[return-value]


def check_commit(repo_id: str, commit: object) -> str:
    if not isinstance(commit, str) or not COMMIT.fullmatch(commit):
        raise UnsafeHubName(f"The hub named the commit of {repo_id} {shown(commit)}, which is not a commit id (40 hex digits); nothing was written. Try again later.")
    return commit


def check_blob_id(repo_id: str, path: str, blob_id: object) -> str:
    if not isinstance(blob_id, str) or not COMMIT.fullmatch(blob_id):
        raise UnsafeHubName(f"{repo_id} lists {shown(path)} with the blob id {shown(blob_id)}, which is not a git object id (40 hex digits); nothing was written. Do not use this repo.")
    return blob_id


def check_sha256(repo_id: str, path: str, sha256: object) -> str:
    if not isinstance(sha256, str) or not SHA256.fullmatch(sha256):
        raise UnsafeHubName(f"{repo_id} lists {shown(path)} with the checksum {shown(sha256)}, which is not a sha256 (64 hex digits); nothing was written. Do not use this repo.")
    return sha256


def check_size(repo_id: str, path: str, size: object) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_FILE_BYTES:
        raise UnsafeHubName(f"{repo_id} lists {shown(path)} with the size {shown(size)}, which is not a size in bytes; nothing was written. Try again later.")
    return size


def revision_problem(revision: object) -> str | None:
    """Why `revision` cannot be a branch, tag or commit name (git's rules for ref names), or None."""
    if not isinstance(revision, str) or not revision:
        return "empty"
    if len(revision) > 255:
        return "too long"
    if _BAD_REF.search(revision) or revision.startswith(("/", "-")) or revision.endswith(("/", ".", ".lock")):
        return "not a branch, tag or commit name"
    if any(part.startswith(".") or part.endswith(".lock") for part in revision.split("/")):
        return "not a branch, tag or commit name"
    return None


def check_revision(repo_id: str, revision: object) -> str:
    problem = revision_problem(revision)
    if problem:
        raise UnsafeHubName(f"{shown(revision)} is {problem} for {repo_id}: give a branch (main), a tag or a commit id.")
    return revision  # type: ignore[return-value]


# huggingface_hub's `validate_repo_id` rules, without importing it (the record is read at startup).
_REPO_ID = re.compile(r"(\b[\w\-.]+\b/)?\b[\w\-.]+\b")


def check_repo_id(repo_id: object) -> str:
    """`repo_id` if it has the shape of a hub repo id (huggingface_hub's rules); `UnknownModel` otherwise."""
    if (
        not isinstance(repo_id, str)
        or len(repo_id) > 96
        or not _REPO_ID.fullmatch(repo_id)
        or "--" in repo_id
        or ".." in repo_id
        or repo_id.endswith(".git")
    ):
        raise UnknownModel(f"{shown(repo_id)} is not a hub repo id (owner/name: letters, digits, '-', '_' and '.').")
    return repo_id


def inside(root: Path, relative: str, within: Path | None = None) -> Path:
    """`root / relative`, refused unless it stays under `root` by name and the part of it already
    on disk resolves inside `within` (default `root`): a folder replaced by a link elsewhere is
    neither written through nor deleted through."""
    within = root if within is None else within
    target = root / relative
    norm_root, norm_target, norm_within = (Path(os.path.abspath(path)) for path in (root, target, within))
    existing = norm_target.parent
    while not os.path.lexists(existing) and norm_within in existing.parents:
        existing = existing.parent
    real_within, real = os.path.realpath(norm_within), os.path.realpath(existing)
    if norm_root not in norm_target.parents or os.path.commonpath([real_within, real]) != real_within:
        raise UnsafeHubName(f"{shown(str(target))} would lie outside {shown(str(within))} in the Hugging Face cache; nothing was written there.")
    return target
