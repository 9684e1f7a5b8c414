"""Will it fit? A rough estimate of the memory a model needs for a question, against what is free.

weights (parameters x bytes at the precision) + the key/value cache of every token the
question puts in context (video tokens, prompt, answer) + activations, which grow with the
frames encoded at once and are taken here as a share of the rest plus a fixed runtime cost.
It is meant to tell "fits" from "will not" before a 16 GB download or an out-of-memory error,
not to predict the last megabyte.
"""

from __future__ import annotations

from dataclasses import dataclass

from videochat.models.catalog import CatalogEntry

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
    return available_ram_bytes()


def available_ram_bytes() -> int:
    """RAM that can be used without swapping: Linux's MemAvailable, psutil's reading elsewhere.

    Read from /proc where there is one: importing psutil loads its C extension with Python's lock
    held, which stalls the desktop's GUI thread.
    """
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    import psutil

    return int(psutil.virtual_memory().available)


@dataclass(frozen=True)
class MachineBudget:
    """Memory a model may use on this machine, found without importing torch."""

    device: str  # "cuda" or "cpu"
    memory_bytes: int
    precision: str
    description: str


def machine_budget() -> MachineBudget:
    """The largest NVIDIA GPU's memory (nvidia-smi, bfloat16), else the machine's available RAM (float32)."""
    import shutil
    import subprocess

    if shutil.which("nvidia-smi"):
        try:
            output = subprocess.run(
                ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"],
                capture_output=True, text=True, timeout=5, check=True,
            ).stdout
            gpus = [(name.strip(), int(float(mib)) << 20) for name, mib in (line.rsplit(",", 1) for line in output.strip().splitlines())]
            if gpus:
                name, memory = max(gpus, key=lambda gpu: gpu[1])
                return MachineBudget("cuda", memory, "bfloat16", f"{name}, {memory / 1e9:.0f} GB")
        except (OSError, subprocess.SubprocessError, ValueError):
            pass  # no usable GPU: the CPU's budget below
    available = available_ram_bytes()
    return MachineBudget("cpu", available, "float32", f"CPU only, {available / 1e9:.0f} GB of RAM available")


def fits(entry: CatalogEntry, budget: MachineBudget) -> FitEstimate:
    return estimate_fit(entry, budget.precision, entry.default_frames, budget.memory_bytes)


# Best first: the video-trained models, then InternVL2 by size. On a CPU only the smallest is worth it.
RECOMMENDATION_ORDER = (
    "InternVideo2_5_Chat_8B", "InternVL2-8B", "Qwen2-VL-7B-Instruct", "InternVL2-4B", "InternVL2-2B", "InternVL2-1B",
)


def recommend(budget: MachineBudget) -> CatalogEntry:
    """The model to suggest first on this machine."""
    from videochat.models.catalog import find_entry

    if budget.device == "cpu":
        return find_entry("InternVL2-1B")
    for name in RECOMMENDATION_ORDER:
        entry = find_entry(name)
        if fits(entry, budget).verdict == "fits":
            return entry
    return find_entry("InternVL2-1B")
