"""Frames as they travel in a request: JPEG (or PNG) in base64 data URLs.

vLLM takes a video as `data:video/jpeg;base64,<f1>,<f2>,...` (JPEG only); LMDeploy and SGLang take
one `image_url` per frame. Both sides of our protocol read them here, and every frame is decoded
before it is trusted: a request is hostile until its bytes have been read as pictures.
"""

from __future__ import annotations

import base64
import binascii
import io
import math

import numpy as np

VIDEO_JPEG_PREFIX = "data:video/jpeg;base64,"
IMAGE_PREFIXES = {"data:image/jpeg;base64,": "JPEG", "data:image/png;base64,": "PNG"}
MAX_FRAME_PIXELS = 4096 * 4096  # a frame bigger than 4K square is refused before it is decoded
# What one request's frames may hold once decoded (~550 MB of RGB): 512 wide frames 448 high
# (InternVideo2.5's most, each as high as its 448x448 input), or 64 of 1344x1344 (the most the
# client sends, remote.MAX_SENT_SIDE). Frames over their share are decoded smaller (a tiny PNG can be
# 4096x4096).
MAX_REQUEST_PIXELS = 512 * 800 * 448
# The modes Pillow scales down as they are; another (16-bit grey, 32-bit) is made RGB first.
SCALABLE_MODES = ("1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "YCbCr")


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


def decode_picture(data: bytes, expected_format: str, max_pixels: int = MAX_FRAME_PIXELS) -> np.ndarray:
    """The picture as H x W x 3 uint8 RGB, scaled down to at most `max_pixels`; anything else is `BadMedia`."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != expected_format:
                raise BadMedia(f"a frame is {image.format or 'not a picture'}, not {expected_format}")
            width, height = image.size
            if width * height > MAX_FRAME_PIXELS:
                raise BadMedia(f"a frame of {width}x{height} is larger than this server takes")
            if width * height > max_pixels:
                if image.mode not in SCALABLE_MODES:
                    image = image.convert("RGB")
                scale = math.sqrt(max_pixels / (width * height))
                # A JPEG is decoded at 1/2, 1/4 or 1/8 of its size where that is enough (draft), then resized.
                image.thumbnail((max(1, int(width * scale)), max(1, int(height * scale))), Image.Resampling.BILINEAR)
            return np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
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
    share = frame_share(len(parts))
    return [decode_picture(_base64(part), "JPEG", share) for part in parts]


def decode_image_data_url(url: str, max_pixels: int = MAX_FRAME_PIXELS) -> np.ndarray:
    for prefix, expected in IMAGE_PREFIXES.items():
        if url.startswith(prefix):
            return decode_picture(_base64(url[len(prefix):]), expected, max_pixels)
    raise BadMedia("an image must be a data URL: data:image/jpeg;base64,... or data:image/png;base64,...")


def frame_share(frames: int) -> int:
    """The most pixels each of a request's `frames` frames is decoded at: `MAX_REQUEST_PIXELS` shared."""
    return min(MAX_FRAME_PIXELS, MAX_REQUEST_PIXELS // max(frames, 1))
