"""What a model family declares: its video rule (frame count, sampler, transform), its backends, its config.json.

Each module of `videochat.families` declares one `FAMILY`; the package's registry finds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable

from videochat.errors import InvalidFrameCount
from videochat.models.model_json import auto_map_references, config_value


class ModelConfig:
    """A folder's config.json as recognisers read it, its fields type-checked (a wrong type is a `BadModelFolder`).

    The name it records is read only when a recogniser asks for it, so that a model identified
    by its model_type is not refused for a name field no one looks at.
    """

    def __init__(self, config: dict, folder_name: str = ""):
        self.config = config
        self.folder_name = folder_name
        self.architectures: list = self.value("architectures", list, [])
        self.model_type: str = self.value("model_type", str, "")
        self.auto_map = " ".join(auto_map_references(config.get("auto_map")))  # its "module.Class" references

    def value(self, key: str, kind: type | tuple[type, ...], default=None):
        return config_value(self.config, key, kind, default)

    @cached_property
    def name_or_path(self) -> str:
        """The checkpoint's own name as its config recorded it, and the folder's name."""
        return " ".join((self.value("_name_or_path", str, "") or self.value("name_or_path", str, ""), self.folder_name))


@dataclass(frozen=True)
class Backend:
    """How a family's models load: `target` ("module:Class") is imported only when a model loads.

    A folder's config.json is this backend's when its `model_type` is `model_type`, or else when
    `recognises` says so (remote-code checkpoints, whose model_type varies).
    """

    name: str  # what ModelRef.backend holds
    target: str
    shown: str = ""  # the model's name in "choose a ... model"; "" for a variant named by another
    model_type: str = ""
    recognises: Callable[[ModelConfig], bool] | None = None


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
    backends: tuple[Backend, ...] = ()
    runs_model_code: bool = False  # its backends load with trust_remote_code=True (the folder's own code)
    runtime: str = "seed"  # which Python environment runs its model process (videochat.runtimes)

    def check_frame_count(self, num_frames: int) -> None:
        if num_frames < 1 or num_frames > self.max_frames:
            raise InvalidFrameCount(f"{self.title} takes 1 to {self.max_frames} frames, not {num_frames}.")
        if num_frames % self.frame_multiple:
            lower = max(self.frame_multiple, num_frames - num_frames % self.frame_multiple)
            raise InvalidFrameCount(
                f"{self.title} takes frames in groups of {self.frame_multiple}: use {lower} or {lower + self.frame_multiple}, not {num_frames}."
            )
