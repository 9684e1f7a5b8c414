"""What every backend needs to load a model: where it is, on which device, in which precision.

Loading never touches the network: a repo id must already be in the Hugging Face cache
(the model manager downloads), and every `from_pretrained` runs with `local_files_only`.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from videochat import paths
from videochat.models.resolve import ModelRef, not_downloaded_message
from videochat.errors import ModelNotDownloaded, UnsupportedSetting

PRECISIONS = ("auto", "float32", "bfloat16", "float16", "8bit", "4bit")


def resolve_device(requested: str = "auto"):
    import torch

    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if hasattr(torch.backends, "mps") and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(requested)
    except RuntimeError as error:
        raise UnsupportedSetting(f"{requested!r} is not a device: use auto, cpu, cuda, cuda:N or mps.") from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UnsupportedSetting("No CUDA GPU is available here (or this torch is a CPU build): use --device cpu.")
    if device.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise UnsupportedSetting("Apple's MPS is not available here: use --device cpu.")
    return device


def resolve_precision(device, precision: str = "auto", ref: ModelRef | None = None):
    """(torch dtype, quantization or None). CPU gets float32: bf16 there is many times slower."""
    import torch

    if precision not in PRECISIONS:
        raise UnsupportedSetting(f"{precision!r} is not a precision: use one of {', '.join(PRECISIONS)}.")
    if precision in ("8bit", "4bit"):
        if device.type != "cuda":
            raise UnsupportedSetting(f"{precision} quantisation needs a CUDA GPU (bitsandbytes).")
        if precision == "4bit" and ref is not None and ref.entry is not None and ref.entry.vision_6b:
            raise UnsupportedSetting(
                f"{ref.display_name} has the InternViT-6B vision encoder, whose card warns that 4-bit quantisation "
                "makes it answer nonsense: use 8bit or bfloat16."
            )
        try:
            import bitsandbytes  # noqa: F401
        except ImportError as error:
            raise UnsupportedSetting(f"{precision} quantisation needs the bitsandbytes package: pip install bitsandbytes") from error
        return (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16), precision
    if precision == "auto":
        if device.type == "cuda":
            return (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16), None
        if device.type == "mps":
            return torch.float16, None
        return torch.float32, None
    return getattr(torch, precision), None


def quantization_config(quantization: str | None):
    if quantization is None:
        return None
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_8bit=quantization == "8bit", load_in_4bit=quantization == "4bit")


def model_location(ref: ModelRef) -> str:
    """The folder to load from: the local folder, under a module-safe name, or the cached snapshot."""
    if ref.local_folder is not None:
        return str(module_safe_folder(ref.local_folder))
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return snapshot_download(ref.source, revision=ref.revision, local_files_only=True)
    except (LocalEntryNotFoundError, FileNotFoundError) as error:
        raise ModelNotDownloaded(not_downloaded_message(ref.source) + ref.hint) from error


_UNSAFE = re.compile(r"[^0-9A-Za-z_-]")


def module_safe_folder(folder: Path) -> Path:
    """transformers imports a folder's code as a module named after the folder: `InternVL2.0-1B` breaks it.

    Such folders are reached through a link with a safe name instead of being renamed.
    """
    if not _UNSAFE.search(folder.name):
        return folder
    links = paths.model_links_folder()
    links.mkdir(parents=True, exist_ok=True)
    link = links / _UNSAFE.sub("_", folder.name)
    if link.is_symlink() and Path(os.readlink(link)) != folder:
        link.unlink()
    if not link.exists():
        link.symlink_to(folder, target_is_directory=True)
    return link


@contextlib.contextmanager
def hub_offline():
    """Nothing under this waits on the network: code that calls from_pretrained by a repo name finds the cache."""
    import huggingface_hub.constants as hub_constants
    import transformers.utils.hub as transformers_hub

    saved = (os.environ.get("HF_HUB_OFFLINE"), hub_constants.HF_HUB_OFFLINE, getattr(transformers_hub, "_is_offline_mode", None))
    os.environ["HF_HUB_OFFLINE"] = "1"
    hub_constants.HF_HUB_OFFLINE = True
    if saved[2] is not None:
        transformers_hub._is_offline_mode = True
    try:
        yield
    finally:
        if saved[0] is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = saved[0]
        hub_constants.HF_HUB_OFFLINE = saved[1]
        if saved[2] is not None:
            transformers_hub._is_offline_mode = saved[2]
