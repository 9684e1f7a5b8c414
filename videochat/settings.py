"""The app's settings: one typed object, stored as JSON at the platform's config path.

Written atomically (temporary file, then `os.replace`) so that a crash never leaves half a
file; a file that cannot be read is kept aside and the defaults are used.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

SCHEMA_VERSION = 1
MAX_RECENT_FILES = 10


def default_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path("videochat", appauthor=False) / "settings.json"


class Settings:
    """Every setting, with its value for a new user as a class attribute.

    A plain class rather than a dataclass: the desktop's start-up imports this module, and the
    dataclasses module with the class it would make cost that start-up about 4 ms (measured).
    """

    recent_files: list[str]  # newest first; each instance has its own list
    last_model: str | None = None  # catalog name, repo id or folder, as the user chose it
    frames: int | None = None  # None: the model's default
    # The chat's generation controls as last used (the defaults are videochat.generation's) and the player's volume.
    max_new_tokens: int = 512
    temperature: float = 0.0
    volume: float = 0.8  # 0..1
    schema_version: int = SCHEMA_VERSION

    def __init__(self, **values) -> None:
        unknown = set(values) - set(_KINDS)
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        values.setdefault("recent_files", [])
        for name, value in values.items():
            setattr(self, name, list(value) if name == "recent_files" else value)

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

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        path = path or default_path()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError):
            _keep_aside(path)
            return cls()
        if not isinstance(data, dict):
            _keep_aside(path)
            return cls()
        # A value of the wrong kind (edited by hand, or from another version) falls back to its default alone.
        return cls(**{key: value for key, value in data.items() if key in _KINDS and _is_kind(value, _KINDS[key])})

    def save(self, path: Path | None = None) -> None:
        path = path or default_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".partial")
        temporary.write_text(json.dumps(self.as_dict(), indent=2), encoding="utf-8")
        os.replace(temporary, path)

    def reset(self) -> None:
        for name, value in Settings().as_dict().items():
            setattr(self, name, value)


_NUMBER = (int, float)
# Every setting and the kinds of value it takes: `load` drops a value of another kind.
_KINDS = {
    "recent_files": list,
    "last_model": (str, type(None)),
    "frames": (int, type(None)),
    "max_new_tokens": int,
    "temperature": _NUMBER,
    "volume": _NUMBER,
    "schema_version": int,
}


def _is_kind(value, kind) -> bool:
    if isinstance(value, bool) or not isinstance(value, kind):  # JSON's true is not a number here
        return False
    if isinstance(value, list):
        return all(isinstance(item, str) for item in value)
    if isinstance(value, (int, float)):  # what Qt's controls take: finite, within a C int (json reads NaN)
        return math.isfinite(value) and abs(value) < 2**31
    return True


def _keep_aside(path: Path) -> None:
    try:
        os.replace(path, path.with_name(path.name + ".damaged"))
    except OSError:
        pass
