"""The models the app knows, with the facts the model manager, the fit estimate and the loader need.

Sizes are the checkpoints' download sizes as the hub lists them (rounded); parameter counts
come from the model cards. A model can also be any local folder or repo id the user gives:
`resolve_model` turns either into a `ModelRef` that names its backend.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from videochat.errors import BadModelFolder, ModelNotDownloaded, UnknownModel

__all__ = ["CATALOG", "BadModelFolder", "CatalogEntry", "ModelRef", "UnknownModel", "find_entry", "resolve_model"]

GB = 1_000_000_000
MODEL_JSON_MAX_BYTES = 16 * 1024 * 1024  # the largest real config or tokenizer_config is well under 1 MB

@dataclass(frozen=True)
class CatalogEntry:
    repo_id: str
    family: str  # a key of videochat.frames.families.FAMILIES, or "native"
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
    label: str = ""  # shown to people; see LABEL_STYLE

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

CATALOG = tuple(replace(entry, label=_LABELS.get(entry.repo_id, entry.name)) for entry in CATALOG)

BY_REPO = {entry.repo_id.lower(): entry for entry in CATALOG}
BY_NAME = {entry.name.lower(): entry for entry in CATALOG}
BY_LABEL = {entry.label.lower(): entry for entry in CATALOG}


def find_entry(name: str) -> CatalogEntry | None:
    """The catalog entry a repo id, repo name (the old names) or label names, case-insensitively."""
    key = name.strip().lower()
    return BY_REPO.get(key) or BY_NAME.get(key) or BY_LABEL.get(key)


def model_key(source: str, revision: str | None) -> tuple[str, str, str | None]:
    """What identifies a model when comparing: ("hub", lower-case repo id, revision) or ("folder", path, revision).

    `source` is a repo id, a catalog name or label, or a folder path (as `ModelRef.source` or a
    results line's "model_source"/"model" holds it); never the display string alone.
    """
    if names_a_folder(source):
        return ("folder", str(source), revision)
    entry = find_entry(source)
    return ("hub", (entry.repo_id if entry else source.strip()).lower(), revision)


@dataclass(frozen=True)
class ModelRef:
    """A model to load: a catalog entry, a local folder, or a repo id the user typed.

    A folder never has a catalog entry, whatever its name: the catalog vouches for the code of
    the repo it names, not for files elsewhere that share its name.
    """

    source: str  # repo id or folder path, as given to from_pretrained
    backend: str
    family: str
    entry: CatalogEntry | None = None
    local_folder: Path | None = None
    revision: str | None = None
    config: dict = field(default_factory=dict, repr=False)
    hint: str = ""  # for a name that a folder in the current directory also has: how to load that folder instead

    @property
    def default_frames(self) -> int:
        """The catalog's frame count for this checkpoint, else its family's."""
        if self.entry is not None:
            return self.entry.default_frames
        from videochat.frames.families import get_family

        return get_family(self.family).default_frames

    @property
    def key(self) -> tuple[str, str, str | None]:
        """What two refs are compared by: repo id (any spelling) or folder, and revision; see `model_key`."""
        return model_key(self.source, self.revision)

    @property
    def display_name(self) -> str:
        """The name answers carry (a catalog model's label): a folder that has a catalog model's name is marked as a folder."""
        if self.entry is not None:
            return self.entry.label
        if self.local_folder is None:
            return self.source
        name = self.local_folder.name
        return f"{name} (folder)" if find_entry(name) is not None else name


def read_model_json(folder: Path, name: str, required: bool = False) -> dict | None:
    """A model folder's JSON file (config.json, tokenizer_config.json, ...) as a dict; None when absent and not required.

    The folder is anyone's: the file is read as the app's own files are (regular file, size and
    nesting caps, UTF-8), so that a hostile one is a one-line `BadModelFolder`, not a traceback.
    """
    from videochat.app_files import BadAppFile, read_json

    try:
        value = read_json(folder / name, max_bytes=MODEL_JSON_MAX_BYTES)
    except FileNotFoundError:
        if required:
            raise BadModelFolder(f"{folder} holds no {name}: it is not a model folder (or the download is incomplete).") from None
        return None
    except BadAppFile as error:
        raise BadModelFolder(f"The model folder's {name} {error.reason} ({folder}); download the model again.") from error
    if not isinstance(value, dict):
        raise BadModelFolder(f"The model folder's {name} holds {type(value).__name__} where an object belongs ({folder}); download the model again.")
    return value


def config_value(config: dict, key: str, kind: type | tuple[type, ...], default=None, source: str = "config.json"):
    """`config[key]` checked for type: absent gives `default`, another type a one-line `BadModelFolder`."""
    from videochat.app_files import is_kind

    if key not in config or config[key] is None:
        return default
    value = config[key]
    if not is_kind(value, kind):
        raise BadModelFolder(f"The model folder's {source} has {type(value).__name__} for {key!r}; download the model again.")
    return value


def read_config(folder: Path) -> dict:
    return read_model_json(folder, "config.json", required=True)


def cached_config_folder(repo_id: str, revision: str | None) -> Path:
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, "config.json", revision=revision)
    if not isinstance(found, str):
        raise ModelNotDownloaded(not_downloaded_message(repo_id))
    return Path(found).parent


def downloaded_entries() -> list[CatalogEntry]:
    """Catalog models whose files are all in the Hugging Face cache (checked locally, no network)."""
    from videochat.models.on_disk import status

    return [entry for entry in CATALOG if status(entry).state == "ready"]


def not_downloaded_message(repo_id: str) -> str:
    return f"{repo_id} is not downloaded yet. Download it first (Model ▸ Model manager, or `videochat download {repo_id}`), then ask again."


def _downloaded_revision(repo_id: str) -> str | None:
    """The commit the app downloaded, so that loads use it until the user updates; None: the cache's main."""
    from videochat.models.record import recorded_revision

    return recorded_revision(repo_id)


def auto_map_references(auto_map: object, source: str = "config.json") -> list[str]:
    """The "module.Class" strings of an `auto_map` (values may be a string, or a list as the tokenizer's [slow, fast])."""
    if auto_map is None:
        return []
    if isinstance(auto_map, list):  # tokenizer_config.json's old form: [slow, fast] for AutoTokenizer
        auto_map = {"AutoTokenizer": auto_map}
    if not isinstance(auto_map, dict):
        raise BadModelFolder(f"The model folder's {source} has {type(auto_map).__name__} for 'auto_map'; download the model again.")
    references = []
    for value in auto_map.values():
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            if not isinstance(item, str):
                raise BadModelFolder(f"The model folder's {source} has {type(item).__name__} in 'auto_map'; download the model again.")
            references.append(item)
    return references


def backend_for_config(config: dict, folder_name: str = "") -> tuple[str, str]:
    """(backend, family) for a model known only by its config.json (and the name of its folder)."""
    architectures = config_value(config, "architectures", list, [])
    model_type = config_value(config, "model_type", str, "")
    auto_map = " ".join(auto_map_references(config.get("auto_map")))
    if model_type == "llava_onevision":
        return "llava-onevision", "native"
    if model_type == "qwen2_vl":
        return "qwen2-vl", "native"
    name_or_path = " ".join((config_value(config, "_name_or_path", str, "") or config_value(config, "name_or_path", str, ""), folder_name))
    if "InternVideo2_VideoChat2" in auto_map or model_type.startswith("InternVideo2_VideoChat2"):
        model_config = config_value(config, "model_config", dict, {})
        hd = config_value(config, "hd_num", (int, float), None) or config_value(model_config, "hd_num", (int, float), None) or re.search(r"[_-]HD\b", name_or_path)
        return "internvideo2", "internvideo2-hd" if hd else "internvideo2"
    if model_type == "internvl_chat" or any(isinstance(a, str) and "InternVL" in a for a in architectures):
        # InternVideo2.5's code is InternVL's with HiCo compression: modeling_internvl_chat_hico2.py
        hico = "hico" in auto_map.lower() or "InternVideo2_5" in name_or_path
        return "internvl", "internvideo2.5" if hico else "internvl2"
    raise UnknownModel(
        f"The model's config (model_type {model_type or 'unset'!r}, architectures {architectures[:4]}) is not one this app "
        "can run: choose an InternVL2, InternVideo2, InternVideo2.5, LLaVA-OneVision or Qwen2-VL model."
    )


FOLDER_PREFIXES = ("/", "./", "../", "~") + ((".\\", "..\\") if os.sep == "\\" else ())


def names_a_folder(name: str | os.PathLike) -> bool:
    """The one rule for what the user typed: a path-like value, or text starting with /, ./, ../ or ~, is a folder.

    `owner/name` and catalog names always mean the hub's or the catalog's model, even where a
    folder of that name is in the current directory: a folder's code is not the catalog's, and
    answers must not carry a catalog name for what another folder said.
    """
    if not isinstance(name, str):
        return True
    return name in (".", "..") or name.startswith(FOLDER_PREFIXES) or os.path.isabs(name)


def folder_hint(name: str) -> str:
    """What to type for a folder in the current directory that has the name of a model; "" when there is none."""
    if names_a_folder(name) or not name.strip():
        return ""
    try:
        there = Path(name).is_dir()
    except OSError:
        return ""
    return f" (A folder named {name} is in the current directory: to load it instead, give ./{name}.)" if there else ""


def resolve_model(name: str | os.PathLike, revision: str | None = None) -> ModelRef:
    """A catalog name or repo id, or a local folder, as a `ModelRef` (no network, no loading); see `names_a_folder`."""
    if names_a_folder(name):
        folder = Path(os.path.expanduser(os.fspath(name)))
        if not folder.is_dir():
            raise BadModelFolder(f"There is no folder {folder}: give the folder that holds the model's config.json.")
        folder = folder.resolve()
        config = read_config(folder)
        backend, family = backend_for_config(config, folder.name)
        return ModelRef(str(folder), backend, family, local_folder=folder, revision=revision, config=config)
    name = name.strip()
    hint = folder_hint(name)
    entry = find_entry(name)
    if entry is not None:
        return ModelRef(entry.repo_id, entry.backend, entry.family, entry=entry, revision=revision or _downloaded_revision(entry.repo_id), hint=hint)
    if re.fullmatch(r"[\w.-]+/[\w.-]+", name):
        # An uncatalogued repo id: its config in the Hugging Face cache says which backend runs it.
        revision = revision or _downloaded_revision(name)
        try:
            config = read_config(cached_config_folder(name, revision))
        except ModelNotDownloaded as error:
            raise ModelNotDownloaded(f"{error}{hint}") from error
        backend, family = backend_for_config(config)
        return ModelRef(name, backend, family, revision=revision, config=config, hint=hint)
    raise UnknownModel(f"{name!r} is neither a model this app knows, nor a hub repo id (owner/name), nor a folder (./NAME or a full path).{hint}")
