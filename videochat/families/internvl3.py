"""InternVL3 and InternVL3.5 in transformers' own format (OpenGVLab/InternVL3-*-hf, InternVL3_5-*-HF): InternVL2's rule.

The card's `load_video` is InternVL2's (uniform segment midpoints, one 448 tile a frame, `Frame{i}:`
before each), so the frames are InternVL2's; the checkpoint's processor resizes them to 448 x 448.
Runs in the "current" runtime (transformers 5.x). The remote-code checkpoints (model_type
internvl_chat) stay with the InternVL2 family.
"""

from __future__ import annotations

from videochat.families.family import Backend, Family
from videochat.frames import preprocess, sampling

FAMILY = Family(
    name="internvl3",
    title="InternVL3",
    default_frames=8,
    max_frames=64,
    sample=sampling.sample_internvl2,
    transform=preprocess.native_frames,
    frame_axis=0,
    backends=(Backend("internvl3", "videochat.backends.current:InternVL3Backend", shown="InternVL3", model_type="internvl"),),
    runtime="current",
)
