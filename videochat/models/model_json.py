"""A model folder's JSON files (config.json, tokenizer_config.json, ...), read as hostile input.

The folder is anyone's: files are read through `app_files` (regular file, size and nesting caps,
UTF-8) and their fields checked for type, so that a bad one is a one-line `BadModelFolder`.
"""

from __future__ import annotations

from pathlib import Path

from videochat.errors import BadModelFolder

MODEL_JSON_MAX_BYTES = 16 * 1024 * 1024  # the largest real config or tokenizer_config is well under 1 MB


def read_model_json(folder: Path, name: str, required: bool = False) -> dict | None:
    """A model folder's JSON file (config.json, tokenizer_config.json, ...) as a dict; None when absent and not required.

    The folder is anyone's: the file is read as the app's own files are (regular file, size and
    nesting caps, UTF-8), so that a hostile one is a one-line `BadModelFolder`, not a traceback.
    """
    from videochat.app_files import BadAppFile, read_json

    try:
        value = read_json(folder / name, max_bytes=MODEL_JSON_MAX_BYTES, follow_links=True)  # a cache snapshot's files are links to its blobs
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
