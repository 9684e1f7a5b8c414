"""A local stand-in for the Hugging Face Hub's file protocol, for tests (stdlib only).

`FakeHub` serves what huggingface_hub 0.36 asks for when it lists and downloads a model
repo: `/api/models/...` (info and tree), `/{repo}/resolve/{revision}/{path}` (HEAD and GET,
LFS files redirected to a "CDN" path on the same server), and `/api/whoami-v2`. It counts
the body bytes it sends, can be throttled, and can go offline (port closed).

Its repos, commits and tokens are in `tests/support/hub_repos.py`; its HTTP handler in `tests/support/hub_http.py`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import threading
import uuid
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from tests.support.hub_http import HubRequestHandler, HubHTTPServer
from tests.support.hub_repos import DEFAULT_LFS_THRESHOLD, LFS_SUFFIXES, Commit, HubFile, Repo, RequestRecord, Token, read_files, utc_now


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
        self._server: HubHTTPServer | None = None
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
        self._server = HubHTTPServer(("127.0.0.1", self.port or 0), HubRequestHandler, hub=self)
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
        raw_paths: bool = False,
    ) -> str:
        """Create a model repo whose main branch holds `files` (a dict or a folder); returns the commit sha.

        Files larger than `lfs_threshold` bytes, or with a suffix in LFS_SUFFIXES, are LFS files.
        `gated=True` means "manual" approval; access is granted per token (`add_token`).
        A hostile repo: `raw_paths` lists and serves names as given (`/home/u/.bashrc`, `../x`),
        and `commit` may be any string (the hub then names that as the commit's sha).
        """
        with self._lock:
            if repo_id in self._repos:
                raise ValueError(f"repo {repo_id} exists already; use update_repo")
            self._repos[repo_id] = Repo(repo_id, "manual" if gated is True else gated, private, utc_now())
        return self._commit(repo_id, read_files(files, raw_paths=raw_paths), commit, lfs_threshold)

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
        new_files = read_files(files) if isinstance(files, (str, Path)) else dict(files)
        if keep_others:
            with self._lock:
                head = self._repos[repo_id].head
            merged: dict = {path: f.data for path, f in head.files.items()}
            merged.update(new_files)
            new_files = merged
        present = {path: data for path, data in new_files.items() if data is not None}
        return self._commit(repo_id, read_files(present), commit, lfs_threshold)

    def _commit(self, repo_id: str, files: dict[str, bytes], sha: str | None, lfs_threshold: int) -> str:
        sha = sha or hashlib.sha1(uuid.uuid4().bytes).hexdigest()
        entries = {
            path: HubFile.make(path, data, len(data) > lfs_threshold or path.endswith(LFS_SUFFIXES))
            for path, data in sorted(files.items())
        }
        with self._lock:
            repo = self._repos[repo_id]
            repo.commits[sha] = Commit(sha, entries, utc_now())
            repo.refs["main"] = sha
            self._blobs.update({f.sha256: f.data for f in entries.values() if f.is_lfs})
        return sha

    def misreport(self, repo_id: str, path: str, **listed) -> None:
        """Make the head commit's listing show other fields for `path` than the true ones (a hostile
        or broken hub): `blobId="../x"`, `lfs={"sha256": ...}` (fields of the LFS details, the rest kept;
        a value that is not an object replaces them); the bytes served stay."""
        with self._lock:
            self._repos[repo_id].head.listed.setdefault(path, {}).update(listed)

    def set_ref(self, repo_id: str, name: str, sha: str) -> None:
        """Let the branch or tag `name` (any string: a hostile hub) name the commit `sha`."""
        with self._lock:
            self._repos[repo_id].refs[name] = sha

    def forget_commit(self, repo_id: str, sha: str) -> None:
        """Drop a commit that is not main's head, as a force-push that rewrites history does."""
        with self._lock:
            repo = self._repos[repo_id]
            if repo.refs.get("main") == sha:
                raise ValueError("main's head cannot be forgotten")
            del repo.commits[sha]

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
