"""A local stand-in for the Hugging Face Hub's file protocol, for tests (stdlib only).

`FakeHub` serves what huggingface_hub 0.36 asks for when it lists and downloads a model
repo: `/api/models/...` (info and tree), `/{repo}/resolve/{revision}/{path}` (HEAD and GET,
LFS files redirected to a "CDN" path on the same server), and `/api/whoami-v2`. It counts
the body bytes it sends, can be throttled, and can go offline (port closed).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterable, Iterator, Mapping
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

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


class _Unsatisfiable(Exception):
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
            raise _Unsatisfiable
        return max(0, size - int(last)), size
    start = int(first)
    end = size if not last else int(last) + 1
    if start >= size:
        raise _Unsatisfiable
    if end <= start:
        return None
    return start, min(end, size)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _read_files(files: Mapping[str, bytes] | Path | str) -> dict[str, bytes]:
    if isinstance(files, (str, Path)):
        root = Path(files)
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    return {path.strip("/"): bytes(data) for path, data in files.items()}


class FakeHub:
    """A Hugging Face Hub on 127.0.0.1 (random free port) for huggingface_hub's file protocol.

    LFS files are redirected to `cdn_host` (default "localhost", another host name for the same
    server, so huggingface_hub drops the Authorization header as it does for the real CDN).
    """

    def __init__(self, *, bytes_per_second: float | None = None, chunk_size: int = 64 * 1024, cdn_host: str = "localhost"):
        self.bytes_per_second = bytes_per_second  # None = as fast as the socket takes it
        self.chunk_size = chunk_size
        self.cdn_host = cdn_host
        self.port: int | None = None
        self._repos: dict[str, Repo] = {}
        self._tokens: dict[str, Token] = {}
        self._blobs: dict[str, bytes] = {}  # LFS content by sha256, as a CDN would hold it
        self._lock = threading.Lock()
        self._sent = threading.Condition(self._lock)
        self._bytes_sent: dict[tuple[str, str], int] = {}
        self._streams_open = 0
        self._requests: list[RequestRecord] = []
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        if self.port is None:
            raise RuntimeError("FakeHub was never started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> FakeHub:
        """Listen (on the port used before, if any) and serve in a background thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", self.port or 0), _Handler, hub=self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the port and cut every open connection, mid-download ones included."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    go_offline = stop

    def go_online(self) -> FakeHub:
        """Serve again on the same port after `go_offline()`."""
        return self.start()

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- content ---------------------------------------------------------------------------

    def add_repo(
        self,
        repo_id: str,
        files: Mapping[str, bytes] | Path | str,
        *,
        gated: bool | str = False,
        private: bool = False,
        commit: str | None = None,
        lfs_threshold: int = DEFAULT_LFS_THRESHOLD,
    ) -> str:
        """Create a model repo whose main branch holds `files` (a dict or a folder); returns the commit sha.

        Files larger than `lfs_threshold` bytes, or with a suffix in LFS_SUFFIXES, are LFS files.
        `gated=True` means "manual" approval; access is granted per token (`add_token`).
        """
        with self._lock:
            if repo_id in self._repos:
                raise ValueError(f"repo {repo_id} exists already; use update_repo")
            self._repos[repo_id] = Repo(repo_id, "manual" if gated is True else gated, private, _now())
        return self._commit(repo_id, _read_files(files), commit, lfs_threshold)

    def update_repo(
        self,
        repo_id: str,
        files: Mapping[str, bytes | None] | Path | str,
        *,
        keep_others: bool = False,
        commit: str | None = None,
        lfs_threshold: int = DEFAULT_LFS_THRESHOLD,
    ) -> str:
        """Make a new commit the head of main; returns its sha. Older commits stay downloadable by sha.

        With `keep_others`, `files` are changes to the current head (a None value deletes a file).
        """
        new_files = _read_files(files) if isinstance(files, (str, Path)) else dict(files)
        if keep_others:
            with self._lock:
                head = self._repos[repo_id].head
            merged: dict = {path: f.data for path, f in head.files.items()}
            merged.update(new_files)
            new_files = merged
        present = {path: data for path, data in new_files.items() if data is not None}
        return self._commit(repo_id, _read_files(present), commit, lfs_threshold)

    def _commit(self, repo_id: str, files: dict[str, bytes], sha: str | None, lfs_threshold: int) -> str:
        sha = sha or hashlib.sha1(uuid.uuid4().bytes).hexdigest()
        entries = {
            path: HubFile.make(path, data, len(data) > lfs_threshold or path.endswith(LFS_SUFFIXES))
            for path, data in sorted(files.items())
        }
        with self._lock:
            repo = self._repos[repo_id]
            repo.commits[sha] = Commit(sha, entries, _now())
            repo.refs["main"] = sha
            self._blobs.update({f.sha256: f.data for f in entries.values() if f.is_lfs})
        return sha

    def head(self, repo_id: str) -> str:
        """The commit sha main points at."""
        with self._lock:
            return self._repos[repo_id].refs["main"]

    def file(self, repo_id: str, path: str, revision: str = "main") -> HubFile:
        """A served file's record (sha256, blob_id, etag, size, data)."""
        with self._lock:
            commit = self._repos[repo_id].resolve(revision)
        if commit is None:
            raise KeyError(revision)
        return commit.files[path]

    def add_token(
        self,
        token: str,
        user: str = "alice",
        gated_access: Iterable[str] = (),
        *,
        private_access: Iterable[str] = (),
        role: str = "read",
    ) -> None:
        """Accept `token` as `user`'s; it opens the gated repos named, and private repos named or in `user`'s namespace."""
        with self._lock:
            self._tokens[token] = Token(user, frozenset(gated_access), frozenset(private_access), role)

    # --- accounting ------------------------------------------------------------------------

    def bytes_sent(self, repo_id: str | None = None, path: str | None = None) -> int:
        """File bytes handed to sockets: for one file, one repo, or all (no arguments).

        A chunk counts before it is written (so a client that got everything sees the full count)
        and stops counting if the write fails.
        """
        with self._lock:
            return sum(
                count
                for (repo, file_path), count in self._bytes_sent.items()
                if repo_id in (None, repo) and path in (None, file_path)
            )

    @property
    def total_bytes_sent(self) -> int:
        return self.bytes_sent()

    @property
    def bytes_sent_by_file(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._bytes_sent)

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def wait_for_bytes(self, repo_id: str, path: str, at_least: int, timeout: float = 30) -> bool:
        """Block until `at_least` bytes of the file were sent; False on timeout."""

        def enough() -> bool:
            return self._bytes_sent.get((repo_id, path), 0) >= at_least

        with self._sent:
            return self._sent.wait_for(enough, timeout=timeout)

    def wait_idle(self, timeout: float = 30) -> bool:
        """Block until no file is being sent (say, to a client just killed); False on timeout."""
        with self._sent:
            return self._sent.wait_for(lambda: self._streams_open == 0, timeout=timeout)

    def reset_counters(self) -> None:
        with self._lock:
            self._bytes_sent.clear()
            self._requests.clear()

    def _count_sent(self, key: tuple[str, str], size: int) -> None:
        with self._sent:
            self._bytes_sent[key] = self._bytes_sent.get(key, 0) + size
            self._sent.notify_all()

    # --- clients ---------------------------------------------------------------------------

    def client_env(self, hf_home: Path | str, *, token: str | None = None, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """An environment for a child process that should use this hub: own HF_HOME, online, no stray token."""
        env = dict(os.environ if base is None else base)
        for name in (
            "HF_TOKEN",
            "HUGGING_FACE_HUB_TOKEN",
            "HF_TOKEN_PATH",
            "HF_HUB_CACHE",
            "HUGGINGFACE_HUB_CACHE",
            "TRANSFORMERS_CACHE",
            "TRANSFORMERS_OFFLINE",
            "HF_HUB_ENABLE_HF_TRANSFER",
        ):
            env.pop(name, None)
        env.update(
            HF_ENDPOINT=self.endpoint,
            HF_HOME=str(hf_home),
            HF_HUB_OFFLINE="0",
            HF_HUB_DISABLE_TELEMETRY="1",
            HF_HUB_DISABLE_PROGRESS_BARS="1",
            NO_PROXY=",".join(filter(None, [env.get("NO_PROXY"), "127.0.0.1", self.cdn_host])),
        )
        if token is not None:
            env["HF_TOKEN"] = token
        return env

    @contextlib.contextmanager
    def patch_huggingface_hub(self, token_dir: Path | str) -> Iterator[None]:
        """Point the imported huggingface_hub at this hub, online, with its token files under `token_dir`.

        huggingface_hub reads HF_ENDPOINT, HF_HUB_OFFLINE (which tests/conftest.py sets) and the
        token path at import time, so this swaps its module constants and per-thread sessions.
        """
        from huggingface_hub import constants, file_download, hf_api
        from huggingface_hub.utils import reset_sessions

        template = self.endpoint + "/{repo_id}/resolve/{revision}/{filename}"
        patches = [
            (constants, "ENDPOINT", self.endpoint),
            (hf_api.api, "endpoint", self.endpoint),  # the module's HfApi (behind login, whoami) kept the import-time one
            (constants, "HUGGINGFACE_CO_URL_TEMPLATE", template),
            (file_download, "HUGGINGFACE_CO_URL_TEMPLATE", template),
            (constants, "HF_HUB_OFFLINE", False),
            (constants, "HF_TOKEN_PATH", str(Path(token_dir) / "token")),
            (constants, "HF_STORED_TOKENS_PATH", str(Path(token_dir) / "stored_tokens")),
        ]
        saved_attrs = [(module, name, getattr(module, name)) for module, name, _ in patches]
        saved_env = {name: os.environ.pop(name, None) for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")}
        for module, name, value in patches:
            setattr(module, name, value)
        reset_sessions()
        try:
            yield
        finally:
            for module, name, value in saved_attrs:
                setattr(module, name, value)
            os.environ.update({name: value for name, value in saved_env.items() if value is not None})
            reset_sessions()  # sessions made while online would otherwise outlive the patch


@contextlib.contextmanager
def serving_this_process(tmp_path: Path, monkeypatch) -> Iterator[FakeHub]:
    """A started FakeHub that this process's huggingface_hub uses, with the Hugging Face cache,
    the token files and the app's data and logs all under `tmp_path` (pytest's monkeypatch undoes it)."""
    from huggingface_hub import constants

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    with FakeHub() as server, server.patch_huggingface_hub(tmp_path / "hf"):
        yield server


@contextlib.contextmanager
def no_retry_waits() -> Iterator[list[float]]:
    """Make huggingface_hub's HTTP retries immediate; yields the waits it asked for.

    With the port closed, huggingface_hub 0.36 tries each request 6 times, sleeping
    1+2+4+8+8 s in between, before it falls back to the cache.
    """
    from types import SimpleNamespace

    from huggingface_hub.utils import _http

    waits: list[float] = []
    saved = _http.time
    _http.time = SimpleNamespace(sleep=waits.append)
    try:
        yield waits
    finally:
        _http.time = saved


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler, *, hub: FakeHub):
        self.hub = hub
        super().__init__(address, handler)

    def handle_error(self, request, client_address) -> None:
        pass  # clients that vanish mid-download are part of the tests; stay quiet


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    _record: RequestRecord | None = None

    def setup(self) -> None:
        super().setup()
        with self.server.hub._lock:
            self.server.hub._connections.add(self.connection)

    def finish(self) -> None:
        with self.server.hub._lock:
            self.server.hub._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format, *args) -> None:
        pass

    def send_response(self, code: int, message: str | None = None) -> None:
        if self._record is not None:
            self._record.status = code
        super().send_response(code, message)

    def do_GET(self) -> None:
        self._dispatch(send_body=True)

    def do_HEAD(self) -> None:
        self._dispatch(send_body=False)

    # --- routing ---------------------------------------------------------------------------

    @property
    def hub(self) -> FakeHub:
        return self.server.hub

    def _dispatch(self, *, send_body: bool) -> None:
        url = urlsplit(self.path)
        auth = self.headers.get("Authorization")
        self._record = RequestRecord(self.command, url.path, url.query, self.headers.get("Range"), auth is not None)
        with self.hub._lock:
            self.hub._requests.append(self._record)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        try:
            if url.path.startswith(CDN_PREFIX):
                self._serve_cdn(url.path[len(CDN_PREFIX) :], query, send_body)
                return
            token = self._token(auth)
            segments = url.path.strip("/").split("/")
            if url.path == "/api/whoami-v2":
                self._whoami(token, send_body)
            elif segments[:2] == ["api", "models"] and len(segments) > 2:
                self._api_models(segments[2:], query, token, send_body)
            elif "resolve" in segments[1:3]:
                self._resolve(segments, token, send_body)
            else:
                raise HubError(404, "Not Found")
        except HubError as error:
            self._send_error(error, send_body)
        except OSError:  # the client went away, or stop() cut the connection
            self.close_connection = True

    def _token(self, auth: str | None) -> Token | None:
        if auth is None:
            return None
        scheme, _, value = auth.partition(" ")
        with self.hub._lock:
            token = self.hub._tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            # The Hub rejects a bad token on every route, public repos included.
            raise HubError(401, INVALID_TOKEN_MESSAGE)
        return token

    def _repo(self, segments: list[str]) -> tuple[Repo | None, list[str]]:
        """The known repo whose id the path starts with, and the segments after it."""
        with self.hub._lock:
            for width in (2, 1):
                repo = self.hub._repos.get("/".join(segments[:width]))
                if repo is not None:
                    return repo, segments[width:]
        return None, segments[2:]

    def _check_access(self, repo: Repo | None, token: Token | None, *, content: bool) -> Repo:
        visible = repo is not None and (
            not repo.private
            or (token is not None and (repo.repo_id in token.private_access or repo.repo_id.split("/")[0] == token.user))
        )
        if not visible:
            # Anonymous callers get 401, signed-in ones 404: the Hub doesn't say whether a private repo exists.
            raise HubError(404 if token else 401, "Repository not found", "RepoNotFound")
        assert repo is not None
        if content and repo.gated and (token is None or repo.repo_id not in token.gated_access):
            if token is None:
                raise HubError(
                    401,
                    f"Access to model {repo.repo_id} is restricted. You must have access to it and be"
                    " authenticated to access it. Please log in.",
                    "GatedRepo",
                )
            raise HubError(
                403,
                f"Access to model {repo.repo_id} is restricted and you are not in the authorized list."
                f" Visit {self.hub.endpoint}/{repo.repo_id} to ask for access.",
                "GatedRepo",
            )
        return repo

    @staticmethod
    def _commit(repo: Repo, revision: str) -> Commit:
        commit = repo.resolve(revision)
        if commit is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return commit

    # --- routes ----------------------------------------------------------------------------

    def _whoami(self, token: Token | None, send_body: bool) -> None:
        if token is None:
            raise HubError(401, INVALID_TOKEN_MESSAGE)
        self._send_json(
            {
                "type": "user",
                "id": hashlib.sha1(token.user.encode()).hexdigest()[:24],
                "name": token.user,
                "fullname": token.user.title(),
                "email": None,
                "emailVerified": False,
                "isPro": False,
                "orgs": [],
                "auth": {"type": "access_token", "accessToken": {"displayName": "tests", "role": token.role}},
            },
            send_body,
        )

    def _api_models(self, segments: list[str], query: dict, token: Token | None, send_body: bool) -> None:
        repo, rest = self._repo(segments)
        repo = self._check_access(repo, token, content=False)
        rest = [unquote(part) for part in rest]
        if not rest:
            self._send_json(self._model_info(repo, self._commit(repo, "main"), query), send_body)
        elif rest[0] == "revision" and len(rest) >= 2:
            commit = self._commit(repo, "/".join(rest[1:]))
            self._send_json(self._model_info(repo, commit, query), send_body)
        elif rest[0] == "tree" and len(rest) >= 2:
            commit = self._commit(repo, rest[1])
            recursive = query.get("recursive", "").lower() in ("1", "true")
            self._send_json(self._tree(commit, "/".join(rest[2:]).strip("/"), recursive), send_body)
        else:
            raise HubError(404, "Not Found")

    def _model_info(self, repo: Repo, commit: Commit, query: dict) -> dict:
        with_blobs = query.get("blobs", "").lower() in ("1", "true")

        def sibling(f: HubFile) -> dict:
            entry: dict = {"rfilename": f.path}
            if with_blobs:
                entry.update(size=f.size, blobId=f.blob_id)
                if f.is_lfs:
                    entry["lfs"] = f.lfs_info("sha256")
            return entry

        namespace, _, _ = repo.repo_id.rpartition("/")
        return {
            "_id": hashlib.sha1(repo.repo_id.encode()).hexdigest()[:24],
            "id": repo.repo_id,
            "modelId": repo.repo_id,
            "author": namespace or None,
            "sha": commit.sha,
            "lastModified": _iso(commit.created),
            "createdAt": _iso(repo.created),
            "private": repo.private,
            "disabled": False,
            "gated": repo.gated,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "siblings": [sibling(f) for f in commit.files.values()],
            "usedStorage": sum(f.size for f in commit.files.values()),
        }

    def _tree(self, commit: Commit, folder: str, recursive: bool) -> list[dict]:
        prefix = f"{folder}/" if folder else ""
        folders: set[str] = set()
        files = []
        for f in commit.files.values():
            if not f.path.startswith(prefix):
                continue
            parts = f.path[len(prefix) :].split("/")
            for depth in range(1, len(parts) if recursive else min(2, len(parts))):
                folders.add(prefix + "/".join(parts[:depth]))
            if recursive or len(parts) == 1:
                files.append(f)
        if folder and not files and not folders:
            raise HubError(404, f"{folder} does not exist on {commit.sha}", "EntryNotFound", commit.sha)
        entries = [
            {"type": "directory", "oid": git_blob_sha1(f"tree {path}".encode()), "size": 0, "path": path}
            for path in sorted(folders)
        ]
        for f in files:
            entry = {"type": "file", "oid": f.blob_id, "size": f.size, "path": f.path}
            if f.is_lfs:
                entry["lfs"] = f.lfs_info("oid")
            entries.append(entry)
        return entries

    def _resolve(self, segments: list[str], token: Token | None, send_body: bool) -> None:
        repo, rest = self._repo(segments)
        repo = self._check_access(repo, token, content=True)
        if rest[:1] != ["resolve"] or len(rest) < 3:
            raise HubError(404, "Not Found")
        commit = self._commit(repo, unquote(rest[1]))
        hub_file = commit.files.get(unquote("/".join(rest[2:])))
        if hub_file is None:
            raise HubError(404, "Entry not found", "EntryNotFound", commit.sha)
        headers = {"X-Repo-Commit": commit.sha, "ETag": f'"{hub_file.blob_id}"'}
        if not hub_file.is_lfs:
            self._send_file(hub_file, (repo.repo_id, hub_file.path), headers, send_body)
            return
        location = (
            f"http://{self.hub.cdn_host}:{self.hub.port}{CDN_PREFIX}{hub_file.sha256}?"
            + urlencode({"repo": repo.repo_id, "file": hub_file.path})
        )
        body = f"Found. Redirecting to {location}".encode()
        self.send_response(302)
        self._send_headers(
            {
                **headers,
                "X-Linked-Etag": f'"{hub_file.sha256}"',
                "X-Linked-Size": str(hub_file.size),
                "Location": location,
                "Content-Type": "text/plain; charset=utf-8",
                "Content-Length": str(len(body)),
            }
        )
        if send_body:
            self.wfile.write(body)

    def _serve_cdn(self, sha256: str, query: dict, send_body: bool) -> None:
        with self.hub._lock:
            data = self.hub._blobs.get(sha256)
        if data is None:
            raise HubError(404, "NoSuchKey")
        hub_file = HubFile(query.get("file", sha256), data, True, sha256, "")
        self._send_file(hub_file, (query.get("repo", ""), hub_file.path), {"ETag": f'"{sha256}"'}, send_body)

    # --- responses -------------------------------------------------------------------------

    def _send_headers(self, headers: dict[str, str]) -> None:
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _send_json(self, payload, send_body: bool) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self._send_headers({"Content-Type": "application/json; charset=utf-8", "Content-Length": str(len(body))})
        if send_body:
            self.wfile.write(body)

    def _send_error(self, error: HubError, send_body: bool) -> None:
        body = json.dumps({"error": error.message}).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "Content-Length": str(len(body))}
        headers["X-Error-Message"] = error.message
        if error.code:
            headers["X-Error-Code"] = error.code
        if error.commit:
            headers["X-Repo-Commit"] = error.commit
        self.send_response(error.status)
        self._send_headers(headers)
        if send_body:
            self.wfile.write(body)

    def _send_file(self, hub_file: HubFile, account_key: tuple[str, str], headers: dict[str, str], send_body: bool) -> None:
        size = hub_file.size
        headers = {
            **headers,
            "Accept-Ranges": "bytes",
            "Content-Type": "application/octet-stream",
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(hub_file.path.rsplit('/', 1)[-1])};",
        }
        try:
            span = parse_range(self.headers.get("Range"), size)
        except _Unsatisfiable:
            self.send_response(416)
            self._send_headers({**headers, "Content-Range": f"bytes */{size}", "Content-Length": "0"})
            return
        start, end = span or (0, size)
        if span is None:
            self.send_response(200)
        else:
            self.send_response(206)
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        self._send_headers({**headers, "Content-Length": str(end - start)})
        if send_body:
            self._stream(memoryview(hub_file.data)[start:end], account_key)

    def _stream(self, body: memoryview, account_key: tuple[str, str]) -> None:
        """Send in chunks, counting each, at no more than the hub's `bytes_per_second`."""
        hub = self.hub
        with hub._sent:
            hub._streams_open += 1
        try:
            for offset in range(0, len(body), hub.chunk_size):
                if hub._stopping.is_set():
                    self.close_connection = True
                    return
                chunk = body[offset : offset + hub.chunk_size]
                hub._count_sent(account_key, len(chunk))
                try:
                    self.wfile.write(chunk)
                    self.wfile.flush()
                except OSError:
                    hub._count_sent(account_key, -len(chunk))
                    raise
                rate = hub.bytes_per_second
                if rate:
                    hub._stopping.wait(len(chunk) / rate)
        finally:
            with hub._sent:
                hub._streams_open -= 1
                hub._sent.notify_all()
