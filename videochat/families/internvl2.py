"""InternVL2 (OpenGVLab/InternVL2-1B ... -Llama3-76B): the card's get_index midpoints, one 448 tile a frame, its own code."""

from __future__ import annotations

from videochat.families.family import Backend, Family, ModelConfig
from videochat.families.internvideo2 import is_internvideo2
from videochat.frames import preprocess, sampling

BACKEND_TARGET = "videochat.backends.internvl:InternVLBackend"


def is_internvl(config: ModelConfig) -> bool:
    """InternVL's code (InternVideo2.5's included); an InternVideo2 config that also names InternVL is InternVideo2's."""
    if is_internvideo2(config):
        return False
    return config.model_type == "internvl_chat" or any(isinstance(a, str) and "InternVL" in a for a in config.architectures)


def is_hico(config: ModelConfig) -> bool:
    """InternVideo2.5: InternVL's code with HiCo compression (modeling_internvl_chat_hico2.py)."""
    return "hico" in config.auto_map.lower() or "InternVideo2_5" in config.name_or_path


FAMILY = Family(
    name="internvl2",
    title="InternVL2",
    default_frames=8,
    max_frames=64,
    sample=sampling.sample_internvl2,
    transform=preprocess.internvl,
    frame_axis=0,
    has_patches=True,
    backends=(Backend("internvl", BACKEND_TARGET, shown="InternVL2", recognises=lambda config: is_internvl(config) and not is_hico(config)),),
    runs_model_code=True,
)
