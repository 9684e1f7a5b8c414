"""Text from outside (file names, model answers, hub errors) made safe to show: secrets blanked,
terminal control characters escaped.

`blank_secrets` replaces every secret this app knows by its value, whatever its shape: the Hugging
Face token wherever huggingface_hub keeps it (HF_TOKEN or HUGGING_FACE_HUB_TOKEN, the token file,
the stored named tokens) and whatever was given to `register_secret` (an engine's API key), plus
anything shaped like a Hugging Face token. A hostile server that echoes the request's
Authorization header in its error message then shows `***` instead of the token.

`for_terminal` writes control characters as escapes (`\\x1b`, `\\u202e`): C0 (but the newlines,
or tabs, the caller keeps), DEL, C1, the bidirectional embeddings, overrides and isolates, and
lone surrogates (undecodable bytes of a file name, which would make print() fail). A file
named `\\x1b[2J` then cannot clear the screen, and one with U+202E cannot show its name reversed.
`one_line` does the same for a name shown in the window or an export, on one line of bounded length.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from functools import lru_cache
from pathlib import Path

BLANK = "***"
HF_SHAPED = re.compile(r"\bhf_[A-Za-z0-9]{20,}")
HF_BLANK = "hf_***"
LONGEST_LINE = 200  # characters of a provenance line (`one_line`)
LONGEST_PATH = 4096  # a path shown with `one_line` (Linux's PATH_MAX)
SHORTEST_SECRET = 8  # a shorter "secret" (a mistyped one-letter token) would blank ordinary words
_UNSAFE = "\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"

_registered: set[str] = set()
_lock = threading.Lock()
_cache: tuple[tuple, list[str]] | None = None


def register_secret(value: str | None) -> None:
    """Blank `value` from now on wherever text is shown or logged (an API key, a token)."""
    value = (value or "").strip()
    if len(value) >= SHORTEST_SECRET:
        with _lock:
            _registered.add(value)


def blank_secrets(text: str) -> str:
    for secret in known_secrets():
        if secret in text:
            text = text.replace(secret, BLANK)
    return HF_SHAPED.sub(HF_BLANK, text)


def for_terminal(text: str, keep: str = "\n") -> str:
    """`text` with its control characters escaped, but for those in `keep` (newline by default)."""
    return _unsafe_pattern(keep).sub(_escape, text)


def shown(text: str, keep: str = "\n") -> str:
    """A line for the terminal: secrets blanked, control characters escaped."""
    return for_terminal(blank_secrets(text), keep)


def one_line(text: str, longest: int = LONGEST_LINE) -> str:
    """Outside text shown on one line (a model's or a file's name, a device, an engine's address): its
    whitespace runs one space each, the characters `for_terminal` escapes escaped (controls, the
    bidirectional embeddings, overrides and isolates, lone surrogates), and at most `longest`
    characters, "…" where it was cut. A session file's model name then cannot break the meta line or
    an export's outline, nor show the rest of the line reversed; a Persian name's zero-width
    non-joiner stays what it is."""
    text = for_terminal(" ".join(text[: longest * 4].split()), keep="")
    return text if len(text) <= longest else text[: longest - 1] + "…"


def json_text(text: str) -> str:
    """JSON text (from json.dumps) with the control characters JSON leaves raw written as \\u escapes:
    the same data for every JSON reader, nothing for a terminal to act on, secrets blanked. (A raw
    newline can only be the layout's: json.dumps escapes every C0 character inside strings.)"""
    return _unsafe_pattern("\n").sub(lambda match: f"\\u{ord(match.group()):04x}", blank_secrets(text))


def known_secrets() -> list[str]:
    """Every secret to blank, longest first (one may hold another); re-read when a token changes."""
    global _cache
    token_file, stored_file = _token_files()
    environment = tuple(os.environ.get(name) for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"))
    with _lock:
        registered = frozenset(_registered)
    key = (environment, _stamp(token_file), _stamp(stored_file), registered)
    if _cache is not None and _cache[0] == key:
        return _cache[1]
    found = set(registered)
    found.update(value.strip() for value in environment if value)
    found.add(_read(token_file).strip())
    found.update(_stored_tokens(stored_file))
    secrets = sorted((value for value in found if len(value) >= SHORTEST_SECRET), key=len, reverse=True)
    _cache = (key, secrets)
    return secrets


def _token_files() -> tuple[Path, Path]:
    # huggingface_hub's own settings when it is loaded (tests and the app may have changed them);
    # otherwise its defaults, without importing it (~150 ms) for a command that never uses it.
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        return Path(constants.HF_TOKEN_PATH), Path(constants.HF_STORED_TOKENS_PATH)
    cache = os.getenv("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache"))
    home = os.path.expandvars(os.path.expanduser(os.getenv("HF_HOME", os.path.join(cache, "huggingface"))))
    token_file = Path(os.path.expandvars(os.path.expanduser(os.getenv("HF_TOKEN_PATH", os.path.join(home, "token")))))
    return token_file, token_file.parent / "stored_tokens"


def _stamp(path: Path):
    try:
        status = path.stat()
    except OSError:
        return None
    return (str(path), status.st_mtime_ns, status.st_size)


def _read(path: Path) -> str:
    from videochat import app_files  # light: the settings imported it before anything is shown

    try:
        # Never blocking: a FIFO in the token's place hung every log record (this runs in the log's filter).
        data = app_files.read_regular_file(path, follow_links=True)
    except (OSError, app_files.BadAppFile):  # missing, unreadable or not a file: nothing from there to blank
        return ""
    return data.decode("utf-8", errors="replace")[:100_000]


def _stored_tokens(path: Path) -> list[str]:
    import configparser  # here: most commands never get this far with a stored-tokens file

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(_read(path))
    except configparser.Error:
        return []
    return [parser.get(name, "hf_token", fallback="").strip() for name in parser.sections()]


@lru_cache(maxsize=8)
def _unsafe_pattern(keep: str) -> re.Pattern:
    kept = "".join(re.escape(character) for character in keep)
    return re.compile(f"(?![{kept}])[{_UNSAFE}]" if kept else f"[{_UNSAFE}]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
