"""Qwen2.5-VL (Qwen/Qwen2.5-VL-3B/7B/32B/72B-Instruct): 2 frames a second up to the count asked, transformers' own classes.

Runs in the "current" runtime (transformers 5.x); its time marks are positions, not text: the frames'
mean spacing is handed to the processor as the video's rate (backends/current.py).
"""

from __future__ import annotations

from videochat.families.family import Backend, Family
from videochat.frames import preprocess, qwen_sampling

FAMILY = Family(
    name="qwen2.5-vl",
    title="Qwen2.5-VL",
    default_frames=32,
    max_frames=qwen_sampling.MAX_FRAMES,
    sample=qwen_sampling.sample_qwen,
    transform=preprocess.native_frames,
    frame_axis=0,
    frame_multiple=qwen_sampling.FRAME_FACTOR,
    backends=(Backend("qwen2.5-vl", "videochat.backends.current:Qwen25VLBackend", shown="Qwen2.5-VL", model_type="qwen2_5_vl"),),
    runtime="current",
)
