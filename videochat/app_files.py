"""The files the app owns (settings, sessions, download record, results): one reader, one writer.

Every such file may have been edited by hand, damaged, replaced by a FIFO or a link to a device,
or written by an attacker, so reading one is never trusted:
- only a regular file is opened, and never more than `max_bytes` of it is read (a FIFO would
  block forever, `/dev/zero` would fill the memory);
- a link in the place of one of the app's own files (settings, sessions, keys, the consent file,
  the download record, a runtime's marker) is not followed: it is opened with O_NOFOLLOW and the
  opened descriptor checked, so nothing can swap a link in between a check and the open. A file
  the user chose, or one of a model folder (the Hugging Face cache's snapshots are links to its
  blobs), is read through links (`follow_links=True`), still only if it ends at a regular file;
- the text must be UTF-8 JSON nested no deeper than `max_depth` (Python's parser raises
  RecursionError on deep nesting, which no caller expects); an integer too large for a float
  is read as infinity, as 1e400 is (`math.isfinite` would raise OverflowError on it);
- what comes out is checked for type by the caller with `field` and friends, which raise
  `BadAppFile` too, so one `except BadAppFile` covers every way a file can be wrong.

A file that cannot be used is renamed aside with one naming scheme, `set_aside`:
`<stem>.<label>-<YYYYmmdd-HHMMSS>[-N]<suffix>`, and never written over.
"""

from __future__ import annotations

import json
import os
import re
import stat
import time
from pathlib import Path

MiB = 1024 * 1024
DEFAULT_MAX_BYTES = 16 * MiB
DEFAULT_MAX_DEPTH = 32


class BadAppFile(ValueError):
    """One of the app's own files cannot be used as it is; `reason` says why, for a person."""

    def __init__(self, path: Path | str, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
LINK_REFUSED = "is a link to another file, and the app follows no link in the place of its own files (put the file itself there, or delete the link)"


def read_regular_file(path: Path | str, max_bytes: int = DEFAULT_MAX_BYTES, *, follow_links: bool = False) -> bytes:
    """The bytes of `path` if it is a regular file of at most `max_bytes`.

    Raises FileNotFoundError when there is nothing there (a normal case for callers), and
    `BadAppFile` for anything else that is not a small regular file. Opening never blocks: a FIFO
    is opened without waiting for a writer, then refused. A link at `path` is refused unless
    `follow_links` (a file the user chose, a model folder's file): see the module's docstring.
    """
    path = Path(path)
    _refuse_what_is_plainly_not_a_file(path, follow_links)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    if not follow_links:
        flags |= _O_NOFOLLOW
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as error:
        if not follow_links and os.path.islink(path):  # O_NOFOLLOW's ELOOP (EMLINK on BSD): only the message is decided here
            raise BadAppFile(path, LINK_REFUSED) from error
        raise BadAppFile(path, f"cannot be opened ({error.strerror or error})") from error
    try:
        info = os.fstat(descriptor)
        if not follow_links and not _O_NOFOLLOW and _is_other_than_opened(path, info):
            raise BadAppFile(path, LINK_REFUSED)
        if not stat.S_ISREG(info.st_mode):
            raise BadAppFile(path, "is not a regular file")
        if info.st_size > max_bytes:
            raise BadAppFile(path, f"is too large ({info.st_size} bytes; at most {max_bytes})")
        chunks, size = [], 0
        while True:
            chunk = os.read(descriptor, min(1 * MiB, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:  # grew while being read
                raise BadAppFile(path, f"is too large (more than {max_bytes} bytes)")
        return b"".join(chunks)
    except OSError as error:
        raise BadAppFile(path, f"cannot be read ({error.strerror or error})") from error
    finally:
        os.close(descriptor)


def _refuse_what_is_plainly_not_a_file(path: Path, follow_links: bool) -> None:
    """A FIFO, device, socket or folder refused before any open: even a non-blocking open of a FIFO
    is seen by its other end. The opened descriptor is still checked, for a path changed in between."""
    try:
        info = os.stat(path) if follow_links else os.lstat(path)
    except FileNotFoundError:
        raise
    except OSError:
        return  # a link loop, a denied folder: the open says why
    if not (stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode)):
        raise BadAppFile(path, "is not a regular file")


def _is_other_than_opened(path: Path, opened: os.stat_result) -> bool:
    """Where there is no O_NOFOLLOW (Windows): `path` is a link, or no longer the file opened."""
    try:
        now = os.lstat(path)
    except OSError:
        return True
    return stat.S_ISLNK(now.st_mode) or (now.st_dev, now.st_ino) != (opened.st_dev, opened.st_ino)


def parse_json(data: bytes | str, source: Path | str = "<text>", max_depth: int = DEFAULT_MAX_DEPTH) -> object:
    """JSON from UTF-8 bytes (or text), nested at most `max_depth` deep; `BadAppFile` otherwise."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as error:
        raise BadAppFile(source, f"is not UTF-8 text (byte {error.start})") from error
    depth = _nesting_depth(text)
    if depth > max_depth:
        raise BadAppFile(source, f"is nested too deeply ({depth} levels; at most {max_depth})")
    try:
        return json.loads(text, parse_int=_integer)
    except (ValueError, RecursionError) as error:
        raise BadAppFile(source, f"is not valid JSON ({error})") from error


def read_json(path: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH, follow_links: bool = False) -> object:
    """`parse_json(read_regular_file(path))`: FileNotFoundError when absent, `BadAppFile` when unusable (a link too, unless `follow_links`)."""
    return parse_json(read_regular_file(path, max_bytes, follow_links=follow_links), path, max_depth)


def _integer(text: str) -> int | float:
    # Every finite check (math.isfinite, float()) raises OverflowError past ~1.8e308: such a number
    # is read as 1e400 is, as infinity, which those checks refuse. Shorter ones stay exact integers.
    value = int(text)
    if len(text) < 300:
        return value
    try:
        float(value)
    except OverflowError:
        return float("-inf") if value < 0 else float("inf")
    return value


# A string's run of plain characters is one step (not one alternation per character): 30 times faster on a 40 MB body.
# A string left open runs to the end of the text: were it no match, the scan would start again
# at each later quote and read on to the end each time (a 117 KiB body of \" took a minute).
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)|[\[\]{}]', re.DOTALL)  # DOTALL: \<newline> is no stop either


def _nesting_depth(text: str) -> int:
    """The deepest nesting of [ and { outside strings, found before the parser recurses into it."""
    if text.count("[") + text.count("{") <= 1:
        return text.count("[") + text.count("{")
    deepest = depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


_MISSING = object()


def field(mapping: object, key: str, kind: type | tuple[type, ...], default: object = _MISSING, *, source: Path | str = "<file>") -> object:
    """`mapping[key]` if it is of `kind` (bool is never a number), else `default`, else `BadAppFile`."""
    if not isinstance(mapping, dict):
        raise BadAppFile(source, f"holds {type(mapping).__name__} where an object belongs")
    if key not in mapping:
        if default is _MISSING:
            raise BadAppFile(source, f"lacks {key!r}")
        return default
    value = mapping[key]
    if is_kind(value, kind):
        return value
    if default is _MISSING:
        raise BadAppFile(source, f"has {type(value).__name__} for {key!r}")
    return default


def is_kind(value: object, kind: type | tuple[type, ...]) -> bool:
    """isinstance, except that JSON's true/false is not a number here."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        return False
    return isinstance(value, kinds)


def set_aside(path: Path | str, label: str = "damaged") -> Path:
    """Rename `path` to `<stem>.<label>-<when><suffix>` beside it (never over another file); the new path.

    Raises OSError when it cannot be renamed.
    """
    path = Path(path)
    stem, suffix = (path.stem, path.suffix) if path.suffix else (path.name, "")
    base = path.with_name(f"{stem}.{label}-{time.strftime('%Y%m%d-%H%M%S')}{suffix}")
    candidate, number = base, 1
    while candidate.exists() or candidate.is_symlink():
        number += 1
        candidate = base.with_name(f"{base.stem}-{number}{base.suffix}")
    os.replace(path, candidate)
    return candidate


def write_atomically(path: Path | str, data: str | bytes, *, mode: int | None = None) -> None:
    """Replace `path` with `data` so that a crash leaves the old file or the new one, never a mix.

    The temporary file is fsynced before the rename; `mode` (0o600 for a token) is set before any
    byte is written. Text is written as given (CSV brings its own \\r\\n).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Two writers never share one; os.urandom rather than uuid, which imports platform: the
    # settings are written by the window, which keeps its start-up's imports few.
    temporary = path.with_name(f".{path.name}.{os.urandom(4).hex()}.partial")
    payload = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        # Without a mode the umask applies, as for any new file; with one (0o600) no byte is ever readable by others.
        descriptor = os.open(temporary, flags, 0o666 if mode is None else mode)
        try:
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(descriptor, mode)
            view = memoryview(payload)
            while view:
                written = os.write(descriptor, view)
                view = view[written:]
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
