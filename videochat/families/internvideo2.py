"""InternVideo2-Chat (OpenGVLab/InternVideo2-Chat-8B): 8 segment midpoints, 224 short side and centre crop, its own code."""

from __future__ import annotations

import re

from videochat.families.family import Backend, Family, ModelConfig
from videochat.frames import preprocess, sampling
from videochat.models.model_json import config_value

BACKEND_TARGET = "videochat.backends.internvideo2:InternVideo2Backend"


def is_internvideo2(config: ModelConfig) -> bool:
    return "InternVideo2_VideoChat2" in config.auto_map or config.model_type.startswith("InternVideo2_VideoChat2")


def is_hd(config: ModelConfig) -> bool:
    """The HD checkpoint: its config's hd_num (at the top or in model_config), else an HD name."""
    model_config = config.value("model_config", dict, {})
    return bool(
        config.value("hd_num", (int, float), None)
        or config_value(model_config, "hd_num", (int, float), None)
        or re.search(r"[_-]HD\b", config.name_or_path)
    )


FAMILY = Family(
    name="internvideo2",
    title="InternVideo2-Chat",
    default_frames=8,
    max_frames=64,
    sample=sampling.sample_internvideo2,
    transform=preprocess.internvideo2,
    frame_axis=0,
    backends=(Backend("internvideo2", BACKEND_TARGET, shown="InternVideo2", recognises=lambda config: is_internvideo2(config) and not is_hd(config)),),
    runs_model_code=True,
)
