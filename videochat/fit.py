"""Will it fit? A rough estimate of the memory a model needs for a question, against what is free.

weights (parameters x bytes at the precision) + the key/value cache of every token the
question puts in context (video tokens, prompt, answer) + activations, which grow with the
frames encoded at once and are taken here as a share of the rest plus a fixed runtime cost.
It is meant to tell "fits" from "will not" before a 16 GB download or an out-of-memory error,
not to predict the last megabyte.
"""

from __future__ import annotations

from dataclasses import dataclass

from videochat.catalog import CatalogEntry

BYTES_PER_PARAMETER = {"float32": 4.0, "bfloat16": 2.0, "float16": 2.0, "8bit": 1.0, "4bit": 0.5}
PROMPT_TOKENS = 300
RUNTIME_OVERHEAD_BYTES = 600_000_000  # CUDA context, allocator slack, tokenizer, Python
ACTIVATION_SHARE = 0.15
TIGHT_MARGIN = 0.9  # above this share of free memory, say it is tight


@dataclass(frozen=True)
class FitEstimate:
    weights_bytes: int
    context_tokens: int
    cache_bytes: int
    activation_bytes: int
    free_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.weights_bytes + self.cache_bytes + self.activation_bytes

    @property
    def verdict(self) -> str:
        if self.total_bytes > self.free_bytes:
            return "too big"
        return "tight" if self.total_bytes > TIGHT_MARGIN * self.free_bytes else "fits"

    @property
    def message(self) -> str:
        need, free = self.total_bytes / 1e9, self.free_bytes / 1e9
        if self.verdict == "too big":
            return f"Needs about {need:.1f} GB, {free:.1f} GB free: use fewer frames, a lower precision or a smaller model."
        if self.verdict == "tight":
            return f"Needs about {need:.1f} GB of the {free:.1f} GB free: it may run out of memory on long answers."
        return f"Needs about {need:.1f} GB; {free:.1f} GB free."


def estimate_fit(entry: CatalogEntry, precision: str, frames: int, free_bytes: int, max_new_tokens: int = 512) -> FitEstimate:
    if precision not in BYTES_PER_PARAMETER:
        raise ValueError(f"unknown precision {precision!r}")
    weights = int(entry.parameters * 1e9 * BYTES_PER_PARAMETER[precision])
    tokens = frames * entry.tokens_per_frame + PROMPT_TOKENS + max_new_tokens
    # Quantisation shrinks the weights only; the cache stays in the compute precision (2 bytes).
    cache_element = 4 if precision == "float32" else 2
    cache = 2 * entry.llm_layers * entry.llm_kv_width * tokens * cache_element
    activations = int(ACTIVATION_SHARE * (weights + cache)) + RUNTIME_OVERHEAD_BYTES
    return FitEstimate(weights, tokens, cache, activations, free_bytes)


def free_memory_bytes(device) -> int:
    """Free memory on `device` (a torch.device): the GPU's, or the machine's for CPU and MPS."""
    import torch

    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    import psutil

    return int(psutil.virtual_memory().available)
