"""Each video's session (`session.Session`), kept in one JSON file per video in the app's data folder.

The file is rewritten whole and atomically (`app_files.write_atomically`), so a crash at any
moment leaves either the previous version or the new one. Two writers of one video's session (the
window and `videochat ask`, two `ask`s) each merge their changes into what is on disk under the
file's lock (`recorder.SessionRecorder`): every turn and note has an id, so none is lost.

A file is read through `app_files.read_json` (a regular file only, size and depth caps, UTF-8) and
checked field by field (`Session.from_dict`). One that cannot be read is renamed aside
(`app_files.set_aside`, `….damaged-<when>.json`) and never written over; so is one saved for a
different video at the same path (another size, `….earlier-…`). Both come back with a message
saying where the old file went. A schema-1 or schema-2 file is written as schema 3 only when
something changes; a file of a newer schema is left alone and not written (`NewerSession`).
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from videochat import app_files, paths
from videochat.app_files import BadAppFile, is_kind
from videochat.errors import VideoChatError
from videochat.sessions.session import SCHEMA_VERSION, Session, VideoIdentity

MAX_SESSION_BYTES = 64 * app_files.MiB  # thousands of turns fit; a link to /dev/zero does not


class SessionUnreadable(VideoChatError):
    pass


def default_folder() -> Path:
    return paths.sessions_folder()


@dataclass
class Opened:
    """What `SessionStore.open` found: the session to continue, and what to tell the user, if anything."""

    session: Session
    message: str | None = None
    writable: bool = True  # False when the file on disk must not be replaced (a newer app wrote it)


class SessionStore:
    """Session files in one folder, named after the video's path (its name kept for people browsing)."""

    def __init__(self, folder: Path | None = None):
        self.folder = Path(folder) if folder is not None else default_folder()

    def path_for(self, video_path: str | os.PathLike) -> Path:
        resolved = str(Path(video_path).resolve())
        digest = hashlib.sha256(resolved.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(resolved).stem)[:60] or "video"
        return self.folder / f"{stem}-{digest}.json"

    def lock_path_for(self, session_path: Path) -> Path:
        """Beside the session file, not the file itself: that one is replaced whole by every write."""
        return session_path.with_name(f".{session_path.name}.lock")

    def open(self, video: VideoIdentity) -> Opened:
        """The saved session of this video, or a new one (the old file kept aside when it could not be used)."""
        path = self.path_for(video.path)
        try:
            session = self.load(path)
        except FileNotFoundError:
            return Opened(Session(video))
        except NewerSession:
            return Opened(Session(video), f"The saved conversation for this video was written by a newer VideoChat; it is left as it is at {path} and this one will not be saved.", writable=False)
        except BadAppFile:
            return self._start_over(video, path, "damaged", "The saved conversation for this video is damaged and could not be read")
        if session.video.size != video.size:
            return self._start_over(video, path, "earlier", "This file changed since its conversation was saved (its size differs)")
        session.video = video
        return Opened(session)

    def load(self, path: Path) -> Session:
        """The session in the file at `path`: FileNotFoundError, `NewerSession`, or `BadAppFile` when it cannot be used."""
        data = app_files.read_json(path, max_bytes=MAX_SESSION_BYTES)
        version = data.get("schema_version") if isinstance(data, dict) else None
        if is_kind(version, int) and version > SCHEMA_VERSION:
            raise NewerSession(path, f"was written by a newer VideoChat (schema {version})")
        return Session.from_dict(data, path)

    def read(self, video_path: str | os.PathLike) -> Session | None:
        """The saved session of the video at this path, as it is on disk (None if there is none); changes nothing.

        For exports and tools that only read: raises `SessionUnreadable` for a file that cannot be used.
        """
        path = self.path_for(video_path)
        try:
            return self.load(path)
        except FileNotFoundError:
            return None
        except BadAppFile as error:
            raise SessionUnreadable(f"The saved conversation {path} could not be read: it {error.reason}.") from None

    def _start_over(self, video: VideoIdentity, path: Path, label: str, reason: str) -> Opened:
        try:
            aside = app_files.set_aside(path, label)
        except OSError as error:
            return Opened(Session(video), f"{reason}; it could not be moved aside ({error.strerror}), so it is left at {path} and this conversation will not be saved.", writable=False)
        return Opened(Session(video), f"{reason}. It was kept at {aside}; a new conversation starts here.")

    def save(self, session: Session) -> Path:
        """Write the whole session atomically, over whatever is there; returns its path. Raises OSError.

        For a session no one else writes (a test, an import); front ends save through a
        `SessionRecorder`, which merges with what others wrote.
        """
        path, text = self.file_for(session)
        app_files.write_atomically(path, text)
        return path

    def file_for(self, session: Session) -> tuple[Path, str]:
        """Where the session goes and its text, stamped now."""
        session.updated_at = time.time()
        return self.path_for(session.video.path), session_text(session)


class NewerSession(BadAppFile):
    """A session file of a later schema: left alone, and not written over."""


def session_text(session: Session) -> str:
    """The file's text. ASCII with escapes: a file name that is not UTF-8 (surrogates in Python) still saves.

    Raises OSError (EFBIG) past `MAX_SESSION_BYTES`: a file written bigger would be read back as
    damaged and set aside, so the one on disk is kept as it is instead.
    """
    text = json.dumps(session.to_dict(), ensure_ascii=True, indent=1)
    if len(text) > MAX_SESSION_BYTES:  # ASCII: one byte a character
        raise OSError(errno.EFBIG, f"the conversation has grown past {MAX_SESSION_BYTES // app_files.MiB} MiB, the most one video's saved conversation may hold")
    return text
