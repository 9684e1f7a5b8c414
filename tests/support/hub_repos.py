"""The fake Hub's repos, commits, files and tokens, and the pieces of its protocol that need no server
(git and LFS ids, byte ranges); for tests/support/hub_server.py and its HTTP handler, tests/support/hub_http.py."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping

DEFAULT_LFS_THRESHOLD = 1024
# Suffixes that a fresh Hub repo's .gitattributes stores with LFS whatever their size.
LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".onnx", ".gguf", ".h5", ".msgpack", ".model")
CDN_PREFIX = "/_cdn/"
INVALID_TOKEN_MESSAGE = "Invalid credentials in Authorization header"


def git_blob_sha1(data: bytes) -> str:
    """The object id git gives a blob with this content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The LFS pointer file git stores in place of a large file."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


@dataclass(frozen=True)
class HubFile:
    """One file of one commit."""

    path: str
    data: bytes = field(repr=False)
    is_lfs: bool
    sha256: str
    blob_id: str  # git object id: of the content, or of the LFS pointer for LFS files

    @classmethod
    def make(cls, path: str, data: bytes, is_lfs: bool) -> HubFile:
        sha256 = hashlib.sha256(data).hexdigest()
        stored = lfs_pointer(sha256, len(data)) if is_lfs else data
        return cls(path, data, is_lfs, sha256, git_blob_sha1(stored))

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def etag(self) -> str:
        """What the Hub reports as the file's ETag (and huggingface_hub names the cached blob after)."""
        return self.sha256 if self.is_lfs else self.blob_id

    def lfs_info(self, sha_key: str) -> dict:
        return {sha_key: self.sha256, "size": self.size, "pointerSize": len(lfs_pointer(self.sha256, self.size))}


@dataclass
class Commit:
    sha: str
    files: dict[str, HubFile]
    created: datetime
    listed: dict[str, dict] = field(default_factory=dict)  # per path: fields the listing shows instead of the true ones


@dataclass
class Repo:
    repo_id: str
    gated: bool | str  # False, "auto" or "manual", as the Hub's model info reports it
    private: bool
    created: datetime
    commits: dict[str, Commit] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)

    def resolve(self, revision: str) -> Commit | None:
        sha = self.refs.get(revision, revision)
        return self.commits.get(sha)

    @property
    def head(self) -> Commit:
        return self.commits[self.refs["main"]]


@dataclass
class Token:
    user: str
    gated_access: frozenset[str]
    private_access: frozenset[str]
    role: str


@dataclass
class RequestRecord:
    """One request as the server saw it (whether a token came, never the token)."""

    method: str
    path: str
    query: str
    range: str | None
    authorized: bool
    status: int | None = None


class HubError(Exception):
    """An error response in the Hub's form: status, X-Error-Code and X-Error-Message."""

    def __init__(self, status: int, message: str, code: str | None = None, commit: str | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.commit = status, message, code, commit


class Unsatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The [start, end) slice a single-range `Range` header asks for; None to send it all."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, sep, last = header[len("bytes=") :].strip().partition("-")
    if not sep or not (first + last).isdigit():
        return None
    if not first:  # suffix form: the last N bytes
        if int(last) == 0:
            raise Unsatisfiable
        return max(0, size - int(last)), size
    start = int(first)
    end = size if not last else int(last) + 1
    if start >= size:
        raise Unsatisfiable
    if end <= start:
        return None
    return start, min(end, size)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def read_files(files: Mapping[str, bytes] | Path | str, *, raw_paths: bool = False) -> dict[str, bytes]:
    """path -> bytes; `raw_paths` keeps names exactly as given (absolute, `..`, backslashes: a hostile repo)."""
    if isinstance(files, (str, Path)):
        root = Path(files)
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    return {path if raw_paths else path.strip("/"): bytes(data) for path, data in files.items()}
