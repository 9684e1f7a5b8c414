"""The fake Hub's HTTP side: the request handler that answers huggingface_hub as the Hub would
(`/api/models/...`, `resolve`, the "CDN" redirect, `whoami-v2`), counting and throttling what it sends.
The hub it serves is `tests.support.hub_server.FakeHub`."""

from __future__ import annotations

import contextlib
import hashlib
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from tests.support.hub_repos import CDN_PREFIX, INVALID_TOKEN_MESSAGE, Commit, HubError, HubFile, Repo, RequestRecord, Token, Unsatisfiable, git_blob_sha1, iso_time, parse_range

if TYPE_CHECKING:
    from tests.support.hub_server import FakeHub


class HubHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler, *, hub: FakeHub):
        self.hub = hub
        super().__init__(address, handler)

    def handle_error(self, request, client_address) -> None:
        pass  # clients that vanish mid-download are part of the tests; stay quiet


class HubRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HubHTTPServer
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
            listed = dict(commit.listed.get(f.path, {}))
            if isinstance(listed.get("lfs"), dict) and "lfs" in entry:
                # A misreport changes fields of the LFS details; pointerSize, which every hub
                # answer holds and huggingface_hub requires, stays.
                entry["lfs"] = {**entry["lfs"], **listed.pop("lfs")}
            entry.update(listed)
            return entry

        namespace, _, _ = repo.repo_id.rpartition("/")
        return {
            "_id": hashlib.sha1(repo.repo_id.encode()).hexdigest()[:24],
            "id": repo.repo_id,
            "modelId": repo.repo_id,
            "author": namespace or None,
            "sha": commit.sha,
            "lastModified": iso_time(commit.created),
            "createdAt": iso_time(repo.created),
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
        except Unsatisfiable:
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
