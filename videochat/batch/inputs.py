"""A batch's inputs: the clips (a folder searched recursively, a list of paths, or one video) and the
questions (one per line, # for comments), read as plain UTF-8 text; what cannot be used is a
`BatchInputError` that says what to give instead."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from videochat.errors import VideoChatError
from videochat.video.files import VIDEO_EXTENSIONS, is_video_file


class BatchInputError(VideoChatError):
    """The clips, the questions or the results file of a batch cannot be used."""


def find_clips(folder_or_list: str | os.PathLike) -> list[Path]:
    """The clips to ask about, as absolute paths.

    A folder: its video files (by extension), recursively, sorted by relative path, hidden files
    and folders left out. A text file: the files it names, one per line, relative to its own
    folder, in its order. A video file: itself.
    """
    path = absolute(folder_or_list)
    if path.is_dir():
        clips = _videos_under(path)
        if not clips:
            raise BatchInputError(f"There are no video files in {path} or its subfolders ({', '.join(sorted(VIDEO_EXTENSIONS))}).")
        return clips
    if not path.is_file():
        raise BatchInputError(f"{path} does not exist: give a folder of videos, or a text file listing them one per line.")
    if is_video_file(path):
        return [path]
    clips = [absolute(path.parent / os.path.expanduser(line)) for line in _meaningful_lines(_read_text(path, "list of clips"))]
    if not clips:
        raise BatchInputError(f"{path} lists no clips: write one video path per line (lines starting with # are comments).")
    return list(dict.fromkeys(clips))


MAX_INPUT_BYTES = 16 * 1024 * 1024  # a list of clips or questions: far more than anyone writes
ONE_QUESTION_A_LINE = "write one question per line (lines starting with # are comments)"


def parse_questions(text: str) -> list[str]:
    """One question per line; blank lines and lines starting with # left out, a repeated question asked once."""
    questions = list(dict.fromkeys(_meaningful_lines(text)))
    if not questions:
        raise BatchInputError(f"There are no questions: {ONE_QUESTION_A_LINE}.")
    return questions


def read_questions(path: str | os.PathLike) -> list[str]:
    path = absolute(path)
    questions = list(dict.fromkeys(_meaningful_lines(_read_text(path, "questions file"))))
    if not questions:
        raise BatchInputError(f"{path} holds no questions: {ONE_QUESTION_A_LINE}.")
    return questions


def absolute(path: str | os.PathLike) -> Path:
    # abspath, not resolve: the clip keeps the name the user gave it (links not followed), yet a stable key.
    return Path(os.path.abspath(os.path.expanduser(os.fspath(path))))


def _videos_under(folder: Path) -> list[Path]:
    found = []
    for root, folders, files in os.walk(folder):
        folders[:] = [name for name in folders if not name.startswith(".")]
        found += [Path(root, name) for name in files if not name.startswith(".") and is_video_file(name)]
    return sorted(found, key=lambda clip: clip.relative_to(folder).parts)


def _read_text(path: Path, what: str) -> str:
    not_text = BatchInputError(f"{path} is not a text file: the {what} must be plain text, one entry per line.")
    from videochat.app_files import BadAppFile, read_regular_file

    try:  # a regular file (a link to one too) of at most 16 MiB: a FIFO would wait for a writer, /dev/zero never end
        data = read_regular_file(path, MAX_INPUT_BYTES, follow_links=True)
    except BadAppFile as error:
        raise BatchInputError(f"The {what} {path} {error.reason}: give a text file, one entry per line.") from None
    except OSError as error:
        raise BatchInputError(f"The {what} {path} cannot be read: {error.strerror or error}.") from None
    if b"\0" in data:  # binary: no line of it is worth naming
        raise not_text
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise BatchInputError(f"The {what} {path} is not UTF-8 text (line {line}): save it as UTF-8.") from None
    return text


def _meaningful_lines(text: str) -> Iterable[str]:
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            yield line
