"""Synthetic, frame-coded video clips for tests and benchmarks.

Every frame carries its own index as a 4 x 4 grid of bright and dark cells (16 bits, row by
row from the top left of the upright picture), large enough to survive compression and
downscaling, so that "the reader returned frame 137" is read from the pixels, not assumed.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path
from typing import Sequence

import numpy as np

GRID = 4
BRIGHT, DARK = 230, 25


def frame_code_image(index: int, width: int, height: int, texture: np.ndarray | None = None) -> np.ndarray:
    """An upright RGB frame whose grid of cells spells `index`; `texture` (same size) fills the rest."""
    image = np.empty((height, width, 3), np.uint8)
    if texture is not None:
        image[:] = texture
    else:
        image[:] = (40, 90, 160)  # not grey, so that a swapped channel order changes the picture
    bits = [(index >> bit) & 1 for bit in range(GRID * GRID)]
    cell_h, cell_w = height // GRID, width // GRID
    # Each cell is coded in its centre half only, so that texture around it does not bleed in.
    for bit, value in enumerate(bits):
        row, col = divmod(bit, GRID)
        top, left = row * cell_h + cell_h // 4, col * cell_w + cell_w // 4
        image[top : top + cell_h // 2, left : left + cell_w // 2] = BRIGHT if value else DARK
    return image


def read_frame_code(frame: np.ndarray) -> int:
    """The index coded in an upright RGB frame (any size, any of the resizes the app makes)."""
    height, width = frame.shape[:2]
    cell_h, cell_w = height / GRID, width / GRID
    index = 0
    for bit in range(GRID * GRID):
        row, col = divmod(bit, GRID)
        y, x = int((row + 0.5) * cell_h), int((col + 0.5) * cell_w)
        patch = frame[max(0, y - int(cell_h / 8)) : y + int(cell_h / 8) + 1, max(0, x - int(cell_w / 8)) : x + int(cell_w / 8) + 1]
        if patch.mean() > (BRIGHT + DARK) / 2:
            index |= 1 << bit
    return index


def write_clip(
    path: str | Path,
    frames: int = 60,
    width: int = 320,
    height: int = 240,
    fps: int = 30,
    codec: str = "libx264",
    keyframe_interval: int = 12,
    b_frames: int = 2,
    rotation: int = 0,
    durations_ms: Sequence[int] | None = None,
    texture: bool = False,
    faststart: bool = False,
) -> Path:
    """Write a frame-coded clip. `width`/`height` are the upright picture's.

    `rotation` stores the picture turned and tags the display matrix (counter-clockwise
    degrees), as phones do; `durations_ms` makes a variable-frame-rate clip with those frame
    durations, repeated; `texture` adds moving detail so that decoding costs what it does on
    real footage (for benchmarks).
    """
    import av

    path = Path(path)
    stored_w, stored_h = (height, width) if rotation % 180 else (width, height)
    options = {"movflags": "+faststart"} if faststart else {}
    container = av.open(str(path), mode="w", options=options)
    stream = container.add_stream(codec, rate=fps)
    stream.width, stream.height = stored_w, stored_h
    stream.pix_fmt = "yuv420p"
    # One slice per frame, like camera footage and x264's defaults (PyAV's default slice
    # threading would cut every frame into slices that decode unrealistically fast in parallel).
    stream.codec_context.thread_type = "FRAME"
    stream.codec_context.gop_size = keyframe_interval
    if codec == "libx264":
        stream.codec_context.options = {
            "preset": "veryfast",
            "x264-params": f"keyint={keyframe_interval}:min-keyint={keyframe_interval}:scenecut=0:bframes={b_frames}",
        }
    elif codec == "libvpx-vp9":
        stream.codec_context.options = {"deadline": "realtime", "cpu-used": "8"}
    if durations_ms:
        stream.codec_context.time_base = Fraction(1, 1000)
    if rotation:
        stream.set_display_rotation(rotation)

    texture_source = _texture(stored_w, stored_h) if texture else None
    pts_ms = itertools.accumulate(itertools.cycle(durations_ms), initial=0) if durations_ms else None
    for index in range(frames):
        upright_texture = None
        if texture_source is not None:
            shifted = np.roll(texture_source, 7 * index, axis=1)
            upright_texture = np.rot90(shifted, k=-rotation // 90) if rotation else shifted
        upright = frame_code_image(index, width, height, upright_texture)
        stored = np.ascontiguousarray(np.rot90(upright, k=-(rotation // 90))) if rotation else upright
        frame = av.VideoFrame.from_ndarray(stored, format="rgb24")
        if pts_ms is not None:
            frame.pts, frame.time_base = next(pts_ms), Fraction(1, 1000)
        else:
            frame.pts = index
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return path


def _texture(width: int, height: int) -> np.ndarray:
    """Smooth random detail, like footage: blocks of noise blurred by a box filter."""
    rng = np.random.default_rng(7)
    coarse = rng.integers(0, 256, (height // 8 + 1, width // 8 + 1, 3), dtype=np.uint8)
    fine = np.repeat(np.repeat(coarse, 8, axis=0), 8, axis=1)[:height, :width].astype(np.float32)
    fine = (fine + np.roll(fine, 4, axis=0) + np.roll(fine, 4, axis=1) + np.roll(fine, (4, 4), axis=(0, 1))) / 4
    fine += rng.normal(0, 6, fine.shape)
    return np.clip(fine, 0, 255).astype(np.uint8)


def write_audio_only(path: str | Path, seconds: float = 1.0) -> Path:
    import av

    path = Path(path)
    container = av.open(str(path), mode="w")
    stream = container.add_stream("aac", rate=44100)
    samples = int(44100 * seconds)
    tone = (0.2 * np.sin(np.arange(samples) * 2 * np.pi * 440 / 44100)).astype(np.float32)[None, :]
    for start in range(0, samples, 1024):
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(tone[:, start : start + 1024]), format="fltp", layout="mono")
        frame.sample_rate = 44100
        frame.pts = start
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return path


def write_empty_video(path: str | Path) -> Path:
    """A container with a video track that holds no frame at all (AVI keeps such a track; MKV and MP4 do not)."""
    import av

    path = Path(path)
    container = av.open(str(path), mode="w")
    stream = container.add_stream("libx264", rate=30)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    container.start_encoding()  # writes the header; no frame follows
    container.close()
    return path


def write_unknown_codec(path: str | Path) -> Path:
    """An AVI whose video track names a codec no FFmpeg build knows (its FourCC is rewritten)."""
    path = Path(path)
    write_clip(path, frames=5, width=64, height=48, codec="mpeg4", keyframe_interval=5, b_frames=0)
    data = path.read_bytes()
    for fourcc in (b"FMP4", b"fmp4", b"DIVX", b"XVID", b"MP4V"):
        data = data.replace(fourcc, b"QQZZ")
    path.write_bytes(data)
    return path
