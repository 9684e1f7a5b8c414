"""Qwen3-VL (Qwen/Qwen3-VL-2B/4B/8B/32B-Instruct, 30B-A3B): 2 frames a second up to the count asked, transformers' own classes.

Runs in the "current" runtime (transformers 5.x). Its prompt carries one `<t seconds>` mark per two
frames, written by its processor from the frames' true times (backends/current.py).
"""

from __future__ import annotations

from videochat.families.family import Backend, Family
from videochat.frames import preprocess, qwen_sampling

FAMILY = Family(
    name="qwen3-vl",
    title="Qwen3-VL",
    default_frames=32,
    max_frames=qwen_sampling.MAX_FRAMES,
    sample=qwen_sampling.sample_qwen,
    transform=preprocess.native_frames,
    frame_axis=0,
    frame_multiple=qwen_sampling.FRAME_FACTOR,
    backends=(
        Backend("qwen3-vl", "videochat.backends.current:Qwen3VLBackend", shown="Qwen3-VL", model_type="qwen3_vl"),
        Backend("qwen3-vl-moe", "videochat.backends.current:Qwen3VLMoeBackend", model_type="qwen3_vl_moe"),
    ),
    runtime="current",
)
