"""Frames as they travel in a request: JPEG (or PNG) in base64 data URLs.

vLLM takes a video as `data:video/jpeg;base64,<f1>,<f2>,...` (JPEG only); LMDeploy and SGLang take
one `image_url` per frame. Both sides of our protocol read them here, and every frame is decoded
before it is trusted: a request is hostile until its bytes have been read as pictures.
"""

from __future__ import annotations

import base64
import binascii
import io

import numpy as np

VIDEO_JPEG_PREFIX = "data:video/jpeg;base64,"
IMAGE_PREFIXES = {"data:image/jpeg;base64,": "JPEG", "data:image/png;base64,": "PNG"}
MAX_FRAME_PIXELS = 4096 * 4096  # a frame bigger than 4K square is refused before it is decoded


class BadMedia(ValueError):
    """A data URL that is not what it claims (not base64, not a picture, too many or too large)."""


def encode_jpeg(frame: np.ndarray, quality: int = 90) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(frame, dtype=np.uint8)).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def video_data_url(frames: np.ndarray, quality: int = 90) -> str:
    """vLLM's form: the frames (T x H x W x 3, uint8 RGB) as JPEG, comma-separated."""
    return VIDEO_JPEG_PREFIX + ",".join(base64.b64encode(encode_jpeg(frame, quality)).decode("ascii") for frame in frames)


def image_data_url(frame: np.ndarray, quality: int = 90) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(encode_jpeg(frame, quality)).decode("ascii")


def decode_picture(data: bytes, expected_format: str) -> np.ndarray:
    """The picture as H x W x 3 uint8 RGB; anything else is `BadMedia`."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != expected_format:
                raise BadMedia(f"a frame is {image.format or 'not a picture'}, not {expected_format}")
            if image.width * image.height > MAX_FRAME_PIXELS:
                raise BadMedia(f"a frame of {image.width}x{image.height} is larger than this server takes")
            return np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise BadMedia(f"a frame does not decode as {expected_format}: {error}") from None


def _base64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadMedia("a frame is not valid base64") from None


def decode_video_data_url(url: str, max_frames: int) -> list[np.ndarray]:
    """The frames of a `data:video/jpeg;base64,...` URL, each decoded (more than `max_frames` is refused)."""
    if not url.startswith(VIDEO_JPEG_PREFIX):
        raise BadMedia("a video data URL must start with data:video/jpeg;base64,")
    parts = url[len(VIDEO_JPEG_PREFIX):].split(",")
    if len(parts) > max_frames:
        raise BadMedia(f"{len(parts)} frames is more than the {max_frames} this model takes")
    return [decode_picture(_base64(part), "JPEG") for part in parts]


def decode_image_data_url(url: str) -> np.ndarray:
    for prefix, expected in IMAGE_PREFIXES.items():
        if url.startswith(prefix):
            return decode_picture(_base64(url[len(prefix):]), expected)
    raise BadMedia("an image must be a data URL: data:image/jpeg;base64,... or data:image/png;base64,...")
