"""`VideoSource`: one opened video, its metadata, and exact frames by index.

Readers are tried in order of preference; one that cannot handle the file (not installed,
disagrees with the container's timestamps, fails structurally) hands over to the next for
the frames still missing. Damage and time-outs are not handed over: the other reader would
meet the same damaged bytes, and decord can crash on them.
"""

from __future__ import annotations

import os
import time
from typing import Iterator, Sequence

import numpy as np

from videochat.errors import ReaderUnavailable
from videochat.video import READER_ORDER
from videochat.video.decord_reader import DecordReader
from videochat.video.info import DEFAULT_OPEN_TIMEOUT_S, VideoInfo, probe
from videochat.video.decode_runs import frames_decoded, plan_runs
from videochat.video.pyav_reader import PyAVReader

READERS = {"pyav": PyAVReader, "decord": DecordReader}
DEFAULT_READER_ORDER = READER_ORDER

# Time limit of one read: generous for slow disks and 4K HEVC, yet finite.
DECODE_TIMEOUT_BASE_S = 30.0
DECODE_TIMEOUT_PER_FRAME_S = 0.25


class VideoSource:
    def __init__(self, info: VideoInfo, reader_order: Sequence[str], open_timeout: float):
        unknown = [name for name in reader_order if name not in READERS]
        if unknown:
            raise ValueError(f"unknown reader {unknown[0]!r}; choose from {', '.join(READERS)}")
        self.info = info
        self._reader_order = list(reader_order)
        self._open_timeout = open_timeout
        self._reader = None

    @classmethod
    def open(cls, path: str | os.PathLike, reader: str = "auto", open_timeout: float = DEFAULT_OPEN_TIMEOUT_S) -> "VideoSource":
        """Probe `path` and get ready to read; `reader` is "auto", "pyav" or "decord" (which still falls back)."""
        return cls.from_info(probe(path, open_timeout=open_timeout), reader, open_timeout)

    @classmethod
    def from_info(cls, info: VideoInfo, reader: str = "auto", open_timeout: float = DEFAULT_OPEN_TIMEOUT_S) -> "VideoSource":
        """Get ready to read a file probed before (the probe demuxes the whole file: do it once)."""
        order = list(DEFAULT_READER_ORDER)
        if reader != "auto":
            order = [reader] + [name for name in order if name != reader]
        return cls(info, order, open_timeout)

    @property
    def reader_name(self) -> str:
        return self._current_reader().name

    def _current_reader(self):
        while self._reader is None:
            if not self._reader_order:
                raise ReaderUnavailable(f"No frame reader can read {self.info.path.name}.")
            name = self._reader_order[0]
            try:
                self._reader = READERS[name](self.info, self._open_timeout)
            except ReaderUnavailable:
                self._reader_order.pop(0)
        return self._reader

    def _drop_current_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
        self._reader = None
        self._reader_order.pop(0)

    def iter_frames(self, indices: Sequence[int], size: tuple[int, int] | None = None, timeout: float | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (index, upright RGB uint8 frame) for each distinct index, ascending.

        `size` (width, height) resizes in the decoder, for previews; models get full frames
        so that their preprocessing matches the cards.
        """
        wanted = sorted({int(i) for i in indices})
        if wanted and not (0 <= wanted[0] and wanted[-1] < self.info.frame_count):
            raise IndexError(f"frame indices must lie in 0..{self.info.frame_count - 1}")
        if timeout is None:
            work = frames_decoded(plan_runs(wanted, self.info.table)) if self.info.table.exact else (wanted[-1] + 1 if wanted else 0)
            timeout = DECODE_TIMEOUT_BASE_S + DECODE_TIMEOUT_PER_FRAME_S * work
        deadline = time.monotonic() + timeout
        while wanted:
            reader = self._current_reader()
            try:
                for index, frame in reader.frames(wanted, size, deadline):
                    wanted.remove(index)
                    yield index, frame
            except ReaderUnavailable:
                self._drop_current_reader()

    def read(self, indices: Sequence[int], size: tuple[int, int] | None = None, timeout: float | None = None) -> np.ndarray:
        """Frames at `indices` in the order given (repeats allowed), stacked as N x H x W x 3 uint8."""
        frames = dict(self.iter_frames(indices, size, timeout))
        return np.stack([frames[int(i)] for i in indices])

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def __enter__(self) -> "VideoSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
