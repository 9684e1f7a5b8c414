"""`videochat serve`: the routes (docs/engine-protocol.md), on Starlette.

Every answer is JSON, errors included (`{"error": {message, type, code, param}}`, never a
traceback); `/v1/*` needs the API key when the server has one (compared in constant time);
bodies over the limit are refused before they are read whole.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import stat
import threading
import time
import uuid
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from videochat.engines.errors import CODES, code_for
from videochat.engines.media import MAX_REQUEST_PIXELS
from videochat.engines.server_requests import RequestError, parse_chat_request
from videochat.engines.server_runner import Job, ModelRunner, provenance
from videochat.families import get_family
from videochat.safe_text import shown

log = logging.getLogger("videochat.serve")

MAX_BODY_BYTES = 256 * 1024 * 1024  # 512 frames as JPEG
BODY_TIMEOUT_S = 300.0  # a body trickled slower than that is refused (it would hold its place in `_reading`)
READ_AT_ONCE = 2  # chat requests whose bodies are read and whose frames are decoded at one time: the others wait unread
# The frames clients sent, decoded, that requests waiting for the model thread (or being answered) hold:
# four requests at the most a request may send (~2.2 GB of RGB). A request past it is 503 `server_busy`.
MAX_HELD_PIXELS = 4 * MAX_REQUEST_PIXELS
BUSY_RETRY_AFTER_S = 2
DISCONNECT_POLL_S = 0.1


def error_response(message: str, code: str, status: int | None = None, param: str | None = None, extra: dict | None = None,
                   headers: dict | None = None) -> JSONResponse:
    status = status or CODES.get(code, (500, None))[0]
    body = {"error": {"message": message, "type": _error_type(status), "code": code, "param": param, **(extra or {})}}
    return JSONResponse(body, status_code=status, headers=headers)


def error_body(error: BaseException) -> tuple[dict, int]:
    """The protocol's error object for an exception (the core's typed ones keep their message)."""
    if isinstance(error, RequestError):
        code, status, message, param = error.code, error.status, str(error), error.param
    else:
        code, status = code_for(error)
        message, param = (str(error) if code != "internal_error" else "The server failed while answering; its log says why."), None
    return {"error": {"message": shown(message), "type": _error_type(status), "code": code, "param": param}}, status


def _error_type(status: int) -> str:
    return "invalid_request_error" if status < 500 else "server_error"


class HeldFrames:
    """The pixels of the decoded frames that requests hold from their parse to their job's end."""

    def __init__(self, most: int):
        self.most = most
        self.held = 0
        self._lock = threading.Lock()  # taken on the event loop, given back on the model thread

    def take(self, pixels: int) -> bool:
        with self._lock:
            if self.held and self.held + pixels > self.most:
                return False
            self.held += pixels
            return True

    def give_back(self, pixels: int) -> None:
        with self._lock:
            self.held -= pixels


class ServerApp:
    def __init__(self, runner: ModelRunner, api_key: str | None, allowed_folders: list[Path], max_body_bytes: int = MAX_BODY_BYTES):
        self.runner = runner
        self.api_key = api_key
        self.allowed_folders = [Path(folder).resolve() for folder in allowed_folders]
        self.max_body_bytes = max_body_bytes
        self.served_name = runner.ref.display_name
        # Single files the key's holder granted (the window grants each video its user opens): a
        # frozenset replaced whole, so a request parsed on another thread sees one or the other.
        self.granted_files: frozenset[Path] = frozenset()
        self._reading = asyncio.Semaphore(READ_AT_ONCE)
        self._held_frames = HeldFrames(MAX_HELD_PIXELS)

    def starlette(self) -> Starlette:
        async def not_found(request: Request, error: HTTPException):
            return error_response(f"No {request.method} {shown(request.url.path)} here: see /v1/models, /v1/chat/completions, /health.", "invalid_request", error.status_code)

        async def failed(request: Request, error: Exception):
            log.error("a request failed", exc_info=error)
            return error_response("The server failed while answering; its log says why.", "internal_error", 500)

        return Starlette(
            routes=[
                Route("/health", self.health, methods=["GET"]),
                Route("/v1/models", self.models, methods=["GET"]),
                Route("/v1/chat/completions", self.chat, methods=["POST"]),
                Route("/v1/videochat/grants", self.grant, methods=["POST"]),
            ],
            exception_handlers={HTTPException: not_found, Exception: failed},
        )

    # -- routes ------------------------------------------------------------------------------------

    async def health(self, request: Request) -> Response:
        runner = self.runner
        body = {"status": "ok", "model": self.served_name if runner.backend is not None else None, "loading": runner.loading}
        if runner.load_error is not None:
            body["error"] = error_body(runner.load_error)[0]["error"]
        return JSONResponse(body)

    async def models(self, request: Request) -> Response:
        if (refused := self._refused(request)) is not None:
            return refused
        runner = self.runner
        ref = runner.ref
        family = get_family(ref.family)
        about = {
            "repo_id": ref.entry.repo_id if ref.entry is not None else (None if ref.local_folder is not None else ref.source),
            "revision": ref.revision,
            "family": ref.family,
            "label": ref.entry.label if ref.entry is not None and ref.entry.label else ref.display_name,
            "default_frames": ref.default_frames,
            "max_frames": family.max_frames,
            "frame_multiple": family.frame_multiple,
            # What a question may not hold, so that a client can refuse a batch before its first request.
            "question_marks": list(runner.backend.question_marks()) if runner.backend is not None else [],
        }
        return JSONResponse({"object": "list", "data": [{"id": self.served_name, "object": "model", "owned_by": "videochat", "videochat": about}]})

    async def grant(self, request: Request) -> Response:
        """`{"path": "/abs/clip.mp4"}`: let requests name this one file (resolved, a regular file) as file://.

        Only a server with a key takes grants: without one, any local user could make it read the
        files of the user it runs as.
        """
        if self.api_key is None:
            return error_response("This server takes no grants: it has no API key.", "media_path_not_allowed", 403)
        if (refused := self._refused(request)) is not None:
            return refused
        body = await self._body(request)
        if isinstance(body, Response):
            return body
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            data = None
        path = data.get("path") if isinstance(data, dict) else None
        if not isinstance(path, str) or not os.path.isabs(path) or "\x00" in path:
            return error_response("Send {\"path\": \"/absolute/path\"} of a video file.", "invalid_request", param="path")
        resolved = Path(os.path.realpath(path))
        try:
            regular = stat.S_ISREG(os.stat(resolved).st_mode)
        except OSError:
            return error_response("That file does not exist or cannot be read.", "unreadable_video")
        if not regular:
            return error_response("Only a regular file can be granted.", "media_path_not_allowed", param="path")
        self.granted_files = self.granted_files | {resolved}
        return JSONResponse({"granted": str(resolved)})

    async def chat(self, request: Request) -> Response:
        if (refused := self._refused(request)) is not None:
            return refused
        if (unready := self._unready()) is not None:
            return unready  # before the body is read: frames decoded for a model that cannot answer are wasted
        family = get_family(self.runner.ref.family)
        if (too_large := self._declared_too_large(request)) is not None:
            return too_large  # said at once, without waiting for a place to read in
        async with self._reading:  # each body up to 256 MiB, its frames up to ~550 MB decoded: not a hundred at once
            body = await self._body(request)
            if isinstance(body, Response):
                return body
            try:
                parsed = await asyncio.to_thread(parse_chat_request, body, self.allowed_folders, family.max_frames, self.granted_files)
            except RequestError as error:
                log.info("refused: %s", shown(str(error)))
                return JSONResponse(*error_body(error))
            del body
        if parsed.model and parsed.model not in self._names():
            return error_response(f"This server serves {shown(self.served_name)}, not {shown(parsed.model)}.", "model_not_found", param="model")
        pixels = parsed.video.pixels()
        if not self._held_frames.take(pixels):
            log.info("busy: the frames of the requests waiting already take %d pixels", self._held_frames.held)
            return error_response("This server already holds as many frames as it takes for the requests waiting for the model: "
                                  f"ask again in a moment (Retry-After: {BUSY_RETRY_AFTER_S} s).", "server_busy",
                                  headers={"Retry-After": str(BUSY_RETRY_AFTER_S)})
        runner = self.runner
        job = Job(parsed, asyncio.get_running_loop(), on_end=lambda: self._held_frames.give_back(pixels))
        log.info("asked: %s", shown(parsed.question[:200]))
        runner.submit(job)
        try:
            first = await self._next_event(job, request)
        except ClientDisconnect:
            runner.cancel(job)
            return Response(status_code=499)
        if first[0] == "error":
            return JSONResponse(*error_body(first[1]))
        completion = {"id": "chatcmpl-" + uuid.uuid4().hex, "created": int(time.time()), "model": self.served_name}
        if parsed.stream:
            return StreamingResponse(self._sse(job, first, completion), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        return await self._whole(job, first, completion, request)

    # -- helpers ---------------------------------------------------------------------------------

    def _unready(self) -> Response | None:
        runner = self.runner
        if runner.load_error is not None:
            return JSONResponse(*error_body(runner.load_error))
        if runner.backend is None:
            loading = runner.loading or {}
            return error_response(
                f"{self.served_name} is still loading ({loading.get('stage', '')}, {loading.get('fraction', 0):.0%}): ask again in a moment.",
                "model_loading",
                extra={"loading": loading},
            )
        return None

    def _names(self) -> set[str]:
        ref = self.runner.ref
        return {self.served_name, str(ref.source), *([ref.entry.repo_id] if ref.entry is not None else [])}

    def _refused(self, request: Request) -> Response | None:
        if self.api_key is None:
            return None
        given = request.headers.get("authorization", "")
        scheme, _, token = given.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode("utf-8", "surrogateescape"), self.api_key.encode("utf-8")):
            return None
        return error_response("This server needs its API key as 'Authorization: Bearer <key>'.", "invalid_api_key", 401)

    def _too_large(self) -> Response:
        return error_response(f"The request is larger than this server takes ({self.max_body_bytes // (1024 * 1024)} MiB).", "request_too_large", 413)

    def _declared_too_large(self, request: Request) -> Response | None:
        declared = request.headers.get("content-length", "")
        return self._too_large() if declared.isdigit() and int(declared) > self.max_body_bytes else None

    async def _body(self, request: Request) -> bytes | Response:
        if (too_large := self._declared_too_large(request)) is not None:
            return too_large
        chunks: list[bytes] = []

        async def read() -> Response | None:
            size = 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > self.max_body_bytes:
                    return self._too_large()
                chunks.append(chunk)
            return None

        try:
            refused = await asyncio.wait_for(read(), BODY_TIMEOUT_S)
        except ClientDisconnect:
            return Response(status_code=499)
        except asyncio.TimeoutError:
            return error_response(f"The request's body took more than {BODY_TIMEOUT_S:.0f} s to arrive.", "invalid_request", 408)
        return refused or b"".join(chunks)

    async def _next_event(self, job: Job, request: Request):
        """The job's next event; `ClientDisconnect` once the client has gone away meanwhile."""
        while True:
            try:
                return await asyncio.wait_for(job.events.get(), DISCONNECT_POLL_S)
            except asyncio.TimeoutError:
                if await request.is_disconnected():
                    raise ClientDisconnect() from None

    async def _whole(self, job: Job, event, completion: dict, request: Request) -> Response:
        pieces = []
        try:
            while event[0] in ("piece", "frames"):
                if event[0] == "piece":
                    pieces.append(event[1])
                event = await self._next_event(job, request)
        except ClientDisconnect:
            self.runner.cancel(job)
            return Response(status_code=499)
        if event[0] == "error":
            return JSONResponse(*error_body(event[1]))
        done = event[1]
        body = {
            **completion,
            "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(pieces)}, "finish_reason": "stop"}],
            **self._ending(done),
        }
        return JSONResponse(body)

    async def _sse(self, job: Job, event, completion: dict):
        finished = False
        try:
            delta = {"role": "assistant"}
            while event[0] in ("piece", "frames"):
                if event[0] == "frames":  # before the first piece: a stream cut short still says which frames were seen
                    yield _sse_data({**completion, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": None}], **event[1]})
                else:
                    yield _sse_data({**completion, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {**delta, "content": event[1]}, "finish_reason": None}]})
                delta = {}
                event = await job.events.get()
            if event[0] == "error":
                yield _sse_data(error_body(event[1])[0])
            else:
                last = {"index": 0, "delta": {}, "finish_reason": "stop"}
                yield _sse_data({**completion, "object": "chat.completion.chunk", "choices": [last], **self._ending(event[1])})
            yield "data: [DONE]\n\n"
            finished = True
        finally:
            if not finished:  # the client went away (Starlette cancels this generator)
                self.runner.cancel(job)

    def _ending(self, done: dict) -> dict:
        tokens = done["completion_tokens"]
        return {"usage": {"prompt_tokens": 0, "completion_tokens": tokens, "total_tokens": tokens}, **provenance(done)}


def _sse_data(payload: dict) -> str:
    return "data: " + json.dumps(payload, ensure_ascii=False, allow_nan=False) + "\n\n"

