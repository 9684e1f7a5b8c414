"""An OpenAI-compatible chat client for `videochat serve` and other engines (vLLM, SGLang, LMDeploy ...).

Built on the standard library's http.client: the window's process drives engines through it, so it
must import in milliseconds and pull in nothing heavy. One connection per request, so that several
can be in flight from several threads (`videochat batch --concurrency`); `in_flight.py` shuts each
at its deadline, and all at a `stop()` (a reader blocked in `recv` wakes within milliseconds).

Everything an engine sends is hostile until checked: sizes are capped (per line, per event, per
answer, per error body), lines that are not SSE or not JSON are refused as typed errors, an error
answer is mapped back to the core's exception through `engines/errors.py`, and its text is passed
through `safe_text` (secrets blanked, control characters escaped) before anyone shows it.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import math
import socket
import threading
import time
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import urlsplit

from videochat import safe_text
from videochat.app_files import BadAppFile, parse_json
from videochat.engines.errors import EngineError, error_from
from videochat.engines import sse
from videochat.engines.busy import Busy, is_busy, retry_after
from videochat.engines.in_flight import InFlight
from videochat.errors import Cancelled

MAX_ANSWER_CHARS = 4 * 1024 * 1024  # the answer's text
MAX_BODY_BYTES = 32 * 1024 * 1024  # a whole (non-streamed) answer
MAX_MODEL_LIST_BYTES = 1024 * 1024  # thousands of models; 32 MiB of empty entries took 0.8 GB to read
MAX_ERROR_BYTES = 64 * 1024  # an error answer: only its message is wanted
MAX_MESSAGE_CHARS = 1000  # a server's error message as shown
MAX_MODEL_ID_CHARS = 512  # a served model's id (a repo id, or the path vLLM was given)
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 300.0  # silence between two pieces (a large model's first token on a busy server)
ANSWER_TIMEOUT_S = 1800.0  # one whole answer
STOPPED = "Stopped before the engine answered."


class EngineUnreachable(EngineError):
    """No connection to the engine (not running, wrong address, network down)."""


def _shown(text: object) -> str:
    """A server's text, as the user may see it: capped, secrets blanked, control characters escaped."""
    return safe_text.shown(str(text)[:MAX_MESSAGE_CHARS], keep="")


def _sendable(host: str, path: str) -> bool:
    """What http.client can put on the wire: a host name IDNA encodes (not "a..b"), an ASCII path."""
    try:
        host.encode("idna"), path.encode("ascii")
    except UnicodeError:
        return False
    return True


@dataclass(frozen=True)
class ServedModel:
    id: str
    owned_by: str = ""
    videochat: dict | None = None  # our server's extension: repo_id, revision, family, frame limits


@dataclass
class StreamEnd:
    """What came with the answer beyond its text: the last chunk's extensions, and how it ended."""

    finish_reason: str | None = None
    video_frames: dict | None = None
    videochat: dict | None = None
    model: str | None = None
    stopped: bool = False  # `stop()` closed the stream before the engine finished

    def model_times(self, count: int) -> list[float] | None:
        """`video_frames.model_times`: the time our server's model was told for each of the `count` frames it saw,
        sent only where they differ from the true ones; None without them, and None for anything but `count`
        finite numbers from 0 (provenance: a wrong list is dropped, as in a session file, and the answer kept)."""
        told = (self.video_frames or {}).get("model_times")
        times = isinstance(told, list) and len(told) == count and all(
            isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t) and t >= 0 for t in told)
        return [round(float(t), 6) for t in told] if times else None


class EngineClient:
    def __init__(self, url: str, api_key: str | None = None, *, connect_timeout: float = CONNECT_TIMEOUT_S,
                 read_timeout: float = READ_TIMEOUT_S, answer_timeout: float = ANSWER_TIMEOUT_S):
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise EngineError(f"{_shown(url)} has a port that is not a number, or a bracket without its pair.", "invalid_request", 400) from None
        if parts.scheme not in ("http", "https") or not parts.hostname or not _sendable(parts.hostname, parts.path):
            raise EngineError(f"{_shown(url)} is not an engine address: give one like http://127.0.0.1:8000 (http or https).", "invalid_request", 400)
        self.scheme, self.host = parts.scheme, parts.hostname
        self.port = port or (443 if parts.scheme == "https" else 80)
        path = parts.path.rstrip("/")
        self.base_path = path[: -len("/v1")] if path.endswith("/v1") else path  # http://host/v1 and http://host both work
        self.api_key = api_key
        if parts.password:
            safe_text.register_secret(parts.password)
        self.connect_timeout, self.read_timeout, self.answer_timeout = connect_timeout, read_timeout, answer_timeout
        self._in_flight = InFlight()  # each request ends `answer_timeout` after it began, whatever the server sends
        self._stopped = threading.Event()

    @property
    def api_key(self) -> str | None:
        return self._api_key

    @api_key.setter
    def api_key(self, key: str | None) -> None:
        """Checked at every change (a stored key read later, one given on the command line): a key goes
        into a header, where a control character would make http.client raise with the key in its message."""
        key = (key or "").strip() or None
        safe_text.register_secret(key)
        if key and not all("!" <= c <= "~" for c in key):  # a header: no line of its own, nothing http.client echoes
            raise EngineError(f"The API key for {self.display_url} has spaces, control characters or letters beyond ASCII in it, which no server's "
                              "key has: give it again as the server printed it.", "invalid_api_key", 400)
        self._api_key = key

    @property
    def display_url(self) -> str:
        """The address as recorded and shown: no user, password, query or fragment."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return f"{self.scheme}://{host}{'' if self.port == default else f':{self.port}'}{self.base_path}"

    @property
    def is_local(self) -> bool:
        """Whether the engine runs on this machine (loopback): only then may it be handed file:// paths."""
        try:
            return self.host == "localhost" or ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    # --- requests ---------------------------------------------------------------------------

    def models(self) -> list[ServedModel]:
        """GET /v1/models: what the engine serves."""
        body = self._json(*self._request("GET", "/v1/models"), limit=MAX_MODEL_LIST_BYTES)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise EngineError(f"{self.display_url} did not answer /v1/models with a model list: is it an OpenAI-compatible server?")
        models = []
        for item in data:
            model_id = item.get("id") if isinstance(item, dict) else None
            # Shown as sent back (model list, sessions): control characters, a bidi override reversing "@ host", megabytes: not listed.
            if isinstance(model_id, str) and 0 < len(model_id) <= MAX_MODEL_ID_CHARS and model_id.isprintable():
                extension, owner = item.get("videochat"), item.get("owned_by")
                models.append(ServedModel(model_id, owner if isinstance(owner, str) else "", extension if isinstance(extension, dict) else None))
        return models

    def version(self) -> str | None:
        """GET /version (vLLM's): the engine's version, or None when it does not say."""
        body = self._json(*self._request("GET", "/version"))
        version = body.get("version") if isinstance(body, dict) else None
        return version if isinstance(version, str) and len(version) < 64 else None

    def complete(self, body: dict) -> tuple[str, StreamEnd]:
        """A whole answer (`"stream": false`): its text and what came with it."""
        answer = self._json(*self._request("POST", "/v1/chat/completions", {**body, "stream": False}))
        if not isinstance(answer, dict):
            raise self._malformed("an answer that is not a JSON object")
        if "error" in answer:
            raise self._error_from_body(answer, 500)
        choices = answer.get("choices")
        message = choices[0].get("message") if isinstance(choices, list) and choices and isinstance(choices[0], dict) else None
        text = message.get("content") if isinstance(message, dict) else None
        if not isinstance(text, str):
            raise self._malformed("an answer without choices[0].message.content")
        if len(text) > MAX_ANSWER_CHARS:
            raise self._malformed(f"an answer longer than {MAX_ANSWER_CHARS} characters")
        return text, self._end_from(answer, choices[0])

    def stream(self, body: dict, end: StreamEnd | None = None) -> Iterator[str]:
        """The answer in pieces as the engine streams it (SSE); `end` is filled in when it ends.

        A `stop()` ends the pieces at once with `end.stopped` set; an engine that closes the
        connection before `[DONE]` is an `EngineError`, as is anything that is not a well-formed chunk.
        """
        end = end if end is not None else StreamEnd()
        connection, response = self._request("POST", "/v1/chat/completions", {**body, "stream": True}, expect_stream=True)
        chars = 0
        try:
            for data in sse.events(response, self._malformed):
                if data == "[DONE]":
                    return
                chunk = self._parse(data, "a stream chunk")
                if "error" in chunk:
                    raise self._error_from_body(chunk, 500)
                piece = self._chunk_piece(chunk, end)
                if piece:
                    chars += len(piece)
                    if chars > MAX_ANSWER_CHARS:
                        raise self._malformed(f"an answer longer than {MAX_ANSWER_CHARS} characters")
                    yield piece
            if self._in_flight.expired(connection):
                raise self._too_slow()
            if self._stopped.is_set():
                end.stopped = True
                return
            raise EngineError(f"{self.display_url} closed the connection before the answer was complete: the engine may have stopped or crashed.")
        except (OSError, http.client.HTTPException) as error:
            if self._in_flight.expired(connection):
                raise self._too_slow() from None
            if self._stopped.is_set():
                end.stopped = True
                return
            raise self._connection_error(error) from None
        finally:
            self._in_flight.close(connection)

    def stop(self) -> None:
        """From any thread: close every request in flight now; their streams end marked stopped."""
        self._stopped.set()
        self._in_flight.shut_all()

    def reset_stop(self) -> None:
        """Before the next question: a stop applies to what was in flight when it came."""
        self._stopped.clear()

    # --- internals ----------------------------------------------------------------------------

    def _headers(self, has_body: bool) -> dict:
        headers = {"Accept": "application/json, text/event-stream", "User-Agent": "videochat"}
        if has_body:
            headers["Content-Type"] = "application/json"
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _request(self, method: str, path: str, body: dict | None = None, expect_stream: bool = False):
        """The connection and response of a request that succeeded. A question the engine is too busy
        for (429, or our server's 503 `server_busy`) is asked again when it says, until the answer's deadline."""
        payload = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        give_up_at = time.monotonic() + self.answer_timeout
        while True:
            try:
                return self._attempt(method, path, payload, expect_stream, give_up_at - time.monotonic())
            except Busy as busy:
                wait = busy.retry_after
                if payload is None or time.monotonic() + wait > give_up_at:
                    raise busy.error from None
                if self._stopped.wait(wait):
                    raise Cancelled(STOPPED) from None

    def _attempt(self, method: str, path: str, payload: bytes | None, expect_stream: bool, limit_s: float):
        if self._stopped.is_set() and expect_stream:
            raise Cancelled(STOPPED)
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        connection = cls(self.host, self.port, timeout=self.connect_timeout)
        self._in_flight.add(connection, limit_s)
        try:
            connection.connect()
            connection.sock.settimeout(self.read_timeout)
            if self._in_flight.connected(connection) or self._stopped.is_set() and expect_stream:  # the deadline or a stop came meanwhile
                raise OSError("stopped")
            connection.request(method, self.base_path + path, body=payload, headers=self._headers(payload is not None))
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as error:
            if self._in_flight.close(connection):
                raise self._too_slow() from None
            if self._stopped.is_set():
                raise Cancelled(STOPPED) from None
            raise self._connection_error(error) from None
        except BaseException:  # any other failure (addresses http.client cannot send are refused when given): raised as it is, its deadline dropped
            self._in_flight.close(connection)
            raise
        if response.status != 200:
            try:
                data = self._body(response, MAX_ERROR_BYTES)[:MAX_ERROR_BYTES]
            except (OSError, http.client.HTTPException, EngineError):
                data = b""
            self._in_flight.close(connection)
            error = self._error_from_status(response.status, data)
            if is_busy(response.status, getattr(error, "code", None)):
                raise Busy(error, retry_after(response.getheader("Retry-After")))
            raise error
        content_type = (response.getheader("Content-Type") or "").lower()
        if expect_stream and "text/event-stream" not in content_type:
            self._in_flight.close(connection)
            raise self._malformed(f"a stream of type {content_type or 'unknown'}, not text/event-stream")
        return connection, response

    @staticmethod
    def _body(response, limit: int) -> bytes:
        """At most `limit` + 1 bytes of a body (a body trickled past the request's deadline is cut by it)."""
        chunks, size = [], 0
        while size <= limit and (chunk := response.read1(min(1024 * 1024, limit + 1 - size))):
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)

    def _json(self, connection, response, limit: int = MAX_BODY_BYTES) -> object:
        try:
            data = self._body(response, limit)
        except (OSError, http.client.HTTPException) as error:
            if self._in_flight.close(connection):
                raise self._too_slow() from None
            raise self._connection_error(error) from None
        if self._in_flight.close(connection):  # the deadline cut the body short
            raise self._too_slow()
        if len(data) > limit:
            raise self._malformed(f"an answer larger than {limit // (1024 * 1024)} MiB")
        return self._parse(data, "an answer")

    def _parse(self, data: bytes | str, what: str) -> dict:
        try:
            value = parse_json(data, source=self.display_url)
        except BadAppFile:
            raise self._malformed(f"{what} that is not JSON") from None
        if not isinstance(value, dict):
            raise self._malformed(f"{what} that is not a JSON object")
        return value

    def _chunk_piece(self, chunk: dict, end: StreamEnd) -> str:
        choices = chunk.get("choices", [])
        if not isinstance(choices, list):
            raise self._malformed("a chunk whose choices are not a list")
        if isinstance(chunk.get("model"), str):
            end.model = chunk["model"]
        for key in ("video_frames", "videochat"):
            if isinstance(chunk.get(key), dict):
                setattr(end, key, chunk[key])
        if not choices:
            return ""  # a usage-only chunk (vLLM's stream_options)
        choice = choices[0]
        if not isinstance(choice, dict):
            raise self._malformed("a chunk whose choice is not an object")
        if isinstance(choice.get("finish_reason"), str):
            end.finish_reason = choice["finish_reason"]
        delta = choice.get("delta", {})
        if not isinstance(delta, dict):
            raise self._malformed("a chunk whose delta is not an object")
        content = delta.get("content")
        if content is not None and not isinstance(content, str):
            raise self._malformed("a chunk whose content is not text")
        return content or ""

    def _end_from(self, answer: dict, choice: dict) -> StreamEnd:
        end = StreamEnd(model=answer["model"] if isinstance(answer.get("model"), str) else None)
        if isinstance(choice.get("finish_reason"), str):
            end.finish_reason = choice["finish_reason"]
        for key in ("video_frames", "videochat"):
            if isinstance(answer.get(key), dict):
                setattr(end, key, answer[key])
        return end

    def _error_from_status(self, status: int, data: bytes) -> Exception:
        try:
            body = parse_json(data) if data else None
        except BadAppFile:
            body = None
        if isinstance(body, dict):
            return self._error_from_body(body, status)
        if status == 401:
            return self._key_refused(status)
        return EngineError(f"{self.display_url} answered with HTTP status {status}.", "internal_error", status)

    def _error_from_body(self, body: dict, status: int) -> Exception:
        """OpenAI's `{"error": {...}}`, or vLLM's older flat `{"object": "error", "message": ...}`."""
        error = body.get("error") if isinstance(body.get("error"), dict) else body
        code, message = error.get("code"), error.get("message")
        if isinstance(code, int) and not isinstance(code, bool):  # vLLM puts the HTTP status there
            status, code = code, None
        if code == "invalid_api_key" or status == 401:
            return self._key_refused(status)
        return error_from(code, _shown(message) if isinstance(message, str) else None, status)

    def _key_refused(self, status: int) -> EngineError:
        given = "refused the API key given" if self.api_key else "needs an API key"
        return EngineError(f"{self.display_url} {given}: give its key with --api-key or OPENAI_API_KEY (or store it).", "invalid_api_key", status)

    def _malformed(self, what: str) -> EngineError:
        return EngineError(f"{self.display_url} sent {what}: it is not an OpenAI-compatible answer.", "internal_error", 502)

    def _connection_error(self, error: BaseException) -> EngineError:
        if isinstance(error, (socket.timeout, TimeoutError)):
            return EngineError(f"{self.display_url} did not answer for {self.read_timeout:.0f} s: it may be overloaded or stuck.", "internal_error", 504)
        reason = getattr(error, "strerror", None) or error.__class__.__name__
        return EngineUnreachable(f"Cannot reach the engine at {self.display_url} ({_shown(reason)}): is it running, and is the address right?", "internal_error", 503)

    def _too_slow(self) -> EngineError:
        return EngineError(f"{self.display_url} took more than {self.answer_timeout:.0f} s for one answer.", "internal_error", 504)
