"""Qwen2.5-VL in transformers' own format, run by the current runtime (transformers 5.x).

A stand-in declaration of this branch: the family module of the `current` branch (its frame rule,
transform and backend) replaces this file when both are merged; until then it only says which
runtime the family needs and which config.json is its, so that the catalog and the routing work.
"""

from __future__ import annotations

from videochat.families.family import Backend, Family
from videochat.frames import preprocess, sampling

FAMILY = Family(
    name="qwen2_5_vl",
    title="Qwen2.5-VL",
    default_frames=8,
    max_frames=256,
    sample=sampling.sample_internvl2,
    transform=preprocess.native_frames,
    frame_axis=0,
    backends=(Backend("qwen2_5_vl", "videochat.backends.native:Qwen2VLBackend", shown="Qwen2.5-VL", model_type="qwen2_5_vl"),),
    runtime="current",
)
