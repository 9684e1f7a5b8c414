"""transformers' own video models (LLaVA-OneVision, Qwen2-VL): uniform midpoints as InternVL2, raw frames to the processor.

One video rule, one backend per architecture, chosen by the config's model_type; none runs the
folder's code.
"""

from __future__ import annotations

from videochat.families.family import Backend, Family
from videochat.frames import preprocess, sampling

FAMILY = Family(
    name="native",
    title="A transformers video model",  # begins the sentences of its refusals
    default_frames=8,
    max_frames=64,
    sample=sampling.sample_internvl2,
    transform=preprocess.native_frames,
    frame_axis=0,
    backends=(
        Backend("llava-onevision", "videochat.backends.native:LlavaOneVisionBackend", shown="LLaVA-OneVision", model_type="llava_onevision"),
        Backend("qwen2-vl", "videochat.backends.native:Qwen2VLBackend", shown="Qwen2-VL", model_type="qwen2_vl"),
    ),
)
