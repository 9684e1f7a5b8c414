"""Names to models: a catalog name, label or repo id, a hub repo id, or a local folder, as a `ModelRef`.

The one rule for what the user typed (`names_a_folder`): `/`, `./`, `../`, `~` (or a full path) is
a folder; `owner/name` and catalog names are the hub's and the catalog's. A catalog model loads the
commit the app downloaded (the download record); an uncatalogued repo id or a folder is recognised
by its config.json (`videochat.families.backend_for_config`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from videochat.errors import BadModelFolder, ModelNotDownloaded, UnknownModel
from videochat.families import backend_for_config, get_family
from videochat.models.catalog import CATALOG, CatalogEntry, find_entry
from videochat.models.model_json import read_config

__all__ = ["ModelRef", "downloaded_entries", "model_key", "names_a_folder", "resolve_model"]


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
        return get_family(self.family).default_frames

    @property
    def runtime(self) -> str:
        """Which Python environment runs this model's process (`videochat.runtimes`): its family's."""
        return get_family(self.family).runtime

    @property
    def key(self) -> tuple[str, str, str | None]:
        """What two refs are compared by: repo id (any spelling) or folder, and revision; see `model_key`."""
        return model_key(self.source, self.revision)

    @property
    def display_name(self) -> str:
        """The name answers carry (a catalog model's label): a folder that has a catalog model's name is
        marked as a folder. Stored and compared as it is (a saved conversation continues with the same
        name); a folder's name is outside text, so what shows it shows `shown_name`."""
        if self.entry is not None:
            return self.entry.label
        if self.local_folder is None:
            return self.source
        name = self.local_folder.name
        return f"{name} (folder)" if find_entry(name) is not None else name

    @property
    def shown_name(self) -> str:
        """`display_name` as a message or a label shows it: one line, escaped, cut short (`safe_text.one_line`)."""
        from videochat.safe_text import one_line

        return one_line(self.display_name)


def entry_backend(entry: CatalogEntry) -> str:
    """The backend a catalog entry loads with: the one its family has, or the one it names among several."""
    backends = [backend.name for backend in get_family(entry.family).backends]
    if entry.backend:
        if entry.backend not in backends:
            raise ValueError(f"{entry.repo_id}: family {entry.family!r} has no backend {entry.backend!r}; it has {backends}")
        return entry.backend
    if len(backends) != 1:
        raise ValueError(f"{entry.repo_id}: family {entry.family!r} has backends {backends}: the catalog entry must name one")
    return backends[0]


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
        return ModelRef(entry.repo_id, entry_backend(entry), entry.family, entry=entry, revision=revision or _downloaded_revision(entry.repo_id), hint=hint)
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
