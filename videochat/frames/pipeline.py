"""Sample, decode and preprocess in one streaming pass: what a model gets for one video.

Frames are transformed in small batches as they come out of the decoder, so that only the
model-sized tensors accumulate: 128 frames of a 4K clip never sit in memory at full size.
"""

from __future__ import annotations

import queue
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from videochat.errors import Cancelled
from videochat.families import Family, get_family
from videochat.frames.sampling import FrameSample
from videochat.video.source import VideoSource

# Frames transformed together: enough to amortise the per-call cost of torch, few enough
# that full-size 4K frames in float32 (100 MB each) stay well within memory.
TRANSFORM_BATCH = 4
# Frames decoded ahead while earlier ones are transformed: decoding and PIL/torch both run
# without the GIL, so the two overlap on two cores; a few 4K frames (25 MB each) at most.
DECODE_AHEAD = 6


@dataclass
class PreparedVideo:
    family: str
    sample: FrameSample
    pixel_values: object  # torch.Tensor, float32, shaped as the family's model takes it
    num_patches_list: list[int] | None  # InternVL tiles per frame
    path: Path | None = None  # the video file the frames came from

    @property
    def indices(self) -> np.ndarray:
        return self.sample.indices

    @property
    def times(self) -> np.ndarray:
        return self.sample.times

    def to_save(self) -> dict:
        """What `videochat preprocess` writes with torch.save."""
        import torch

        saved = {
            "family": self.family,
            "pixel_values": self.pixel_values,
            "indices": torch.from_numpy(self.sample.indices.copy()),
            "times": torch.from_numpy(self.sample.times.copy()),
            "message": self.sample.message,
            "segment": self.sample.segment,
        }
        if self.num_patches_list is not None:
            saved["num_patches_list"] = self.num_patches_list
        return saved


def sample_frames(source: VideoSource, family: Family | str, num_frames: int | None = None, segment=None) -> FrameSample:
    family = get_family(family) if isinstance(family, str) else family
    num_frames = family.default_frames if num_frames is None else num_frames
    family.check_frame_count(num_frames)
    return family.sample(source.info, num_frames, segment)


def prepare(
    source: VideoSource,
    family: Family | str,
    num_frames: int | None = None,
    segment: tuple[float, float] | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> PreparedVideo:
    """Everything the family's model needs for this video (and which frames, at which times)."""
    family = get_family(family) if isinstance(family, str) else family
    return prepare_sample(source, family, sample_frames(source, family, num_frames, segment), progress, should_stop)


def prepare_sample(
    source: VideoSource,
    family: Family,
    sample: FrameSample,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> PreparedVideo:
    """The frames of a sample already chosen (a saved conversation's, or the family's rule's), prepared."""
    repeats = Counter(int(i) for i in sample.indices)

    def in_order():
        for index, frame in decoded_ahead(source.iter_frames(sample.indices), DECODE_AHEAD):
            for _ in range(repeats[index]):  # the sample is ascending, so repeats sit together
                yield frame

    return prepare_frames(family, sample, in_order(), progress, should_stop, path=source.info.path)


def prepare_frames(
    family: Family,
    sample: FrameSample,
    frames: Iterable[np.ndarray],
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    path: Path | None = None,
) -> PreparedVideo:
    """`frames` (uint8 H x W x 3, one per entry of the sample, in its order) transformed as the family's model takes them."""
    total = len(sample.indices)
    outputs, patches, batch = [], [], []

    def flush():
        result = family.transform(np.stack(batch))
        if family.has_patches:
            result, tiles = result
            patches.extend(tiles)
        outputs.append(result)
        batch.clear()
        if progress is not None:
            progress(sum(o.shape[family.frame_axis] for o in outputs) if not family.has_patches else len(patches), total)

    for frame in frames:
        if should_stop is not None and should_stop():
            raise Cancelled("Stopped while reading the video.")
        batch.append(frame)
        if len(batch) >= TRANSFORM_BATCH:
            flush()
    if batch:
        flush()

    import torch

    pixel_values = torch.cat(outputs, dim=family.frame_axis)
    if family.batch_axis:
        pixel_values = pixel_values.unsqueeze(0)
    return PreparedVideo(family.name, sample, pixel_values, patches if family.has_patches else None, path=path)


_END = object()


def decoded_ahead(frames: Iterator, depth: int) -> Iterator:
    """Run the `frames` iterator on a thread, `depth` items ahead of the consumer.

    Errors reach the consumer in order; a consumer that stops early stops the thread.
    """
    items: queue.Queue = queue.Queue(maxsize=depth)
    closed = threading.Event()

    def offer(item) -> bool:
        while not closed.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for item in frames:
                if not offer(item):
                    break
            else:
                offer(_END)
        except BaseException as error:  # handed to the consumer
            offer(error)
        finally:
            close = getattr(frames, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="videochat-decode", daemon=True)
    thread.start()
    try:
        while True:
            item = items.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        closed.set()
        thread.join()
