"""`videochat serve`: a chat request's body read into what the model runner needs (docs/engine-protocol.md).

The body is hostile: every field is checked for its type, the video is a `file://` URL under an
allowed folder (resolved, so a link out of the folder is out) or frames as data URLs that are
each decoded before they are trusted. Problems are `RequestError`s carrying the protocol's code.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from videochat.app_files import BadAppFile, parse_json
from videochat.engines import media
from videochat.generation import MAX_NEW_TOKENS, GenerationSettings

FRAME_LABEL = re.compile(r"\s*Frame\d+:\s*")  # LMDeploy's and SGLang's label before each frame's image


class RequestError(Exception):
    """A request the server refuses; `code` is one of engines/errors.py's."""

    def __init__(self, message: str, code: str = "invalid_request", status: int = 400, param: str | None = None):
        super().__init__(message)
        self.code, self.status, self.param = code, status, param


@dataclass
class VideoInput:
    """The video of a request: a file to sample, or frames the client sampled."""

    key: str  # the same video gives the same key: prepared frames are reused by it
    path: Path | None = None
    frames: list | None = None  # uint8 H x W x 3 arrays
    indices: list[int] | None = None  # the client's `video_frames` for its frames
    times: list[float] | None = None
    identity: tuple[int, int, int, int] | None = None  # the file's (device, inode, size, mtime) when it was checked

    def pixels(self) -> int:
        """What the frames the client sent take, decoded (a file's frames are decoded on the model thread, in turn)."""
        return sum(frame.shape[0] * frame.shape[1] for frame in self.frames) if self.frames is not None else 0


@dataclass
class ChatRequest:
    model: str | None
    video: VideoInput
    history: list[tuple[str, str]]  # earlier (question, answer) pairs
    question: str
    stream: bool
    settings: GenerationSettings
    num_frames: int | None = None
    segment: tuple[float | None, float | None] | None = None
    frame_indices: list[int] | None = None
    frame_times: list[float] | None = None  # where `frame_indices` were when the conversation was saved: checked
    scope: tuple = field(default=())  # with `video.key`, what makes two requests' frames the same


def parse_chat_request(body: bytes, allowed_folders: list[Path], max_frames: int, granted_files: frozenset[Path] = frozenset()) -> ChatRequest:
    try:
        data = parse_json(body)  # depth capped; an integer too large for a float is infinity, which the fields' checks refuse
    except BadAppFile:
        raise RequestError("The body is not JSON: send a chat completions request as a JSON object.") from None
    if not isinstance(data, dict):
        raise RequestError("The body must be a JSON object.")
    messages = _field(data, "messages", list)
    if not messages:
        raise RequestError("messages is empty: send at least one user message.", param="messages")
    video, turns = _read_messages(messages, (allowed_folders, granted_files), max_frames)
    request = ChatRequest(
        model=_field(data, "model", str, None),
        video=video,
        history=[(turns[i], turns[i + 1]) for i in range(0, len(turns) - 1, 2)],
        question=turns[-1],
        stream=_field(data, "stream", bool, False),
        settings=_settings(data),
        num_frames=_field(data, "num_frames", int, None),
        segment=_segment(data.get("segment")),
        frame_indices=_indices(data.get("frame_indices"), "frame_indices"),
        frame_times=_times(data.get("frame_times"), "frame_times"),
    )
    if request.frame_times is not None and (request.frame_indices is None or len(request.frame_times) != len(request.frame_indices)):
        raise RequestError("frame_times must give one time for each of frame_indices.", param="frame_times")
    if video.frames is not None:
        _client_frames(video, data.get("video_frames"))
        request.scope = ("frames",)
    elif request.frame_indices is not None:
        request.scope = ("indices", tuple(request.frame_indices))
    else:
        request.scope = ("sampled", request.num_frames, request.segment)
    return request


# -- fields ------------------------------------------------------------------------------------


def _field(data: dict, name: str, kind, default=...):
    value = data.get(name)
    if value is None:
        if default is ...:
            raise RequestError(f"{name} is missing.", param=name)
        return default
    is_kind = isinstance(value, kind) and not (kind in (int, float, (int, float)) and isinstance(value, bool))
    if kind is float or kind == (int, float):
        is_kind = is_kind and math.isfinite(value)
    if not is_kind:
        wanted = {str: "a string", bool: "true or false", int: "a whole number", list: "a list", float: "a number"}.get(kind, "a number")
        raise RequestError(f"{name} must be {wanted}.", param=name)
    return value


def _settings(data: dict) -> GenerationSettings:
    defaults = GenerationSettings()
    tokens_field = "max_tokens" if data.get("max_tokens") is not None else "max_completion_tokens"
    max_tokens = _field(data, tokens_field, int, None)
    temperature = _field(data, "temperature", (int, float), defaults.temperature)
    top_p = _field(data, "top_p", (int, float), defaults.top_p)
    penalty = _field(data, "repetition_penalty", (int, float), defaults.repetition_penalty)
    if max_tokens is not None and not 1 <= max_tokens <= MAX_NEW_TOKENS:
        raise RequestError(f"{tokens_field} must be from 1 to {MAX_NEW_TOKENS}.", param=tokens_field)
    if temperature < 0:
        raise RequestError("temperature must be 0 or more (0 answers greedily).", param="temperature")
    if not 0 < top_p <= 1:
        raise RequestError("top_p must be more than 0 and at most 1.", param="top_p")
    if penalty <= 0:
        raise RequestError("repetition_penalty must be more than 0.", param="repetition_penalty")
    return GenerationSettings(
        max_new_tokens=defaults.max_new_tokens if max_tokens is None else max_tokens,
        temperature=float(temperature),
        top_p=float(top_p),
        repetition_penalty=float(penalty),
    )


def _segment(value) -> tuple[float | None, float | None] | None:
    if value is None:
        return None
    if not (isinstance(value, list) and len(value) == 2):
        raise RequestError("segment must be [start_s, end_s] (either may be null).", param="segment")
    points = []
    for point in value:
        if point is not None and not (isinstance(point, (int, float)) and not isinstance(point, bool) and math.isfinite(point) and point >= 0):
            raise RequestError("segment's points must be seconds, 0 or more, or null.", param="segment")
        points.append(None if point is None else float(point))
    return None if points == [None, None] else (points[0], points[1])


def _indices(value, name: str) -> list[int] | None:
    if value is None:
        return None
    if not (isinstance(value, list) and value and all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in value)):
        raise RequestError(f"{name} must be a non-empty list of frame numbers, 0 or more.", param=name)
    return list(value)


def _times(value, name: str) -> list[float] | None:
    if value is None:
        return None
    if not (isinstance(value, list) and all(isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t) for t in value)):
        raise RequestError(f"{name} must be a list of seconds.", param=name)
    return [float(t) for t in value]


def _client_frames(video: VideoInput, given) -> None:
    """The frames' indices and times as the client says (the server cannot know them)."""
    count = len(video.frames)
    if given is None:
        video.indices, video.times = list(range(count)), None
        return
    if not isinstance(given, dict):
        raise RequestError("video_frames must be an object {indices, times}.", param="video_frames")
    indices = _indices(given.get("indices"), "video_frames.indices")
    times = given.get("times")
    if times is not None and not (isinstance(times, list) and all(isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t) for t in times)):
        raise RequestError("video_frames.times must be a list of seconds.", param="video_frames")
    if (indices is not None and len(indices) != count) or (times is not None and len(times) != count):
        raise RequestError(f"video_frames must give one index and one time for each of the {count} frames sent.", param="video_frames")
    video.indices = indices if indices is not None else list(range(count))
    video.times = None if times is None else [float(t) for t in times]


# -- messages ------------------------------------------------------------------------------------


def _read_messages(messages: list, allowed: tuple, max_frames: int) -> tuple[VideoInput, list[str]]:
    """The video (from the first user message) and the texts of user, assistant, ..., user, in turn."""
    video, texts, expected = None, [], "user"
    for number, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise RequestError("Each message must be an object with a role.", param=f"messages[{number}]")
        role = message["role"]
        if role in ("system", "developer"):
            continue  # the families' prompts have no place for one; it is left out, as unknown fields are
        if role != expected:
            raise RequestError(f"messages must alternate user and assistant, starting and ending with user: message {number} is {role}.", param="messages")
        expected = "assistant" if role == "user" else "user"
        content = message.get("content")
        if role == "assistant" or isinstance(content, str):
            texts.append(_text_of(content, number))
            continue
        if not isinstance(content, list):
            raise RequestError("A message's content must be text or a list of parts.", param=f"messages[{number}].content")
        found, text = _read_parts(content, number, allowed, max_frames)
        if found is not None:
            if video is not None or texts:
                raise RequestError("The video belongs in the first user message, once.", param=f"messages[{number}]")
            video = found
        texts.append(text)
    if expected != "assistant":
        raise RequestError("The last message must be the user's question.", param="messages")
    if video is None:
        raise RequestError("The first user message has no video: add a video_url part or image_url parts.", param="messages[0]")
    return video, texts


def _text_of(content, number: int) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str) for part in content):
        return "".join(part["text"] for part in content)
    raise RequestError("An assistant message must be text.", param=f"messages[{number}].content")


def _read_parts(parts: list, number: int, allowed: tuple, max_frames: int) -> tuple[VideoInput | None, str]:
    texts, images, video = [], [], None
    for part in parts:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind in ("video_url", "image_url") and isinstance(part.get(kind), dict) and isinstance(part[kind].get("url"), str):
            if kind == "image_url":
                if len(images) >= max_frames:
                    raise RequestError(f"More than the {max_frames} frames this model takes.", "invalid_frame_count")
                if texts and FRAME_LABEL.fullmatch(texts[-1]):
                    texts.pop()  # the frame's label, not the question
                images.append(part[kind]["url"])
            elif video is not None:
                raise RequestError("A request holds one video.", param=f"messages[{number}]")
            else:
                video = part[kind]["url"]
        else:
            raise RequestError("A part must be text, video_url or image_url, with its text or url.", param=f"messages[{number}].content")
    if video is not None and images:
        raise RequestError("Send the video as a video_url or as image_url frames, not both.", param=f"messages[{number}]")
    text = "".join(texts)
    if images:
        share = media.frame_share(len(images))
        return _frames_input([_decoded(lambda: media.decode_image_data_url(url, share)) for url in images]), text
    if video is None:
        return None, text
    if video.startswith("data:"):
        if video.count(",") > max_frames:
            raise RequestError(f"More than the {max_frames} frames this model takes.", "invalid_frame_count")
        return _frames_input(_decoded(lambda: media.decode_video_data_url(video, max_frames))), text
    path, key, identity = allowed_file(video, *allowed)
    return VideoInput(key=key, path=path, identity=identity), text


def _decoded(read):
    try:
        return read()
    except media.BadMedia as error:
        raise RequestError(f"The video's frames cannot be read: {error}.", "unreadable_video", 422) from None


def _frames_input(frames: list) -> VideoInput:
    if len({frame.shape for frame in frames}) > 1:
        raise RequestError("The frames sent differ in size: send every frame of a video at one size.", "unreadable_video", 422)
    digest = hashlib.sha256()
    for frame in frames:
        digest.update(frame.tobytes())
    return VideoInput(key="frames:" + digest.hexdigest(), frames=frames)


# -- files -----------------------------------------------------------------------------------------


def allowed_file(url: str, allowed_folders: list[Path], granted_files: frozenset[Path] = frozenset()) -> tuple[Path, str, tuple[int, int, int, int]]:
    """The regular file a `file://` URL names, resolved, if it lies under an allowed folder or is a
    granted file (else 403), its key for prepared frames, and its identity (`check_unchanged`)."""
    rule = (
        "this server reads only files under the folders it was started with (--allowed-media-path) and the files its owner granted"
        if allowed_folders or granted_files
        else "this server was started without --allowed-media-path, so it reads no files: send the frames as data URLs"
    )
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
        raise RequestError(f"The video must be a file:// URL or data:video/jpeg frames; {rule}.", "media_path_not_allowed", 403)
    path = unquote(parts.path)
    if not os.path.isabs(path) or "\x00" in path:
        raise RequestError(f"A file:// URL needs an absolute path; {rule}.", "media_path_not_allowed", 403)
    resolved = Path(os.path.realpath(path))
    if resolved not in granted_files and not any(resolved.is_relative_to(folder) for folder in allowed_folders):
        raise RequestError(f"That video is not under an allowed folder (after following links): {rule}.", "media_path_not_allowed", 403)
    try:
        status = os.stat(resolved)
    except OSError:
        raise RequestError("The video file does not exist or cannot be read.", "unreadable_video", 422) from None
    if not stat.S_ISREG(status.st_mode):
        raise RequestError(f"That path is not a regular file; {rule}.", "media_path_not_allowed", 403)
    return resolved, f"file:{resolved}:{status.st_size}:{status.st_mtime_ns}", _identity(status)


def _identity(status: os.stat_result) -> tuple[int, int, int, int]:
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns


def check_unchanged(video: VideoInput) -> None:
    """On the model thread, as it opens the file (the request may have waited its turn for minutes): the
    path still reaches the file that was checked, through no link. One who can write in an allowed
    folder could otherwise swap the file for a link to another after the check. RequestError if not.
    The same device, and the same inode or (where a file system such as FAT makes inode numbers up
    anew) the same size and time."""
    try:
        device, inode, size, mtime = _identity(os.stat(video.path))
        checked_device, checked_inode, checked_size, checked_mtime = video.identity
        unchanged = os.path.realpath(video.path) == str(video.path) and device == checked_device and (
            inode == checked_inode or (size, mtime) == (checked_size, checked_mtime))
    except (OSError, TypeError, ValueError):
        unchanged = False
    if not unchanged:
        raise RequestError("The video file was moved, replaced or made a link after the request was checked: send it again.", "media_path_not_allowed", 403)
