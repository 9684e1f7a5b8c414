"""The model families' video rules, as a registry: how many frames, which ones, and how fed.

Backends and front ends look a family up by name here; nothing else branches on names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from videochat.frames import preprocess, sampling
from videochat.errors import InvalidFrameCount


@dataclass(frozen=True)
class Family:
    name: str
    title: str
    default_frames: int
    max_frames: int
    sample: Callable  # (VideoInfo, num_frames, segment) -> FrameSample
    transform: Callable  # uint8 T x H x W x 3 -> tensor, or (tensor, tiles per frame)
    frame_axis: int  # the axis of the transform's output that runs over frames
    frame_multiple: int = 1
    has_patches: bool = False  # the transform returns InternVL's tiles per frame
    batch_axis: bool = False  # the model takes a leading batch axis of 1

    def check_frame_count(self, num_frames: int) -> None:
        if num_frames < 1 or num_frames > self.max_frames:
            raise InvalidFrameCount(f"{self.title} takes 1 to {self.max_frames} frames, not {num_frames}.")
        if num_frames % self.frame_multiple:
            lower = max(self.frame_multiple, num_frames - num_frames % self.frame_multiple)
            raise InvalidFrameCount(
                f"{self.title} takes frames in groups of {self.frame_multiple}: use {lower} or {lower + self.frame_multiple}, not {num_frames}."
            )


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family(
            name="internvideo2",
            title="InternVideo2-Chat",
            default_frames=8,
            max_frames=64,
            sample=sampling.sample_internvideo2,
            transform=preprocess.internvideo2,
            frame_axis=0,
        ),
        Family(
            name="internvideo2-hd",
            title="InternVideo2-Chat-HD",
            default_frames=8,
            max_frames=64,
            sample=sampling.sample_internvideo2,
            transform=preprocess.internvideo2_hd,
            frame_axis=1,
            batch_axis=True,
        ),
        Family(
            name="internvl2",
            title="InternVL2",
            default_frames=8,
            max_frames=64,
            sample=sampling.sample_internvl2,
            transform=preprocess.internvl,
            frame_axis=0,
            has_patches=True,
        ),
        Family(
            name="internvideo2.5",
            title="InternVideo2.5",
            default_frames=128,
            max_frames=512,
            sample=sampling.sample_internvideo25,
            transform=preprocess.internvl,
            frame_axis=0,
            frame_multiple=4,
            has_patches=True,
        ),
        # transformers' own video models (LLaVA-OneVision, Qwen2-VL): uniform midpoints as
        # InternVL2, raw frames handed to the model's processor.
        Family(
            name="native",
            title="A transformers video model",  # begins the sentences of its refusals
            default_frames=8,
            max_frames=64,
            sample=sampling.sample_internvl2,
            transform=preprocess.native_frames,
            frame_axis=0,
        ),
    )
}


def get_family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown model family {name!r}; known: {', '.join(FAMILIES)}") from None
