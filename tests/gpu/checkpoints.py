"""What the GPU tests share: one tiny checkpoint per family, frames made in memory, a hook per token, a full device.

The GPU machine has no PyAV, so nothing here decodes video: the frames are random pictures handed to
`prepare_frames` (the core's seam for frames already decoded, which `videochat serve` also uses), with a
sample whose indices and times are made up the way the family's own rule would report them.
"""

from __future__ import annotations

import contextlib
import gc
from pathlib import Path

import numpy as np

from tests.support.standins import build_hub_extras, build_internvideo2, build_internvideo25, build_internvl2
from tests.support.tiny_native import build_llava_onevision, build_qwen2_vl
from videochat.backends import create_backend
from videochat.backends.base import LoadOptions
from videochat.families import get_family
from videochat.frames import sampling
from videochat.frames.pipeline import PreparedVideo, prepare_frames
from videochat.frames.sampling import FrameSample
from videochat.models.resolve import resolve_model

# Every family the app runs: transformers' own models, then the remote-code stand-ins of the seed checkpoints.
FAMILIES = ("llava-onevision", "qwen2-vl", "internvl2", "internvideo2.5", "internvideo2", "internvideo2-hd")
REMOTE_CODE = {"internvl2", "internvideo2.5", "internvideo2", "internvideo2-hd"}
FRAMES = 8  # a multiple of 4, as InternVideo2.5 takes them
FPS = 25.0
FRAME_STEP = 3  # the made-up clip's frames between two sampled ones


def build_checkpoints(root: Path, hub_cache: Path) -> dict[str, Path]:
    """One tiny checkpoint folder per family; InternVideo2-Chat's extra repos go into `hub_cache`."""
    build_hub_extras(hub_cache, root / "scratch")
    return {
        "llava-onevision": build_llava_onevision(root / "llava-onevision"),
        "qwen2-vl": build_qwen2_vl(root / "qwen2-vl"),
        "internvl2": build_internvl2(root / "InternVL2-tiny"),
        "internvideo2.5": build_internvideo25(root / "InternVideo2_5-tiny"),
        "internvideo2": build_internvideo2(root / "InternVideo2-Chat-tiny"),
        "internvideo2-hd": build_internvideo2(root / "InternVideo2-Chat-HD-tiny", hd=True),
    }


def load(folder: Path, **options):
    """The model in `folder`, loaded as the app loads it (catalog, backend registry, offline, the user's yes to its code)."""
    backend = create_backend(resolve_model(str(folder)), LoadOptions(trust_remote_code=True, **options))
    backend.load()
    return backend


def prepared_in_memory(family_name: str, count: int = FRAMES, height: int = 72, width: int = 96) -> PreparedVideo:
    """`count` random frames prepared as `family_name`'s model takes them, with no video file and no decoder."""
    family = get_family(family_name)
    family.check_frame_count(count)
    indices = np.arange(count, dtype=np.int64) * FRAME_STEP
    message = sampling.internvideo2_message(indices, FPS) if family.sample is sampling.sample_internvideo2 else None
    sample = FrameSample(indices, indices / FPS, message, None)
    pictures = np.random.default_rng(0).integers(0, 256, (count, height, width, 3), dtype=np.uint8)
    return prepare_frames(family, sample, iter(pictures))


def token_embeddings(backend):
    """The module that embeds the language model's input ids: it runs once for the prompt, then once per new token."""
    inner = getattr(backend, "inner_language_model", None)
    return (getattr(backend.model, inner) if inner else backend.model).get_input_embeddings()


@contextlib.contextmanager
def on_each_token(backend, action):
    """Call `action(step)` on the generating thread each time the language model embeds ids; yields the steps seen."""
    steps: list[int] = []

    def before_forward(module, args):
        steps.append(len(steps) + 1)
        action(len(steps))

    handle = token_embeddings(backend).register_forward_pre_hook(before_forward)
    try:
        yield steps
    finally:
        handle.remove()


def allocated(device) -> int:
    """Bytes of tensors on `device`, after garbage collection, cuBLAS's kept workspaces left out.

    cuBLAS keeps a workspace per handle and stream once a thread has multiplied matrices; it belongs to
    torch, not to the model, and would otherwise count against the first model loaded.
    """
    import torch

    gc.collect()
    clear_workspaces = getattr(torch._C, "_cuda_clearCublasWorkspaces", None)
    if clear_workspaces is not None:
        clear_workspaces()
    return torch.cuda.memory_allocated(device)


@contextlib.contextmanager
def device_memory_filled(device):
    """Every byte of `device` taken by this test's tensors: one big tensor, then smaller ones until none fits.

    The smaller ones also fill what the caching allocator already holds (the 2 MB blocks that small
    tensors share, the 20 MB ones of middling tensors), so that the model's next tensor, however small,
    finds no room.
    """
    import torch

    held = []
    torch.cuda.empty_cache()
    free, _ = torch.cuda.mem_get_info(device)
    with contextlib.suppress(torch.cuda.OutOfMemoryError):
        held.append(torch.empty(max(free - 256 * 2**20, 0), dtype=torch.uint8, device=device))
    for size in (64 * 2**20, 2**20 + 1, 512):
        while True:
            try:
                held.append(torch.empty(size, dtype=torch.uint8, device=device))
            except torch.cuda.OutOfMemoryError:
                break
    try:
        yield
    finally:
        held.clear()
        torch.cuda.empty_cache()


def importable(module: str) -> str | None:
    """None when `module` imports; else why not, for a skip's reason."""
    import importlib

    try:
        importlib.import_module(module)
    except Exception as error:  # an installed package can fail on import too (bitsandbytes without its CUDA library)
        return f"{type(error).__name__}: {error}"
    return None
