"""Which Python files loading a model would run, and whether they may run.

Loading a remote-code model imports the modules named in the `auto_map` of its config.json,
tokenizer_config.json, preprocessor_config.json and processor_config.json, and the modules of
the folder that those import (`from .x import ...`, followed through every file reached). That
set of files is the model's code (`ModelCode`); its digest is one SHA-256 over their names and
contents, so any changed, added or renamed file gives another digest.

The code runs without asking only when the catalog vouches for it: a catalog repo whose snapshot
is the commit this app downloaded, with every code file one that the download checked against
the hub's hash (`download_record`). Anything else (a folder, a repo fetched by another tool or at
another commit, a repo outside the catalog) runs only after a yes for its digest: the desktop's
dialog or the CLI's `--trust-remote-code`. Each yes is remembered per digest in the app's data
folder, for both front ends, so the same code is asked about once and changed code again.
"""

from __future__ import annotations

import ast
import hashlib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from videochat import paths
from videochat.models.model_json import auto_map_references, read_model_json
from videochat.models.resolve import ModelRef
from videochat.errors import BadModelFolder, RemoteCodeRefused
from videochat.safe_text import LONGEST_PATH, one_line

# The files whose auto_map transformers follows when the remote-code backends load (AutoConfig,
# AutoModel, AutoTokenizer; AutoProcessor and its image processor for processors).
CODE_NAMING_FILES = ("config.json", "tokenizer_config.json", "preprocessor_config.json", "processor_config.json")
MAX_CODE_FILE_BYTES = 8 * 1024 * 1024  # the largest real modeling file is about 0.2 MB
_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class ModelCode:
    """The Python files a load would import from `folder`, and the one digest over them."""

    folder: Path  # the folder as the user knows it (a model folder, or the cache's snapshot)
    files: tuple[str, ...]  # file names in the folder, sorted
    named_in: tuple[str, ...]  # the JSON files whose auto_map names code
    digest: str
    # The bytes the digest is of: what is put where transformers imports from (remote_code.py), never
    # the folder's files read again, which may have changed since they were shown and allowed.
    contents: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    def files_text(self) -> str:
        return ", ".join(self.files)


def model_code(location: str | Path, shown_folder: Path | None = None) -> ModelCode | None:
    """The code a load from `location` would run; None when it runs none.

    Raises `BadModelFolder` for a JSON file that cannot be read, an `auto_map` of the wrong shape,
    a reference to code in another repo (`owner/repo--module.Class`: this app never runs code from
    outside the model's folder), or a code file that is not a small regular file.
    """
    from videochat.app_files import BadAppFile, read_regular_file

    folder = Path(location)
    wanted, named_in = [], []
    for name in CODE_NAMING_FILES:
        data = read_model_json(folder, name)
        references = auto_map_references(data.get("auto_map") if data else None, name)
        if references:
            named_in.append(name)
        for reference in references:
            module = _module_of(reference, name)
            if module not in wanted:
                wanted.append(module)
    contents: dict[str, bytes] = {}
    while wanted:
        module = wanted.pop()
        file_name = module + ".py"
        if file_name in contents:
            continue
        try:
            # Through links: a cache snapshot's files are links to its blobs (what is read is what the dialog shows).
            contents[file_name] = read_regular_file(folder / file_name, MAX_CODE_FILE_BYTES, follow_links=True)
        except FileNotFoundError:
            continue  # nothing to import: transformers fails on it, and a file added later changes the digest
        except BadAppFile as error:
            raise BadModelFolder(f"The model folder's {file_name} {error.reason} ({shown_folder or folder}).") from error
        wanted.extend(name for name in _relative_imports(contents[file_name]) if name + ".py" not in contents)
    if not contents:
        return None
    return ModelCode(shown_folder or folder, tuple(sorted(contents)), tuple(named_in), code_digest(contents), contents)


def code_digest(contents: dict[str, bytes]) -> str:
    """One digest over the code files (name, length, bytes, in name order): what a yes is given to."""
    digest = hashlib.sha256()
    for file_name in sorted(contents):
        data = contents[file_name]
        digest.update(b"%s\0%d\0" % (file_name.encode("utf-8"), len(data)))
        digest.update(data)
    return digest.hexdigest()


def _module_of(reference: str, source: str) -> str:
    if "--" in reference:
        raise BadModelFolder(
            f"The model folder's {source} names code from another repo ({reference.split('--')[0]}); this app runs only "
            "code that is in the model's own folder."
        )
    module = reference.rpartition(".")[0]
    if not _MODULE.fullmatch(module):
        raise BadModelFolder(f"The model folder's {source} names {reference!r} in 'auto_map', which is not a module of the folder.")
    return module


def _relative_imports(source: bytes) -> list[str]:
    """The sibling modules a file imports (`from .x import y`, `from . import x`); none from a file Python cannot parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []  # it cannot be imported either, so it runs nothing
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            candidates = [node.module.split(".")[0]] if node.module else [alias.name for alias in node.names]
            names.extend(name for name in candidates if _MODULE.fullmatch(name))
    return names


# -- whether it may run ---------------------------------------------------------------------


def catalog_vouches(ref: ModelRef, location: str | Path, code: ModelCode) -> bool:
    """A catalog repo at the commit this app downloaded, the bytes of every code file those the hub
    listed for it then (its git blob id, or its LFS sha256): a file's size and time, which its owner
    can set back, are not enough."""
    if ref.entry is None or ref.local_folder is not None:
        return False
    from videochat.models.hub import git_blob_digest
    from videochat.models.record import recorded

    record = recorded(ref.entry.repo_id)
    commit, files = record.get("revision"), record.get("files")
    if not isinstance(commit, str) or Path(location).name != commit or not isinstance(files, dict):
        return False
    for file_name in code.files:
        listed, data = files.get(file_name), code.contents.get(file_name)
        if not (isinstance(listed, list) and len(listed) == 2 and isinstance(listed[1], str)) or data is None or len(data) != listed[0]:
            return False
        blob_id = git_blob_digest(len(data))
        blob_id.update(data)
        if listed[1] not in (blob_id.hexdigest(), hashlib.sha256(data).hexdigest()):
            return False
    return True


def consent_path() -> Path:
    return paths.consent_file()


def allowed_digests() -> dict:
    """The remembered yeses, by digest; an unreadable file counts as none (everything is asked again)."""
    from videochat.app_files import BadAppFile, read_json

    try:
        data = read_json(consent_path())
    except (FileNotFoundError, BadAppFile):
        return {}
    allowed = data.get("allowed") if isinstance(data, dict) else None
    return allowed if isinstance(allowed, dict) else {}


def remember_yes(code: ModelCode, model: str) -> None:
    """Keep the user's yes for this digest (best effort: unwritable, the next load asks again)."""
    import json
    import logging

    from videochat.app_files import write_atomically

    allowed = allowed_digests()
    if code.digest in allowed:
        return
    allowed[code.digest] = {"model": model, "folder": str(code.folder), "files": list(code.files), "allowed_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    try:
        write_atomically(consent_path(), json.dumps({"version": 1, "allowed": allowed}, indent=1, ensure_ascii=False))
    except OSError as error:
        logging.getLogger(__name__).warning("the yes to run %s's code could not be remembered: %s", model, error)


def check_consent(ref: ModelRef, trust_remote_code: bool = False, approved: str | None = None, location: str | None = None) -> ModelCode | None:
    """The code a load of `ref` runs, if it may run; `RemoteCodeRefused` (with `.code`) if it may not.

    `trust_remote_code` is a yes to whatever is there (the CLI's flag); `approved` a yes to the
    code of that digest only (the desktop's dialog showed it): code changed since is asked about again.
    """
    from videochat.backends.loading import model_location
    from videochat.families import runs_model_code

    if not runs_model_code(ref.backend):
        return None  # its backend loads with trust_remote_code=False: transformers runs no code of the folder
    location = location or model_location(ref)
    code = model_code(location, ref.local_folder)
    if code is None or catalog_vouches(ref, location, code):
        return code
    if trust_remote_code or code.digest == approved:
        remember_yes(code, ref.display_name)
        return code
    if code.digest in allowed_digests():
        return code
    raise RemoteCodeRefused(refusal_message(ref, code), code=code)


def refusal_message(ref: ModelRef, code: ModelCode) -> str:
    if ref.local_folder is not None:
        why = "It is a folder, so nothing vouches that this is the code its authors published."
    elif ref.entry is not None:
        why = "This copy is not the commit this app downloaded and verified, so the catalog does not vouch for it."
    else:
        why = "It is not a model this app knows."
    return (
        f"{ref.shown_name} runs its own Python code: {code.files_text()} in {one_line(str(code.folder), LONGEST_PATH)} (named in "
        f"{', '.join(code.named_in)}). That code can do anything you can do on this computer. {why} Run it only if you "
        "trust its source: add --trust-remote-code (in the app, say yes when asked)."
    )
