"""Probe a video file once: metadata, and the presentation time of every frame.

The timestamp table comes from demuxing the container (no decoding), so frame times stay
true on variable-frame-rate files, and the keyframe positions it records let the readers
plan their seeks. Only the first frame is decoded, to prove the codec works and to read
the display rotation.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from videochat.errors import (
    NoFrames,
    NoVideoStream,
    UnreadableVideo,
    UnsupportedCodec,
    VideoTimeout,
)
from videochat.video.files import check_video_file

DEFAULT_OPEN_TIMEOUT_S = 20.0
# Between two reads of the file: only a stalled disk or network share gets near it.
READ_STALL_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class TimestampTable:
    """Per-frame presentation timestamps, sorted, in the stream's time base.

    `exact` is False when the container gives no usable timestamps (missing or repeated
    ones, as in raw elementary streams): frames are then found by counting from the start.
    """

    pts: np.ndarray  # int64, presentation order
    keyframes: np.ndarray  # int64 presentation indices of the keyframes, ascending
    time_base: Fraction
    exact: bool

    def index_of_pts(self, pts: int) -> int | None:
        position = int(np.searchsorted(self.pts, pts))
        if position < len(self.pts) and self.pts[position] == pts:
            return position
        return None

    def keyframe_before(self, index: int) -> int:
        """Presentation index of the keyframe that a decode of frame `index` starts from."""
        position = int(np.searchsorted(self.keyframes, index, side="right")) - 1
        return int(self.keyframes[position]) if position >= 0 else 0


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    frame_count: int
    fps: float  # the container's average frame rate, as the model cards read it
    duration: float  # seconds, from the first frame's start to the last frame's end
    width: int  # upright, after rotation
    height: int
    rotation: int  # degrees counter-clockwise the stored picture is turned for display: 0/90/180/270
    codec: str
    variable_frame_rate: bool
    times: np.ndarray = field(repr=False)  # float64 seconds of every frame, presentation order
    table: TimestampTable = field(repr=False)
    stream_index: int = 0
    truncated: bool = False  # the container ended before its own index said it would

    def to_dict(self, with_times: bool = True) -> dict:
        info = {
            "path": str(self.path),
            "frame_count": self.frame_count,
            "fps": round(self.fps, 6),
            "duration": round(self.duration, 6),
            "width": self.width,
            "height": self.height,
            "rotation": self.rotation,
            "codec": self.codec,
            "variable_frame_rate": self.variable_frame_rate,
            "exact_timestamps": self.table.exact,
            "truncated": self.truncated,
        }
        if with_times:
            info["frame_times"] = [round(float(t), 6) for t in self.times]
        return info


def open_container(path: Path, open_timeout: float):
    """av.open with time limits and FFmpeg's errors turned into ours."""
    import av

    try:
        return av.open(str(path), mode="r", timeout=(open_timeout, READ_STALL_TIMEOUT_S), metadata_errors="replace")
    except av.error.ExitError as error:
        raise VideoTimeout(f"Opening {path.name} took longer than {open_timeout:.0f} s; the disk may be stalled.") from error
    except av.error.EOFError as error:
        raise UnreadableVideo(
            f"{path.name} ends before any video data: the file is truncated, or the copy or recording did not finish."
        ) from error
    except av.error.InvalidDataError as error:
        raise UnreadableVideo(
            f"{path.name} is not a video file that can be read: its contents are not a known video format, "
            "or the file is damaged or truncated."
        ) from error
    except (av.error.FFmpegError, OSError) as error:
        raise UnreadableVideo(f"{path.name} cannot be opened: {error}.") from error


def probe(path: str | os.PathLike, open_timeout: float = DEFAULT_OPEN_TIMEOUT_S) -> VideoInfo:
    """Read the metadata and timestamp table of `path`; raise an `UnreadableVideo` subclass if it is no good."""
    import av

    path = check_video_file(path)  # a FIFO or a device would block or never end in av.open
    deadline = time.monotonic() + open_timeout
    container = open_container(path, open_timeout)
    try:
        if not container.streams.video:
            kinds = sorted({stream.type for stream in container.streams})
            found = f" (it holds only {', '.join(kinds)})" if kinds else ""
            raise NoVideoStream(f"{path.name} has no video track{found}.")
        stream = container.streams.video[0]
        codec = _decoder_name(stream, path)
        packets, first_frame, truncated = _demux_all(container, stream, path, deadline)
        # PyAV streams must not be touched once their container is closed (it crashes).
        facts = _StreamFacts(
            index=stream.index,
            time_base=stream.time_base or Fraction(1, 90000),
            rates=(stream.average_rate, stream.guessed_rate),
            container_start_us=container.start_time,
            first_frame=(first_frame.rotation or 0, first_frame.width, first_frame.height) if first_frame is not None else None,
        )
    finally:
        container.close()

    if not packets:
        raise NoFrames(f"{path.name} has a video track but no frames in it.")
    if facts.first_frame is None:
        raise UnsupportedCodec(
            f"{path.name}: not one frame of its {codec} video could be decoded; the file is damaged "
            "or uses a codec variant this build of FFmpeg cannot decode."
        )
    return _build_info(path, facts, codec, packets, truncated)


@dataclass(frozen=True)
class _StreamFacts:
    index: int
    time_base: Fraction
    rates: tuple
    container_start_us: int | None
    first_frame: tuple[float, int, int] | None  # rotation, coded width, coded height


def _decoder_name(stream, path: Path) -> str:
    context = stream.codec_context
    name = getattr(context, "name", None) if context is not None else None
    if not name or name == "none":
        tag = getattr(context, "codec_tag", None) or "unknown"
        raise UnsupportedCodec(
            f"{path.name} uses a video codec ({tag}) this build of FFmpeg cannot decode. "
            "Convert it first, e.g. ffmpeg -i in -c:v libx264 out.mp4."
        )
    return name


def _demux_all(container, stream, path: Path, deadline: float):
    """All packets' (pts, dts, keyframe) in decode order, the first decodable frame, and whether it stopped early."""
    import av

    packets: list[tuple[int | None, int | None, bool]] = []
    first_frame = None
    truncated = False
    decoder = stream.codec_context
    try:
        for packet in container.demux(stream):
            if packet.size == 0 and packet.pts is None:
                continue  # the demuxer's end-of-stream marker
            packets.append((packet.pts, packet.dts, bool(packet.is_keyframe)))
            if first_frame is None and len(packets) <= 256:
                try:
                    frames = decoder.decode(packet)
                except av.error.FFmpegError:
                    frames = []
                if frames:
                    first_frame = frames[0]
            if len(packets) % 512 == 0 and time.monotonic() > deadline:
                raise VideoTimeout(f"Reading the index of {path.name} took too long; the disk may be stalled.")
    except av.error.ExitError as error:
        raise VideoTimeout(f"Reading {path.name} stalled; the disk may be disconnected.") from error
    except av.error.FFmpegError:
        truncated = True  # what was read so far stays usable
    if first_frame is None and packets:
        try:
            frames = decoder.decode(None)
            first_frame = frames[0] if frames else None
        except av.error.FFmpegError:
            pass
    expected = stream.frames or 0
    if expected and len(packets) < expected:
        truncated = True
    return packets, first_frame, truncated


def _median(values: np.ndarray) -> float:
    """`np.median`'s value without `np.median`, whose NaN check imports numpy.ma (~10 ms holding the GIL, at
    the first open of a video: a stall of the window, and the model process's first question)."""
    ordered = np.sort(values)
    middle = len(ordered) // 2
    return float(ordered[middle]) if len(ordered) % 2 else float((ordered[middle - 1] + ordered[middle]) / 2)


def _build_info(path: Path, facts: _StreamFacts, codec: str, packets, truncated: bool) -> VideoInfo:
    pts = np.array([p[0] if p[0] is not None else -(2**62) for p in packets], dtype=np.int64)
    keyframe_flags = np.array([p[2] for p in packets], dtype=bool)
    time_base = facts.time_base
    has_pts = all(p[0] is not None for p in packets)
    order = np.argsort(pts, kind="stable")
    sorted_pts = pts[order]
    exact = has_pts and bool(np.all(np.diff(sorted_pts) > 0))

    fps = _average_fps(facts.rates, len(packets), sorted_pts, time_base, exact)
    if exact:
        keyframes = np.flatnonzero(keyframe_flags[order]).astype(np.int64)
        # Times count from the start of the file, as players show them.
        start_us = facts.container_start_us
        origin = start_us * time_base.denominator // (1_000_000 * time_base.numerator) if start_us is not None else sorted_pts[0]
        origin = min(origin, int(sorted_pts[0]))
        times = (sorted_pts - origin).astype(np.float64) * float(time_base)
        durations = np.diff(times)
        last = _median(durations) if len(durations) else 1.0 / fps
        duration = float(times[-1] - times[0] + last)
        tick = float(time_base)
        variable = bool(len(durations) > 1 and durations.max() - durations.min() > max(2 * tick, 0.002))
    else:
        # No trustworthy timestamps: frames are counted from the start at the average rate.
        keyframes = np.array([0], dtype=np.int64)
        sorted_pts = np.arange(len(packets), dtype=np.int64)
        times = sorted_pts / fps
        duration = len(packets) / fps
        variable = False

    raw_rotation, coded_width, coded_height = facts.first_frame
    rotation = int(round(raw_rotation)) % 360
    rotation = (rotation + 45) // 90 * 90 % 360  # display matrices of phones hold exact multiples of 90
    width, height = (coded_height, coded_width) if rotation in (90, 270) else (coded_width, coded_height)
    table = TimestampTable(pts=sorted_pts, keyframes=keyframes, time_base=time_base, exact=exact)
    return VideoInfo(
        path=path,
        frame_count=len(packets),
        fps=fps,
        duration=duration,
        width=width,
        height=height,
        rotation=rotation,
        codec=codec,
        variable_frame_rate=variable,
        times=times,
        table=table,
        stream_index=facts.index,
        truncated=truncated,
    )


def _average_fps(rates, count: int, sorted_pts: np.ndarray, time_base: Fraction, exact: bool) -> float:
    for rate in rates:
        if rate and float(rate) > 0:
            return float(rate)
    if exact and count > 1:
        span = float((sorted_pts[-1] - sorted_pts[0]) * time_base)
        if span > 0:
            return (count - 1) / span
    return 25.0  # FFmpeg's own default when a stream states no rate at all
