"""A loopback stand-in for an OpenAI-compatible engine, strict where vLLM is strict.

It checks what it receives as vLLM's server would: the Authorization header (401 `{"error":
"Unauthorized"}`), the JSON shape of a chat request, content parts of the known types only
(anything else is refused as vLLM refuses it, with its error shape), a video only as
`data:video/jpeg;base64,...` whose every frame decodes as JPEG (cut to its `num_frames`, 32 unless
configured with -1, or unless the request's own `media_io_kwargs` raise it on a version that heeds
them), images only as JPEG/PNG data URLs, no `file://` (vLLM needs --allowed-local-media-path).
Every frame it keeps is decoded and its index read back from its pixels (tests/support/clips.py),
so a test knows exactly which frames reached the model. It streams SSE, can take a fixed time per
answer, break off mid-stream, or send a hostile body verbatim. `form="videochat"` plays our own
server: `/v1/models` carries the `videochat` object, `file://` is refused with
`media_path_not_allowed`, and the request's `video_frames` are echoed in the last chunk.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

from tests.support.clips import read_frame_code
from videochat.engines.media import BadMedia, decode_image_data_url, decode_video_data_url

MAX_BODY = 64 * 1024 * 1024


class Refused(Exception):
    def __init__(self, status: int, message: str, code: object = None, kind: str = "BadRequestError", flat: object = None):
        super().__init__(message)
        self.status, self.message, self.code, self.kind, self.flat = status, message, code, kind, flat


@dataclass
class Received:
    """One chat request as the stand-in understood it."""

    model: str
    form: str  # "video" or "images"
    frames_sent: int
    frame_codes: list[int]  # the indices read back from the frames kept
    authorization: str | None
    body: dict


@dataclass
class EngineStandIn:
    models: tuple[str, ...] = ("OpenGVLab/InternVL2-8B",)
    owned_by: str = "vllm"
    form: str = "vllm"  # "vllm" (video_url and image_url), "images" (LMDeploy/SGLang: image_url only), "videochat" (ours)
    api_key: str | None = None
    num_frames: int = 32  # vLLM's VideoMediaIO default; -1 keeps every frame
    version: str = "0.22.1"
    seconds_per_answer: float = 0.0  # from the request's arrival to the first piece, checking included
    seconds_per_piece: float = 0.0  # between pieces (an answer slow to stream, to stop)
    break_after_pieces: int | None = None  # close the connection after this many pieces, without [DONE]
    raw_stream: bytes | None = None  # sent verbatim as the SSE body (hostile bodies)
    model_times: object = None  # form "videochat": sent as `video_frames.model_times` (any JSON, to be hostile)
    busy: list = field(default_factory=list)  # (status, Retry-After or None) answered to the next chat requests or model lists, one each
    busy_answered: list = field(default_factory=list)  # when each busy answer went out (time.monotonic())
    provenance: dict = field(default_factory=lambda: {"revision": "abc123", "device": "cpu", "precision": "float32"})  # form "videochat"
    received: list[Received] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0

    def __post_init__(self):
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> EngineStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what vLLM checks -------------------------------------------------------------------

    def check_chat(self, body: object, authorization: str | None) -> Received:
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
            raise Refused(400, "messages: Field required")
        model = body.get("model")
        if model not in self.models:
            raise Refused(404, f"The model `{model}` does not exist.", 404, "NotFoundError")
        for key in ("max_tokens",):
            if key in body and not (isinstance(body[key], int) and body[key] > 0):
                raise Refused(400, f"{key}: Input should be a valid integer")
        frames: list[np.ndarray] = []
        sent = 0
        form = "text"
        for message in body["messages"]:
            if not isinstance(message, dict) or message.get("role") not in ("system", "user", "assistant"):
                raise Refused(400, "messages: each message needs a role of system, user or assistant")
            content = message.get("content")
            if isinstance(content, str):
                continue
            if not isinstance(content, list):
                raise Refused(400, "content: Input should be a valid string or list")
            for part in content:
                kind = part.get("type") if isinstance(part, dict) else None
                if kind == "text" and isinstance(part.get("text"), str):
                    continue
                if kind == "image_url" and self.form in ("vllm", "images", "videochat"):
                    frames.append(self._image(part))
                    sent += 1
                    form = "images"
                elif kind == "video_url" and self.form in ("vllm", "videochat"):
                    video = self._video(part, body)
                    sent += video[1]
                    frames += video[0]
                    form = "video"
                else:
                    raise Refused(400, f"Unknown part type: {kind}")
        if self.form == "videochat" and form == "video" and not isinstance(body.get("video_frames"), dict):
            raise Refused(400, "pre-sampled frames need video_frames", "invalid_request")
        return Received(model, form, sent, [read_frame_code(frame) for frame in frames], authorization, body)

    def _image(self, part: dict) -> np.ndarray:
        url = (part.get("image_url") or {}).get("url") if isinstance(part.get("image_url"), dict) else None
        try:
            return decode_image_data_url(url if isinstance(url, str) else "")
        except BadMedia as error:
            raise Refused(400, f"Failed to load image: {error}") from None

    def _video(self, part: dict, body: dict) -> tuple[list[np.ndarray], int]:
        url = (part.get("video_url") or {}).get("url") if isinstance(part.get("video_url"), dict) else None
        if not isinstance(url, str):
            raise Refused(400, "video_url: Field required")
        if url.startswith("file://"):
            if self.form == "videochat":
                raise Refused(403, "Only files under an --allowed-media-path folder can be read.", "media_path_not_allowed", "PermissionError")
            raise Refused(400, "Cannot load local files without `--allowed-local-media-path`.")
        if url.startswith("data:") and not url.startswith("data:video/jpeg;base64,"):
            raise Refused(400, "Only data:video/jpeg;base64 is supported for base64 videos.")
        try:
            frames = decode_video_data_url(url, max_frames=100_000)
        except BadMedia as error:
            raise Refused(400, f"Failed to load video: {error}") from None
        keep = self.num_frames
        asked = ((body.get("media_io_kwargs") or {}).get("video") or {}).get("num_frames") if isinstance(body.get("media_io_kwargs"), dict) else None
        if self.heeds_request_media_io and isinstance(asked, int):
            keep = asked
        if self.form != "videochat" and keep != -1 and len(frames) > keep:
            picked = np.linspace(0, len(frames) - 1, keep).round().astype(int)  # vLLM samples the frames it keeps evenly
            return [frames[i] for i in picked], len(frames)
        return frames, len(frames)

    @property
    def heeds_request_media_io(self) -> bool:
        major, minor = (int(n) for n in self.version.split(".")[:2])
        return (major, minor) >= (0, 18)

    def answer_text(self, received: Received) -> str:
        return f"I saw {len(received.frame_codes)} frames: " + " ".join(str(code) for code in received.frame_codes) + "."

    def enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


def _handler(standin: EngineStandIn):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def _json(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _busy(self, status: int, retry_after: str | None) -> None:
            """As our server says it (503 `server_busy`), or as rate limits do (429)."""
            code = "server_busy" if status == 503 else "rate_limit_exceeded"
            data = json.dumps({"error": {"message": "Busy: ask again in a moment.", "type": "server_error", "param": None, "code": code}}).encode()
            standin.busy_answered.append(time.monotonic())
            self.send_response(status)
            if retry_after is not None:
                self.send_header("Retry-After", retry_after)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorized(self) -> bool:
            if standin.api_key is None or self.headers.get("Authorization") == f"Bearer {standin.api_key}":
                return True
            self._json(401, {"error": "Unauthorized"})  # vLLM's answer, word for word
            return False

        def do_GET(self) -> None:
            if self.path == "/health":
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if not self._authorized():
                return
            if standin.busy and self.path == "/v1/models":
                self._busy(*standin.busy.pop(0))
                return
            if self.path == "/version":
                self._json(200, {"version": standin.version})
            elif self.path == "/v1/models":
                data = []
                for model in standin.models:
                    entry = {"id": model, "object": "model", "owned_by": standin.owned_by}
                    if standin.form == "videochat":
                        entry["videochat"] = {"repo_id": model, "revision": "abc123", "family": "internvl2", "default_frames": 8, "max_frames": 64}
                    data.append(entry)
                self._json(200, {"object": "list", "data": data})
            else:
                self._json(404, {"error": {"message": "Not Found", "type": "NotFoundError", "param": None, "code": 404}})

        def do_POST(self) -> None:
            arrived = time.monotonic()
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._json(413, {"error": {"message": "Request too large", "type": "BadRequestError", "param": None, "code": 413}})
                return
            data = self.rfile.read(length)
            if not self._authorized():
                return
            if self.path != "/v1/chat/completions":
                self._json(404, {"error": {"message": "Not Found", "type": "NotFoundError", "param": None, "code": 404}})
                return
            if standin.busy:
                self._busy(*standin.busy.pop(0))
                return
            standin.enter()
            try:
                try:
                    body = json.loads(data)
                    received = standin.check_chat(body, self.headers.get("Authorization"))
                except json.JSONDecodeError:
                    raise Refused(400, "Invalid JSON") from None
                standin.received.append(received)
                time.sleep(max(0.0, standin.seconds_per_answer - (time.monotonic() - arrived)))
                if body.get("stream"):
                    self._stream(received)
                else:
                    self._json(200, self._whole(received))
            except Refused as refused:
                self._json(refused.status, {"error": {"message": refused.message, "type": refused.kind, "param": None, "code": refused.code if refused.code is not None else refused.status}})
            finally:
                standin.leave()

        def _extensions(self, received: Received) -> dict:
            if standin.form != "videochat":
                return {}
            frames = received.body.get("video_frames")
            if standin.model_times is not None and isinstance(frames, dict):
                frames = {**frames, "model_times": standin.model_times}
            return {"video_frames": frames, "videochat": standin.provenance}

        def _whole(self, received: Received) -> dict:
            return {"id": "chatcmpl-standin", "object": "chat.completion", "created": int(time.time()), "model": received.model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": standin.answer_text(received)}, "finish_reason": "stop"}],
                    **self._extensions(received)}

        def _stream(self, received: Received) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            if standin.raw_stream is not None:
                self.wfile.write(standin.raw_stream)
                return
            words = standin.answer_text(received).split(" ")
            for number, word in enumerate(words):
                if standin.break_after_pieces is not None and number == standin.break_after_pieces:
                    self.wfile.flush()
                    self.connection.shutdown(2)  # the engine died: no [DONE]
                    return
                chunk = {"id": "chatcmpl-standin", "object": "chat.completion.chunk", "model": received.model,
                         "choices": [{"index": 0, "delta": {"content": word if number == 0 else " " + word}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                time.sleep(standin.seconds_per_piece)
            last = {"id": "chatcmpl-standin", "object": "chat.completion.chunk", "model": received.model,
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], **self._extensions(received)}
            self.wfile.write(f"data: {json.dumps(last)}\n\ndata: [DONE]\n\n".encode())
            self.wfile.flush()

    return Handler


if __name__ == "__main__":
    # A stand-in in its own process (bench/engine.py): prints its address, serves until stdin closes,
    # then prints the most requests it had in flight at once.
    import argparse
    import sys

    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=0.2)
    options = parser.parse_args()
    with EngineStandIn(seconds_per_answer=options.seconds) as standin:
        print(standin.url, flush=True)
        sys.stdin.read()
        print(standin.most_in_flight, len(standin.received), flush=True)
