"""The models the app knows, with the facts the model manager, the fit estimate and the loader need.

Sizes are the checkpoints' download sizes as the hub lists them (rounded); parameter counts
come from the model cards. A model can also be any local folder or repo id the user gives:
`resolve_model` turns either into a `ModelRef` that names its backend.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from videochat.errors import BadModelFolder, ModelNotDownloaded, UnknownModel

__all__ = ["CATALOG", "BadModelFolder", "CatalogEntry", "ModelRef", "UnknownModel", "find_entry", "resolve_model"]

GB = 1_000_000_000

@dataclass(frozen=True)
class CatalogEntry:
    repo_id: str
    family: str  # a key of videochat.families.FAMILIES, or "native"
    backend: str  # a key of videochat.backends.BACKENDS
    parameters: float  # billions
    download_bytes: int
    gated: bool = False
    extra_repos: tuple[str, ...] = ()  # fetched with it; read by its code at load time
    default_frames: int = 8
    tokens_per_frame: int = 256
    remote_code: bool = True
    vision_6b: bool = False  # InternViT-6B: its card warns against 4-bit quantisation
    llm_layers: int = 32  # of the language model, for the key/value cache part of the fit estimate
    llm_kv_width: int = 1024  # key/value heads x head size
    notes: str = ""

    @property
    def name(self) -> str:
        return self.repo_id.split("/")[-1]


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

_INTERNVIDEO2_EXTRAS = ("mistralai/Mistral-7B-Instruct-v0.3", "bert-base-uncased")  # the names its code asks the cache for

CATALOG: tuple[CatalogEntry, ...] = (
    *(
        CatalogEntry(f"OpenGVLab/{name}", "internvl2", "internvl", params, int(size * GB), vision_6b=six_b, llm_layers=layers, llm_kv_width=kv)
        for name, params, size, six_b, layers, kv in _INTERNVL2
    ),
    CatalogEntry(
        "OpenGVLab/InternVideo2-Chat-8B", "internvideo2", "internvideo2", 8.0, int(16.7 * GB), gated=True,
        extra_repos=_INTERNVIDEO2_EXTRAS, tokens_per_frame=12,
        notes="Needs access to this repo and to Mistral-7B-Instruct-v0.3 on the hub.",
    ),
    CatalogEntry(
        "OpenGVLab/InternVideo2_chat_8B_HD", "internvideo2-hd", "internvideo2", 8.0, int(16.7 * GB), gated=True,
        extra_repos=_INTERNVIDEO2_EXTRAS, tokens_per_frame=36,
        notes="Needs access to this repo and to Mistral-7B-Instruct-v0.3 on the hub.",
    ),
    CatalogEntry(
        "OpenGVLab/InternVideo2_5_Chat_8B", "internvideo2.5", "internvl", 8.1, int(16.3 * GB),
        default_frames=128, tokens_per_frame=16,
    ),
    CatalogEntry("llava-hf/llava-onevision-qwen2-0.5b-ov-hf", "native", "llava-onevision", 0.9, int(1.8 * GB), tokens_per_frame=196, remote_code=False, llm_layers=24, llm_kv_width=128),
    CatalogEntry("llava-hf/llava-onevision-qwen2-7b-ov-hf", "native", "llava-onevision", 8.0, int(16.1 * GB), tokens_per_frame=196, remote_code=False, llm_layers=28, llm_kv_width=512),
    # Qwen2-VL: up to 384 tokens a frame under its card's pixel budget (about 360 for 720p video).
    CatalogEntry("Qwen/Qwen2-VL-2B-Instruct", "native", "qwen2-vl", 2.2, int(4.4 * GB), tokens_per_frame=360, remote_code=False, llm_layers=28, llm_kv_width=256),
    CatalogEntry("Qwen/Qwen2-VL-7B-Instruct", "native", "qwen2-vl", 8.3, int(16.6 * GB), tokens_per_frame=360, remote_code=False, llm_layers=28, llm_kv_width=512),
)

BY_REPO = {entry.repo_id.lower(): entry for entry in CATALOG}
BY_NAME = {entry.name.lower(): entry for entry in CATALOG}


def find_entry(name: str) -> CatalogEntry | None:
    key = name.strip().lower()
    return BY_REPO.get(key) or BY_NAME.get(key)


@dataclass(frozen=True)
class ModelRef:
    """A model to load: a catalog entry, a local folder, or a repo id the user typed."""

    source: str  # repo id or folder path, as given to from_pretrained
    backend: str
    family: str
    entry: CatalogEntry | None = None
    local_folder: Path | None = None
    revision: str | None = None
    config: dict = field(default_factory=dict, repr=False)

    @property
    def runs_remote_code(self) -> bool:
        if self.entry is not None:
            return self.entry.remote_code
        return bool(self.config.get("auto_map"))

    @property
    def needs_consent(self) -> bool:
        """Remote code that the catalog does not vouch for runs only after the user says yes."""
        return self.entry is None and self.runs_remote_code

    @property
    def default_frames(self) -> int:
        """The catalog's frame count for this checkpoint, else its family's."""
        if self.entry is not None:
            return self.entry.default_frames
        from videochat.families import get_family

        return get_family(self.family).default_frames

    @property
    def display_name(self) -> str:
        return self.entry.name if self.entry else (self.local_folder.name if self.local_folder else self.source)


def read_config(folder: Path) -> dict:
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise BadModelFolder(f"{folder} holds no config.json: it is not a model folder (or the download is incomplete).")
    try:
        return json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BadModelFolder(f"{folder}/config.json cannot be read ({error}); download the model again.") from error


def cached_config_folder(repo_id: str, revision: str | None) -> Path:
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, "config.json", revision=revision)
    if not isinstance(found, str):
        raise ModelNotDownloaded(not_downloaded_message(repo_id))
    return Path(found).parent


def downloaded_entries() -> list[CatalogEntry]:
    """Catalog models whose files are all in the Hugging Face cache (checked locally, no network)."""
    from videochat.models_on_disk import status

    return [entry for entry in CATALOG if status(entry).state == "ready"]


def not_downloaded_message(repo_id: str) -> str:
    return f"{repo_id} is not downloaded yet. Download it first (Model ▸ Model manager, or `videochat download {repo_id}`), then ask again."


def _downloaded_revision(repo_id: str) -> str | None:
    """The commit the app downloaded, so that loads use it until the user updates; None: the cache's main."""
    from videochat.download_record import recorded_revision

    return recorded_revision(repo_id)


def backend_for_config(config: dict, folder_name: str = "") -> tuple[str, str]:
    """(backend, family) for a model known only by its config.json (and the name of its folder)."""
    architectures = config.get("architectures") or []
    model_type = config.get("model_type", "")
    auto_map = " ".join(str(v) for v in (config.get("auto_map") or {}).values())
    if model_type == "llava_onevision":
        return "llava-onevision", "native"
    if model_type == "qwen2_vl":
        return "qwen2-vl", "native"
    name_or_path = " ".join((str(config.get("_name_or_path") or config.get("name_or_path") or ""), folder_name))
    if "InternVideo2_VideoChat2" in auto_map or model_type.startswith("InternVideo2_VideoChat2"):
        hd = config.get("hd_num") or (config.get("model_config") or {}).get("hd_num") or re.search(r"[_-]HD\b", name_or_path)
        return "internvideo2", "internvideo2-hd" if hd else "internvideo2"
    if model_type == "internvl_chat" or any("InternVL" in a for a in architectures):
        # InternVideo2.5's code is InternVL's with HiCo compression: modeling_internvl_chat_hico2.py
        hico = "hico" in auto_map.lower() or "InternVideo2_5" in name_or_path
        return "internvl", "internvideo2.5" if hico else "internvl2"
    raise UnknownModel(
        f"The model's config (model_type {model_type or 'unset'!r}, architectures {architectures}) is not one this app "
        "can run: choose an InternVL2, InternVideo2, InternVideo2.5, LLaVA-OneVision or Qwen2-VL model."
    )


def resolve_model(name: str | os.PathLike, revision: str | None = None) -> ModelRef:
    """A catalog name or repo id, or a local folder, as a `ModelRef` (no network, no loading)."""
    name = os.fspath(name)
    entry = find_entry(name)
    folder = Path(os.path.expanduser(name))
    if folder.is_dir():
        config = read_config(folder)
        if entry is None:
            backend, family = backend_for_config(config, folder.resolve().name)
        else:
            backend, family = entry.backend, entry.family
        return ModelRef(str(folder.resolve()), backend, family, entry=entry, local_folder=folder.resolve(), revision=revision, config=config)
    if entry is not None:
        return ModelRef(entry.repo_id, entry.backend, entry.family, entry=entry, revision=revision or _downloaded_revision(entry.repo_id))
    if name.count("/") == 1 and not name.startswith((".", "/", "~")):
        # An uncatalogued repo id: its config in the Hugging Face cache says which backend runs it.
        revision = revision or _downloaded_revision(name)
        config = read_config(cached_config_folder(name, revision))
        backend, family = backend_for_config(config)
        return ModelRef(name, backend, family, revision=revision, config=config)
    raise UnknownModel(f"{name!r} is neither a model this app knows, nor a model folder, nor a hub repo id (owner/name).")
