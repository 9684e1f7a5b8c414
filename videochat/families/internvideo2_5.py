"""InternVideo2.5 (OpenGVLab/InternVideo2_5_Chat_8B): InternVL2.5 with HiCo compression, frames in groups of 4, its own code."""

from __future__ import annotations

from videochat.families.family import Backend, Family
from videochat.families.internvl2 import BACKEND_TARGET, is_hico, is_internvl
from videochat.frames import preprocess, sampling

FAMILY = Family(
    name="internvideo2.5",
    title="InternVideo2.5",
    default_frames=128,
    max_frames=512,
    sample=sampling.sample_internvideo25,
    transform=preprocess.internvl,
    frame_axis=0,
    frame_multiple=4,
    has_patches=True,
    backends=(Backend("internvl", BACKEND_TARGET, shown="InternVideo2.5", recognises=lambda config: is_internvl(config) and is_hico(config)),),
    runs_model_code=True,
)
