"""Engine API keys: from --api-key, OPENAI_API_KEY, or the key stored for that engine's address.

The window's "Add a server…" stores the key typed there, and sends a server only the key stored
for its address (`stored_key`). The OS keyring is not used: the `keyring` package is not among the
app's dependencies, and on the Linux machines this app targets it often has no real backend
(headless, no Secret Service), where it would fall back to a plaintext file of its own.

Stored keys live in one 0600 JSON file in the config folder (`engine-keys.json`, written through
`app_files.write_atomically(mode=0o600)`), never in settings, sessions, exports or logs. A key
file that others can read is not used: it says so, as ssh does; nor is one that is a link (its
keys would be another file's). Every key in use is registered with `safe_text` so that a server
echoing it back shows `***`. Removing a server in the window deletes its key (`forget_key`), even
from a file others can read (written back 0600): the user asked for the key to be gone.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from videochat import app_files, safe_text
from videochat.errors import VideoChatError

MAX_KEYS_BYTES = 256 * 1024
_changing = threading.Lock()  # two pool jobs (one server's key stored, another's deleted) must not lose each other's change


class KeyFileError(VideoChatError):
    """The stored keys cannot be used (readable by others, damaged)."""


def keys_path() -> Path:
    from videochat.paths import engine_keys_file

    return engine_keys_file()


def _stored(path: Path, for_use: bool = True) -> dict:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return {}
    if stat.S_ISLNK(mode):  # said here in the keys' words; a link swapped in after this check is refused by the open itself (app_files)
        raise KeyFileError(f"The stored engine keys ({path}) are a link to another file, which is not read for keys: delete the link and store the keys again.")
    if for_use and os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"{path} can be read by other users, so its keys are not used: run chmod 600 on it (or delete it and store the keys again).")
    try:
        data = app_files.read_json(path, max_bytes=MAX_KEYS_BYTES)
    except app_files.BadAppFile as error:
        raise KeyFileError(f"The stored engine keys ({path}) {error.reason}: delete the file and store the keys again.") from None
    return {url: key for url, key in data.items() if isinstance(url, str) and isinstance(key, str)} if isinstance(data, dict) else {}


def api_key_for(display_url: str, given: str | None = None, path: Path | None = None) -> str | None:
    """The key to send: the one given, else OPENAI_API_KEY, else the one stored for this address."""
    key = given or os.environ.get("OPENAI_API_KEY") or _stored(path or keys_path()).get(display_url)
    safe_text.register_secret(key)
    return key or None


def stored_key(display_url: str, path: Path | None = None) -> str | None:
    """The key stored for exactly this address, or None; the window sends no other (OPENAI_API_KEY
    is meant for one service, and the servers a user adds are many)."""
    key = _stored(path or keys_path()).get(display_url)
    safe_text.register_secret(key)
    return key or None


def store_key(display_url: str, key: str, path: Path | None = None) -> Path:
    """Remember `key` for the engine at `display_url` (0600)."""
    path = path or keys_path()
    safe_text.register_secret(key)
    with _changing:
        keys = _stored(path)
        keys[display_url] = key
        _write(path, keys)
    return path


def forget_key(display_url: str, path: Path | None = None) -> bool:
    """Delete the key stored for `display_url` (the file rewritten 0600); False when none was stored.

    A file others can read is still rewritten, without the key and 0600; a link or a damaged file
    raises `KeyFileError`, saying what to do, and is left as it is."""
    path = path or keys_path()
    with _changing:
        keys = _stored(path, for_use=False)
        if display_url not in keys:
            return False
        del keys[display_url]
        _write(path, keys)
    return True


def _write(path: Path, keys: dict) -> None:
    import json

    app_files.write_atomically(path, json.dumps(keys, indent=1) + "\n", mode=0o600)
