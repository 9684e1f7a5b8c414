"""Frame reader on decord, the reader the model cards use.

decord counts and orders frames by its own index; it is only used on a file when its frame
count and frame times agree with the probe's timestamp table, so that frame N means the
same frame whichever reader decodes it. It applies rotation metadata itself.
"""

from __future__ import annotations

import time
from typing import Iterator, Sequence

import numpy as np

from videochat.errors import ReaderUnavailable, VideoTimeout
from videochat.video.info import VideoInfo

# decord cannot be interrupted inside a batch: keep batches short so that time limits and
# memory (a 4K frame is 25 MB) stay bounded.
BATCH_FRAMES = 8


class DecordReader:
    name = "decord"

    def __init__(self, info: VideoInfo, open_timeout: float):
        try:
            import decord
        except ImportError as error:
            raise ReaderUnavailable("decord is not installed (it has no wheel for this platform).") from error
        self.info = info
        self._decord = decord
        self._readers: dict[tuple[int, int] | None, object] = {}
        self._reader_for(None)

    def close(self) -> None:
        self._readers.clear()

    def _reader_for(self, size: tuple[int, int] | None):
        if size in self._readers:
            return self._readers[size]
        width, height = size if size is not None else (-1, -1)  # decord's size is the upright picture's
        try:
            reader = self._decord.VideoReader(str(self.info.path), ctx=self._decord.cpu(0), width=width, height=height, num_threads=0)
        except Exception as error:  # decord raises its own DECORDError, RuntimeError and others
            raise ReaderUnavailable(f"decord cannot open {self.info.path.name}: {error}") from error
        if size is None:
            self._check_agrees_with_probe(reader)
        self._readers[size] = reader
        return reader

    def _check_agrees_with_probe(self, reader) -> None:
        info = self.info
        if len(reader) != info.frame_count:
            raise ReaderUnavailable(f"decord counts {len(reader)} frames in {info.path.name} where the container holds {info.frame_count}.")
        if info.table.exact:
            starts = reader.get_frame_timestamp(range(len(reader)))[:, 0].astype(np.float64)
            shift = info.times[0] - starts[0]
            tolerance = max(0.5 * (info.duration / max(info.frame_count, 1)), 1e-3)
            if np.max(np.abs(starts + shift - info.times)) > tolerance:
                raise ReaderUnavailable(f"decord orders the frames of {info.path.name} differently from their timestamps.")

    def frames(self, indices: Sequence[int], size: tuple[int, int] | None, deadline: float) -> Iterator[tuple[int, np.ndarray]]:
        reader = self._reader_for(size)
        indices = list(indices)
        for start in range(0, len(indices), BATCH_FRAMES):
            if time.monotonic() > deadline:
                raise VideoTimeout(f"Decoding {self.info.path.name} took longer than its time limit.")
            batch = indices[start : start + BATCH_FRAMES]
            try:
                frames = reader.get_batch(batch).asnumpy()
            except Exception as error:
                raise ReaderUnavailable(f"decord failed on {self.info.path.name}: {error}") from error
            yield from zip(batch, frames)
