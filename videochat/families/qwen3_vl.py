"""Qwen3-VL in transformers' own format, run by the current runtime (transformers 5.x).

A stand-in declaration of this branch: the family module of the `current` branch (its frame rule,
transform and backend) replaces this file when both are merged; until then it only says which
runtime the family needs and which config.json is its, so that the catalog and the routing work.
"""

from __future__ import annotations

from videochat.families.family import Backend, Family
from videochat.frames import preprocess, sampling

FAMILY = Family(
    name="qwen3_vl",
    title="Qwen3-VL",
    default_frames=8,
    max_frames=256,
    sample=sampling.sample_internvl2,
    transform=preprocess.native_frames,
    frame_axis=0,
    backends=(
        Backend("qwen3_vl", "videochat.backends.native:Qwen2VLBackend", shown="Qwen3-VL", model_type="qwen3_vl"),
        Backend("qwen3_vl_moe", "videochat.backends.native:Qwen2VLBackend", model_type="qwen3_vl_moe"),  # 30B-A3B
    ),
    runtime="current",
)
