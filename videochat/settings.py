"""The app's settings: one typed object, stored as JSON at the platform's config path.

Read and written through `videochat.app_files`: only a regular file of at most
`MAX_SETTINGS_BYTES`, UTF-8 JSON of bounded depth, is read (the start of the app waits on it);
a file that cannot be used is set aside (`settings.damaged-<when>.json`) and the defaults are
used; each value of the wrong kind or range falls back to its default alone (the servers added
in the window: only addresses that pass `engines/servers.py`'s rule, at most `MAX_SERVERS`, and
never a key). Written atomically, so that a crash never leaves half a file. The window writes
through a `SettingsWriter`: the file's fsync (a save: median 7 ms, up to 12 ms measured here) is
then paid by a thread of its own.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Callable

from videochat import paths
from videochat.app_files import BadAppFile, read_json, set_aside, write_atomically
from videochat.generation import DEFAULTS as GENERATION_DEFAULTS, MAX_NEW_TOKENS
from videochat.snapshot_writer import SnapshotWriter

SCHEMA_VERSION = 1
MAX_RECENT_FILES = 10
# What the app writes is a few kB (ten paths); a file much larger was not written by it.
MAX_SETTINGS_BYTES = 1024 * 1024
MAX_PATH_CHARS = 4096  # PATH_MAX on Linux; a longer recent file cannot be opened anyway
# The notes panel's height in pixels: under the least it is as good as hidden (dragged shut), and a
# panel restored hidden would look lost; above the most no screen shows it.
NOTES_HEIGHT_LEAST = 40
NOTES_HEIGHT_MOST = 8192


def default_path() -> Path:
    return paths.settings_file()


class Settings:
    """Every setting, with its value for a new user as a class attribute.

    A plain class rather than a dataclass: the desktop reads the settings before its first paint,
    which the dataclasses module would then wait for (docs/architecture.md, Start-up).
    """

    recent_files: list[str]  # newest first; each instance has its own list
    engine_servers: list[str]  # the servers added in the model list (addresses only: keys are in engines/keys.py's 0600 file)
    last_model: str | None = None  # catalog name, repo id or folder, as the user chose it
    frames: int | None = None  # None: the model's default
    # The chat's generation controls as last used (the defaults are videochat.generation's) and the player's volume.
    max_new_tokens: int = GENERATION_DEFAULTS.max_new_tokens
    temperature: float = GENERATION_DEFAULTS.temperature
    volume: float = 0.8  # 0..1
    notes_height: int = 150  # pixels: the notes panel under the player, as the user dragged it
    schema_version: int = SCHEMA_VERSION

    def __init__(self, **values) -> None:
        unknown = set(values) - set(_KINDS)
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        values.setdefault("recent_files", [])
        values.setdefault("engine_servers", [])
        for name, value in values.items():
            setattr(self, name, list(value) if name in _LISTS else value)

    def as_dict(self) -> dict:
        return {name: list(value) if isinstance(value := getattr(self, name), list) else value for name in _KINDS}

    def copy(self) -> Settings:
        return Settings(**self.as_dict())

    def __eq__(self, other) -> bool:
        if not isinstance(other, Settings):
            return NotImplemented
        return self.as_dict() == other.as_dict()

    def __repr__(self) -> str:
        return f"Settings({', '.join(f'{name}={value!r}' for name, value in self.as_dict().items())})"

    def remember_file(self, path: str | os.PathLike) -> None:
        text = str(Path(path).resolve())
        self.recent_files = [text, *(p for p in self.recent_files if p != text)][:MAX_RECENT_FILES]

    def add_server(self, address: str) -> None:
        """Add a server's address (`engines.servers.server_address`'s form), last; the oldest goes beyond `MAX_SERVERS`."""
        from videochat.engines.servers import MAX_SERVERS

        self.engine_servers = [*(a for a in self.engine_servers if a != address), address][-MAX_SERVERS:]

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        path = path or default_path()
        try:
            data = read_json(path, max_bytes=MAX_SETTINGS_BYTES)
            if not isinstance(data, dict):
                raise BadAppFile(path, f"holds {type(data).__name__} where an object belongs")
        except FileNotFoundError:
            return cls()
        except BadAppFile:
            try:
                set_aside(path)
            except OSError:
                pass  # a read-only folder: the defaults still do
            return cls()
        values = {key: value for key, value in data.items() if key in _KINDS and _is_kind(value, _KINDS[key], key)}
        values["recent_files"] = _recent_files(data.get("recent_files"))
        if data.get("engine_servers"):  # read only when there are some: the address rule's import waits for it
            from videochat.engines.servers import server_list

            values["engine_servers"] = server_list(data["engine_servers"])
        else:
            values.pop("engine_servers", None)
        return cls(**values)

    def save(self, path: Path | None = None) -> None:
        write_atomically(path or default_path(), json.dumps(self.as_dict(), indent=2))

    def reset(self) -> None:
        for name, value in Settings().as_dict().items():
            setattr(self, name, value)


_NUMBER = (int, float)
_LISTS = ("recent_files", "engine_servers")
# Every setting and the kinds of value it takes: `load` drops a value of another kind.
_KINDS = {
    "recent_files": list,
    "engine_servers": list,
    "last_model": (str, type(None)),
    "frames": (int, type(None)),
    "max_new_tokens": int,
    "temperature": _NUMBER,
    "volume": _NUMBER,
    "notes_height": int,
    "schema_version": int,
}


# The smallest value each number may take, where zero or less means nothing (0 frames, 0 tokens).
_LEAST = {"frames": 1, "max_new_tokens": 1, "temperature": 0, "volume": 0, "notes_height": NOTES_HEIGHT_LEAST}
_MOST = {"volume": 1, "notes_height": NOTES_HEIGHT_MOST, "max_new_tokens": MAX_NEW_TOKENS}


def _is_kind(value, kind, name: str = "") -> bool:
    if isinstance(value, bool) or not isinstance(value, kind):  # JSON's true is not a number here
        return False
    if isinstance(value, (int, float)):  # what Qt's controls take: finite, within a C int (json reads NaN)
        return math.isfinite(value) and abs(value) < 2**31 and _LEAST.get(name, value) <= value <= _MOST.get(name, value)
    return True


def _recent_files(entries) -> list[str]:
    """The first MAX_RECENT_FILES usable paths of `entries`, in order, each once; the rest is dropped
    (the window builds a menu entry for each before its first paint)."""
    if not isinstance(entries, list):
        return []
    kept: list[str] = []
    for entry in entries:
        if isinstance(entry, str) and 0 < len(entry) <= MAX_PATH_CHARS and "\0" not in entry and entry not in kept:
            kept.append(entry)
            if len(kept) == MAX_RECENT_FILES:
                break
    return kept


class SettingsWriter(SnapshotWriter):
    """The settings file written on a thread of its own, in order: a snapshot waiting to be written is replaced by a newer one.

    `save` copies the settings and returns at once; `flush` waits until what was saved is on disk
    (at quit). A failed write's error is passed to `report_failure` (on the writer's thread), and
    the next save tries again.
    """

    def __init__(self, report_failure: Callable[[Exception], None] | None = None):
        super().__init__("videochat-settings", lambda _file, saved: saved[0].save(saved[1]), report_failure)

    def save(self, settings: Settings, path: Path | None = None) -> None:
        self.put("settings", (settings.copy(), path))
