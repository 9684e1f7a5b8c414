"""Frame reader on PyAV: exact frames by presentation timestamp, one seek per needed group.

Each decoded frame is identified by its pts in the probe's timestamp table, never by
counting after a seek, so a seek that lands on an earlier keyframe than asked costs time
but never returns a wrong frame. Only the kept frames are converted to RGB.
"""

from __future__ import annotations

import time
from typing import Iterator, Sequence

import numpy as np

from videochat.errors import CorruptVideo, VideoTimeout
from videochat.video.info import VideoInfo, open_container
from videochat.video.decode_runs import DecodeRun, plan_runs


class PyAVReader:
    name = "pyav"

    def __init__(self, info: VideoInfo, open_timeout: float):
        self.info = info
        self._container = open_container(info.path, open_timeout)
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"

    def close(self) -> None:
        self._container.close()

    def frames(self, indices: Sequence[int], size: tuple[int, int] | None, deadline: float) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (index, RGB uint8 HxWx3 upright frame) for ascending unique `indices`, in that order."""
        if not self.info.table.exact:
            yield from self._frames_by_counting(indices, size, deadline)
            return
        for run in plan_runs(indices, self.info.table):
            yield from self._decode_run(run, size, deadline)

    def _decode_run(self, run: DecodeRun, size, deadline: float) -> Iterator[tuple[int, np.ndarray]]:
        wanted = list(run.indices)
        for keyframe in self._seek_candidates(run.keyframe):
            self._seek(keyframe)
            first = True
            for index, frame in self._decoded(deadline, wanted):
                if index is None:
                    continue
                if first:
                    first = False
                    if index > wanted[0]:
                        break  # the demuxer landed past the frame we need: start from an earlier keyframe
                if index > wanted[0]:
                    raise CorruptVideo(self._damaged_message([i for i in wanted if i < index]))
                if index == wanted[0]:
                    wanted.pop(0)
                    yield index, self._to_rgb(frame, size)
                    if not wanted:
                        return
            else:
                raise CorruptVideo(self._damaged_message(wanted))
        raise CorruptVideo(self._damaged_message(wanted))

    def _seek_candidates(self, keyframe: int) -> Iterator[int]:
        """The run's own keyframe, then the one before it, then the very start."""
        keyframes = self.info.table.keyframes
        yield keyframe
        position = int(np.searchsorted(keyframes, keyframe))
        if position > 0:
            yield int(keyframes[position - 1])
        if position > 1:
            yield 0

    def _seek(self, keyframe: int) -> None:
        pts = int(self.info.table.pts[keyframe])
        self._container.seek(pts, stream=self._stream, backward=True, any_frame=False)
        self._stream.codec_context.flush_buffers()

    def _decoded(self, deadline: float, wanted: Sequence[int]):
        """Decoded frames from the current demuxer position on, as (presentation index, frame).

        Frames that no other frame refers to (most B-frames) are not decoded at all unless
        wanted: the decoder is told per packet, so wanted ones are always decoded.
        """
        import av

        table = self.info.table
        wanted_pts = {int(table.pts[i]) for i in wanted}
        decoder = self._stream.codec_context
        for packet in self._container.demux(self._stream):
            if time.monotonic() > deadline:
                raise VideoTimeout(f"Decoding {self.info.path.name} took longer than its time limit.")
            decoder.skip_frame = "DEFAULT" if packet.pts is None or packet.pts in wanted_pts else "NONREF"
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                continue  # a damaged packet: the frames it held are reported missing by the caller
            except av.error.ExitError as error:
                raise VideoTimeout(f"Reading {self.info.path.name} stalled.") from error
            for frame in frames:
                yield (table.index_of_pts(frame.pts) if frame.pts is not None else None), frame

    def _frames_by_counting(self, indices: Sequence[int], size, deadline: float) -> Iterator[tuple[int, np.ndarray]]:
        """For files without usable timestamps: decode from the start, counting frames."""
        self._container.seek(0, stream=self._stream, backward=True)
        self._stream.codec_context.flush_buffers()
        wanted = list(indices)
        count = 0
        for packet in self._container.demux(self._stream):
            if time.monotonic() > deadline:
                raise VideoTimeout(f"Decoding {self.info.path.name} took longer than its time limit.")
            for frame in packet.decode():
                if wanted and count == wanted[0]:
                    wanted.pop(0)
                    yield count, self._to_rgb(frame, size)
                count += 1
                if not wanted:
                    return
        if wanted:
            raise CorruptVideo(self._damaged_message(wanted))

    def _to_rgb(self, frame, size: tuple[int, int] | None) -> np.ndarray:
        rotation = self.info.rotation
        if size is not None:
            width, height = size
            if rotation in (90, 270):
                width, height = height, width
            frame = frame.reformat(width=width, height=height, interpolation="AREA")
        rgb = frame.to_ndarray(format="rgb24")
        if rotation:
            rgb = np.ascontiguousarray(np.rot90(rgb, k=rotation // 90))
        return rgb

    def _damaged_message(self, missing: Sequence[int]) -> str:
        times = ", ".join(f"{self.info.times[i]:.3f}" for i in list(missing)[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        return (
            f"{self.info.path.name} is damaged: the frames at {times}{more} s cannot be decoded. "
            "Choose a segment that avoids them, or repair the file (ffmpeg -i in -c copy out.mp4)."
        )
