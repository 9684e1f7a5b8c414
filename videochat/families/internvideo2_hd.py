"""InternVideo2-Chat-HD (OpenGVLab/InternVideo2_chat_8B_HD): InternVideo2-Chat's code, 2 sub-images and 1 global view a frame."""

from __future__ import annotations

from videochat.families.family import Backend, Family
from videochat.families.internvideo2 import BACKEND_TARGET, is_hd, is_internvideo2
from videochat.frames import preprocess, sampling

FAMILY = Family(
    name="internvideo2-hd",
    title="InternVideo2-Chat-HD",
    default_frames=8,
    max_frames=64,
    sample=sampling.sample_internvideo2,
    transform=preprocess.internvideo2_hd,
    frame_axis=1,
    batch_axis=True,
    backends=(Backend("internvideo2", BACKEND_TARGET, recognises=lambda config: is_internvideo2(config) and is_hd(config)),),
    runs_model_code=True,
)
