"""The models the app knows, with the facts the model manager, the fit estimate and the loader need.

Sizes are the checkpoints' download sizes as the hub lists them (rounded); parameter counts
come from the model cards. The newer families' figures (Qwen2.5-VL, Qwen3-VL, InternVL3/3.5) were
written from the model cards and configs as known when they were added, not read from the hub
(which cannot be reached from the build machines): bf16 weights, so about 2 bytes a parameter. An entry names its family (a module of `videochat.families`, which
knows how to sample, feed and load it); `videochat.models.resolve` turns any name, repo id or
folder into a `ModelRef`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

__all__ = ["CATALOG", "CatalogEntry", "find_entry"]

GB = 1_000_000_000

@dataclass(frozen=True)
class CatalogEntry:
    repo_id: str
    family: str  # the name of a family in videochat.families
    parameters: float  # billions
    download_bytes: int
    gated: bool = False
    extra_repos: tuple[str, ...] = ()  # fetched with it; read by its code at load time
    default_frames: int = 8
    tokens_per_frame: int = 256
    vision_6b: bool = False  # InternViT-6B: its card warns against 4-bit quantisation
    llm_layers: int = 32  # of the language model, for the key/value cache part of the fit estimate
    llm_kv_width: int = 1024  # key/value heads x head size
    notes: str = ""
    label: str = ""  # shown to people; see LABEL_STYLE
    backend: str = ""  # which of its family's backends, where the family has several (transformers' own models)
    hd_twin: str = ""  # the repo id of its HD (or plain) variant, which the window's HD switch loads

    @property
    def name(self) -> str:
        """The repo's own name: what answers and results carried before labels; still accepted."""
        return self.repo_id.split("/")[-1]

    @property
    def shown_name(self) -> str:
        return self.label or self.name


# One style for every label: the model's words joined by hyphens, a version with a dot, sizes in B,
# each word capitalised as its authors write it. Labels, names and repo ids are all accepted by
# `find_entry` (case-insensitively), so a label may never equal another entry's name.
LABEL_STYLE = re.compile(r"[A-Za-z][A-Za-z0-9.]*(-[A-Za-z0-9.]+)*")
_LABELS = {
    "OpenGVLab/InternVideo2_chat_8B_HD": "InternVideo2-Chat-8B-HD",
    "OpenGVLab/InternVideo2_5_Chat_8B": "InternVideo2.5-Chat-8B",
    "llava-hf/llava-onevision-qwen2-0.5b-ov-hf": "LLaVA-OneVision-Qwen2-0.5B-OV",
    "llava-hf/llava-onevision-qwen2-7b-ov-hf": "LLaVA-OneVision-Qwen2-7B-OV",
    **{f"OpenGVLab/InternVL3-{size}-hf": f"InternVL3-{size}" for size in ("1B", "2B", "8B", "9B", "14B", "38B", "78B")},
    **{f"OpenGVLab/InternVL3_5-{size}-HF": f"InternVL3.5-{size}" for size in ("1B", "2B", "4B", "8B", "14B", "38B", "30B-A3B")},
}


# name, billions of parameters, GB to download, InternViT-6B, LLM layers, LLM key/value width
_INTERNVL2 = [
    ("InternVL2-1B", 0.9, 1.9, False, 24, 128),  # Qwen2-0.5B
    ("InternVL2-2B", 2.2, 4.4, False, 24, 1024),  # InternLM2-1.8B
    ("InternVL2-4B", 4.2, 8.3, False, 32, 3072),  # Phi-3-mini, no grouped-query attention
    ("InternVL2-8B", 8.1, 16.2, False, 32, 1024),  # InternLM2.5-7B
    ("InternVL2-26B", 25.5, 51.0, True, 48, 1024),  # InternLM2-20B
    ("InternVL2-40B", 40.1, 80.3, True, 60, 1024),  # Nous-Hermes-2-Yi-34B
    ("InternVL2-Llama3-76B", 76.3, 153.0, True, 80, 1024),  # Hermes-2-Theta-Llama-3-70B
]

# The current runtime's models (transformers 5.x). Facts from the model cards and their configs, as known
# when these were added (the hub cannot be read here): name, billions of parameters, GB to download
# (bf16), LLM layers, LLM key/value width (key/value heads x head size), InternViT-6B.
_QWEN2_5_VL = [
    ("Qwen2.5-VL-3B-Instruct", 3.8, 7.5, 36, 256),  # Qwen2.5-3B: 2 KV heads x 128
    ("Qwen2.5-VL-7B-Instruct", 8.3, 16.6, 28, 512),  # Qwen2.5-7B: 4 x 128
    ("Qwen2.5-VL-32B-Instruct", 33.5, 67.0, 64, 1024),  # Qwen2.5-32B: 8 x 128
    ("Qwen2.5-VL-72B-Instruct", 73.4, 146.8, 80, 1024),  # Qwen2.5-72B: 8 x 128
]
_QWEN3_VL = [
    ("Qwen3-VL-2B-Instruct", 2.1, 4.3, 28, 1024, "qwen3-vl"),  # Qwen3-1.7B: 8 KV heads x 128
    ("Qwen3-VL-4B-Instruct", 4.4, 8.9, 36, 1024, "qwen3-vl"),  # Qwen3-4B: 8 x 128
    ("Qwen3-VL-8B-Instruct", 8.8, 17.5, 36, 1024, "qwen3-vl"),  # Qwen3-8B: 8 x 128
    ("Qwen3-VL-32B-Instruct", 33.4, 66.8, 64, 1024, "qwen3-vl"),  # Qwen3-32B: 8 x 128
    ("Qwen3-VL-30B-A3B-Instruct", 31.1, 62.2, 48, 512, "qwen3-vl-moe"),  # Qwen3-30B-A3B (MoE, 3B active): 4 x 128
]
_INTERNVL3 = [
    ("InternVL3-1B-hf", 0.9, 1.9, 24, 128, False),  # Qwen2.5-0.5B: 2 KV heads x 64
    ("InternVL3-2B-hf", 2.1, 4.2, 28, 256, False),  # Qwen2.5-1.5B: 2 x 128
    ("InternVL3-8B-hf", 7.9, 15.9, 28, 512, False),  # Qwen2.5-7B: 4 x 128
    ("InternVL3-9B-hf", 9.1, 18.3, 48, 256, False),  # InternLM3-8B: 2 x 128
    ("InternVL3-14B-hf", 15.1, 30.2, 48, 1024, False),  # Qwen2.5-14B: 8 x 128
    ("InternVL3-38B-hf", 38.4, 76.8, 64, 1024, True),  # Qwen2.5-32B
    ("InternVL3-78B-hf", 78.4, 156.8, 80, 1024, True),  # Qwen2.5-72B
]
# InternVL3.5 in transformers' format: the repos end in -HF (capitals; the cache's folder names keep the case).
# 241B-A28B (480 GB) is left out: no desktop holds it.
_INTERNVL3_5 = [
    ("InternVL3_5-1B-HF", 1.1, 2.1, 28, 1024, False),  # Qwen3-0.6B: 8 KV heads x 128
    ("InternVL3_5-2B-HF", 2.3, 4.7, 28, 1024, False),  # Qwen3-1.7B
    ("InternVL3_5-4B-HF", 4.7, 9.5, 36, 1024, False),  # Qwen3-4B
    ("InternVL3_5-8B-HF", 8.5, 17.1, 36, 1024, False),  # Qwen3-8B
    ("InternVL3_5-14B-HF", 15.1, 30.2, 40, 1024, False),  # Qwen3-14B
    ("InternVL3_5-38B-HF", 38.4, 76.8, 64, 1024, True),  # Qwen3-32B
    ("InternVL3_5-30B-A3B-HF", 30.8, 61.7, 48, 512, False),  # Qwen3-30B-A3B (MoE): 4 x 128
]
# Tokens a frame: Qwen2.5-VL/Qwen3-VL merge two frames into one grid (about 360 and 256 tokens a frame at
# their video processors' default pixel budgets for 720p); InternVL3/3.5 take one 448 tile a frame (256).
QWEN_FRAMES = 32  # the Qwen families' default most frames (2 fps up to this count, videochat/frames/qwen_sampling.py)

_INTERNVIDEO2_EXTRAS = ("mistralai/Mistral-7B-Instruct-v0.3", "bert-base-uncased")  # the names its code asks the cache for

CATALOG: tuple[CatalogEntry, ...] = (
    *(
        CatalogEntry(f"OpenGVLab/{name}", "internvl2", params, int(size * GB), vision_6b=six_b, llm_layers=layers, llm_kv_width=kv)
        for name, params, size, six_b, layers, kv in _INTERNVL2
    ),
    CatalogEntry(
        "OpenGVLab/InternVideo2-Chat-8B", "internvideo2", 8.0, int(16.7 * GB), gated=True, hd_twin="OpenGVLab/InternVideo2_chat_8B_HD",
        extra_repos=_INTERNVIDEO2_EXTRAS, tokens_per_frame=12,
        notes="Needs access to this repo and to Mistral-7B-Instruct-v0.3 on the hub.",
    ),
    CatalogEntry(
        "OpenGVLab/InternVideo2_chat_8B_HD", "internvideo2-hd", 8.0, int(16.7 * GB), gated=True, hd_twin="OpenGVLab/InternVideo2-Chat-8B",
        extra_repos=_INTERNVIDEO2_EXTRAS, tokens_per_frame=36,
        notes="Needs access to this repo and to Mistral-7B-Instruct-v0.3 on the hub.",
    ),
    CatalogEntry(
        "OpenGVLab/InternVideo2_5_Chat_8B", "internvideo2.5", 8.1, int(16.3 * GB),
        default_frames=128, tokens_per_frame=16,
    ),
    CatalogEntry("llava-hf/llava-onevision-qwen2-0.5b-ov-hf", "native", 0.9, int(1.8 * GB), tokens_per_frame=196, backend="llava-onevision", llm_layers=24, llm_kv_width=128),
    CatalogEntry("llava-hf/llava-onevision-qwen2-7b-ov-hf", "native", 8.0, int(16.1 * GB), tokens_per_frame=196, backend="llava-onevision", llm_layers=28, llm_kv_width=512),
    # Qwen2-VL: up to 384 tokens a frame under its card's pixel budget (about 360 for 720p video).
    CatalogEntry("Qwen/Qwen2-VL-2B-Instruct", "native", 2.2, int(4.4 * GB), tokens_per_frame=360, backend="qwen2-vl", llm_layers=28, llm_kv_width=256),
    CatalogEntry("Qwen/Qwen2-VL-7B-Instruct", "native", 8.3, int(16.6 * GB), tokens_per_frame=360, backend="qwen2-vl", llm_layers=28, llm_kv_width=512),
    *(
        CatalogEntry(f"Qwen/{name}", "qwen2.5-vl", params, int(size * GB), default_frames=QWEN_FRAMES, tokens_per_frame=360, llm_layers=layers, llm_kv_width=kv)
        for name, params, size, layers, kv in _QWEN2_5_VL
    ),
    *(
        CatalogEntry(f"Qwen/{name}", "qwen3-vl", params, int(size * GB), default_frames=QWEN_FRAMES, tokens_per_frame=256, llm_layers=layers,
                     llm_kv_width=kv, backend=backend)
        for name, params, size, layers, kv, backend in _QWEN3_VL
    ),
    *(
        CatalogEntry(f"OpenGVLab/{name}", "internvl3", params, int(size * GB), vision_6b=six_b, llm_layers=layers, llm_kv_width=kv)
        for name, params, size, layers, kv, six_b in _INTERNVL3 + _INTERNVL3_5
    ),
)

CATALOG = tuple(replace(entry, label=_LABELS.get(entry.repo_id, entry.name)) for entry in CATALOG)

BY_REPO = {entry.repo_id.lower(): entry for entry in CATALOG}
BY_NAME = {entry.name.lower(): entry for entry in CATALOG}
BY_LABEL = {entry.label.lower(): entry for entry in CATALOG}


def find_entry(name: str) -> CatalogEntry | None:
    """The catalog entry a repo id, repo name (the old names) or label names, case-insensitively."""
    key = name.strip().lower()
    return BY_REPO.get(key) or BY_NAME.get(key) or BY_LABEL.get(key)
