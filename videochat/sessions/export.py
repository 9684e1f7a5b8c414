"""A video's conversation and notes as the files annotators use: a Markdown report, JSON with
everything, SubRip and WebVTT captions, and a CSV table.

Every time is rounded half up to the millisecond from the time as the session file writes it
(3661.0005 is 1:01:01.001), once, and every format is written from that same millisecond count,
so the formats never disagree. No export holds a secret (`safe_text.blank_secrets`).

Text from outside (answers, questions, notes, the file name) stays text in every format:
- CSV: a cell that starts with `= + - @`, a tab or a carriage return gets a leading `'`, as OWASP
  advises against formula injection, unless the cell is a plain number (`-1.5`), which a
  spreadsheet reads as that number and nothing else.
- SRT and WebVTT: one cue per note. Blank lines (which end a cue) are dropped, arrows
  (`-->`, and SubRip readers' `- >`) become `→`, and a line that is only a number is joined to
  the line before it: followed by a time it would read as the next cue's number and time.
  WebVTT's `& < >` are written as character references.
- Markdown: HTML is shown as text (`&lt;`), and the characters that would start a heading, list,
  quote, table, code fence, link or image, or emphasis are backslash-escaped; leading spaces
  become no-break spaces (no indented code block) and each line ends with a hard line break,
  so an answer reads line for line as the model wrote it and cannot change the report's outline.
- JSON is data: it keeps every text exactly.

A regenerated turn is exported with the answer it shows (the conversation as the user left it);
the Markdown report says which of how many it is, and JSON, which holds everything, lists the turn's
other answers as the session file does (`alternatives`, `shown`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from videochat.chat import Answer
from videochat.errors import VideoChatError
from videochat.frames_seen import frames_seen
from videochat.safe_text import LONGEST_PATH, blank_secrets, one_line
from videochat.app_files import write_atomically
from videochat.sessions.formats import FORMATS
from videochat.sessions.session import Session
from videochat.sessions.store import SessionStore
from videochat.video.timecode import format_time, milliseconds

if TYPE_CHECKING:
    from videochat.video.timeline import Timeline

EXPORT_FORMAT = "videochat-session-export"
EXPORT_VERSION = 1
CSV_COLUMNS = [
    "kind", "index", "start_seconds", "end_seconds", "start", "end", "question", "text", "model", "revision",
    "frames", "frame_times", "frame_indices", "segment_start", "segment_end", "stopped", "asked_at",
    "answered_at",
]


class NoSavedConversation(VideoChatError):
    pass


def saved_session(video_path) -> Session:
    """The saved session of this video; raises `NoSavedConversation` when there is none."""
    session = SessionStore().read(video_path)
    if session is None:
        raise NoSavedConversation(f"No saved conversation for {video_path}: ask about it first (in the app or with `videochat ask`).")
    return session


def render(session: Session, format_name: str, timeline: Timeline | None = None) -> str:
    """The session in a format; `timeline` (the video's, `videochat.video.timeline.Timeline`) ends an
    answer's span where its last frame ends, exact on variable frame rate (without it: one
    average frame's length after its time)."""
    if format_name not in FORMATS:
        raise ValueError(f"unknown export format {format_name!r} (one of {', '.join(FORMATS)})")
    return blank_secrets(_RENDERERS[format_name](session, timeline))


def write_export(session: Session, format_name: str, path: Path, timeline: Timeline | None = None) -> None:
    """Raises OSError when the file cannot be written; an existing file is then left as it was."""
    write_atomically(Path(path), render(session, format_name, timeline))


def timeline_of_video(path) -> Timeline | None:
    """The timeline of the video the session is about, when it is still there and readable; None
    otherwise (its spans then end one average frame after the last frame's time)."""
    from videochat.errors import VideoChatError
    from videochat.video.timeline import Timeline
    from videochat.video.info import probe

    try:
        return Timeline.of(probe(path))
    except (VideoChatError, OSError):
        return None


# -- times ------------------------------------------------------------------------------


def _seconds_text(ms: int) -> str:
    return f"{ms // 1000}.{ms % 1000:03d}"


def _clock(ms: int) -> str:
    return format_time(ms / 1000)


def _caption_clock(ms: int, decimal_mark: str) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}{decimal_mark}{rest % 1000:03d}"


def _local_iso(epoch_seconds: float | None = None) -> str:
    moment = datetime.now() if epoch_seconds is None else datetime.fromtimestamp(epoch_seconds)
    return moment.astimezone().isoformat(timespec="seconds")


def answer_span(session: Session, answer: Answer, timeline: Timeline | None = None) -> tuple[int, int]:
    """(start, end) in ms of `Session.answer_span`."""
    return _span_ms(*session.answer_span(answer, timeline))


def _note_span(note) -> tuple[int, int]:
    return _span_ms(note.start, note.end)


def _span_ms(start: float, end: float) -> tuple[int, int]:
    start_ms = milliseconds(start)
    return start_ms, max(start_ms, milliseconds(end))


# -- formats ----------------------------------------------------------------------------


def _markdown(session: Session, timeline: Timeline | None = None) -> str:
    video = session.video
    # The file's name and path: outside text, so a name cannot reverse the heading (what an answer or a
    # question says is the user's and the model's text, kept as it was written).
    lines = [f"# {_md(one_line(Path(video.path).name, LONGEST_PATH))}", "", _md(one_line(video.path, LONGEST_PATH)), ""]
    lines += [f"Duration {_clock(milliseconds(video.duration))} · exported {_local_iso()}", ""]
    for number, answer in enumerate(session.turns, 1):
        start, end = answer_span(session, answer, timeline)
        scope = f"segment {_clock(start)}–{_clock(end)}" if answer.segment else "whole clip"
        model = _md(one_line(answer.model + (f" ({answer.revision})" if answer.revision else "")))
        lines += [f"## {number}. {_md(_one_line(answer.question))}", "", _md_lines(answer.text.strip(), "  \n"), ""]
        if answer.stopped:
            lines += ["*(stopped before the end)*", ""]
        answers = session.answers_of(number - 1)
        if len(answers.answers) > 1:
            lines += [f"*Answer {answers.shown + 1} of {len(answers.answers)} (regenerated; the JSON export has every answer)*", ""]
        lines += [
            f"*{model} · {frames_seen(answer)} · {scope} · {_md(one_line(f'{answer.precision} on {answer.device}'))} · asked {_local_iso(answer.asked_at)}*",
            "",
            "Frames at " + ", ".join(_clock(milliseconds(t)) for t in answer.times),
            "",
        ]
    if session.interrupted:
        lines += [f"*Unanswered (interrupted): {_md(_one_line(session.interrupted['question']))}*", ""]
    if session.notes:
        lines += ["## Timeline notes", ""]
        for note in session.sorted_notes():
            start, end = _note_span(note)
            text = _md_lines("\n".join(line for line in note.text.strip().splitlines() if line.strip()), "  \n  ")  # one list item
            lines.append(f"- {_clock(start)}–{_clock(end)}: {text}")
        lines.append("")
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(text.split())


_MD_ANYWHERE = re.compile(r"[\\`*_\[\]|~#]")
_MD_LINE_START = re.compile(r"^([-+=])|^(\d{1,9})([.)])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _md(text: str) -> str:
    """One line of outside text as Markdown that shows exactly it (secrets blanked first: the blank's
    own `***` must be escaped too)."""
    text = _MD_ANYWHERE.sub(lambda match: "\\" + match.group(), blank_secrets(text))
    text = re.sub("[&<>]", lambda match: _HTML[match.group()], text)
    indent = len(text) - len(text.lstrip(" \t"))
    if indent:  # 4 spaces would start a code block; after a no-break space no mark starts a block
        return "\u00a0" * indent + text[indent:]
    return _MD_LINE_START.sub(lambda m: "\\" + m.group(1) if m.group(1) else m.group(2) + "\\" + m.group(3), text, count=1)


def _md_lines(text: str, line_break: str) -> str:
    """Lines kept as lines (hard breaks); blank lines stay paragraph breaks."""
    lines = [_md(line.rstrip()) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    paragraphs = "\n".join(lines).split("\n\n")
    return "\n\n".join(line_break.join(line for line in paragraph.split("\n")) for paragraph in paragraphs)


def _json(session: Session, timeline: Timeline | None = None) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        app_version = version("videochat-desktop")
    except PackageNotFoundError:
        app_version = "unknown"
    turns = []
    for index, answer in enumerate(session.turns):
        start, end = answer_span(session, answer, timeline)
        answers = session.answers_of(index)
        others = answers.to_file() if len(answers.answers) > 1 else {}
        turns.append({**answer.to_dict(), **others, "start": start / 1000, "end": end / 1000})
    document = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": _local_iso(),
        "app": {"name": "videochat-desktop", "version": app_version},
        "video": asdict(session.video),
        "created_at": session.created_at,
        "updated_at": session.updated_at,
        "turns": turns,
        "notes": [asdict(note) for note in session.sorted_notes()],
        "interrupted": session.interrupted,
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def caption_cues(session: Session, timeline: Timeline | None = None) -> list[tuple[int, int, str]]:
    """(start ms, end ms, text) of the notes in time order, or of the answers when there are no notes."""
    if session.notes:
        spans = [(*_note_span(note), note.text) for note in session.notes]
    else:
        spans = [(*answer_span(session, answer, timeline), answer.text) for answer in session.turns]
    shortest = max(1, milliseconds(session.video.frame_duration))
    return [(start, end if end > start else start + shortest, text) for start, end, text in sorted(spans, key=lambda span: span[:2])]


_CAPTION_ARROW = re.compile(r"-[ -] *>")  # SubRip readers take "- >" for "-->" too
_CUE_NUMBER = re.compile(r"-?[0-9]+\.?[0-9]*")  # as a SubRip reader matches a cue's number


def caption_text(text: str) -> str:
    """One cue's text: a blank line would end the cue, an arrow would read as a timing line, and a
    line of only a number, then a time, as the next cue's number and timing."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    kept: list[str] = []
    for line in (_CAPTION_ARROW.sub("→", line) for line in lines if line.strip()):
        if kept and _CUE_NUMBER.fullmatch(line.strip()):
            kept[-1] += " " + line.strip()
        else:
            kept.append(line)
    return "\n".join(kept)


def _srt(session: Session, timeline: Timeline | None = None) -> str:
    cues = []
    for number, (start, end, text) in enumerate(caption_cues(session, timeline), 1):
        cues.append(f"{number}\n{_caption_clock(start, ',')} --> {_caption_clock(end, ',')}\n{caption_text(text)}\n")
    return "\n".join(cues)


def _vtt(session: Session, timeline: Timeline | None = None) -> str:
    cues = ["WEBVTT\n"]
    for start, end, text in caption_cues(session, timeline):
        escaped = caption_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        cues.append(f"{_caption_clock(start, '.')} --> {_caption_clock(end, '.')}\n{escaped}\n")
    return "\n".join(cues)


class _SafeCells(csv.DictWriter):
    def writerow(self, row):
        return super().writerow({key: _cell(value) for key, value in row.items()})


def _csv(session: Session, timeline: Timeline | None = None) -> str:
    # Plain UTF-8 without a byte order mark: every other reader of the file would see the mark.
    buffer = io.StringIO()
    writer = _SafeCells(buffer, fieldnames=CSV_COLUMNS)  # excel dialect: RFC 4180 quoting, \r\n
    writer.writeheader()
    for number, answer in enumerate(session.turns, 1):
        start, end = answer_span(session, answer, timeline)
        segment = [_seconds_text(milliseconds(t)) for t in answer.segment] if answer.segment else ["", ""]
        writer.writerow({
            **_span_columns("answer", number, start, end),
            "question": answer.question,
            "text": answer.text,
            "model": answer.model,
            "revision": answer.revision or "",
            "frames": answer.frames,
            "frame_times": ";".join(_seconds_text(milliseconds(t)) for t in answer.times),
            "frame_indices": ";".join(str(index) for index in answer.indices),
            "segment_start": segment[0],
            "segment_end": segment[1],
            "stopped": "true" if answer.stopped else "false",
            "asked_at": _local_iso(answer.asked_at),
            "answered_at": _local_iso(answer.answered_at) if answer.answered_at else "",
        })
    for number, note in enumerate(session.sorted_notes(), 1):
        writer.writerow({**_span_columns("note", number, *_note_span(note)), "text": note.text})
    return buffer.getvalue()


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)")


def _cell(value):
    """A cell a spreadsheet shows as text, never runs (OWASP's leading quote); plain numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _span_columns(kind: str, number: int, start: int, end: int) -> dict:
    return {"kind": kind, "index": number, "start_seconds": _seconds_text(start), "end_seconds": _seconds_text(end), "start": _clock(start), "end": _clock(end)}


_RENDERERS: dict[str, Callable[[Session, "Timeline | None"], str]] = {"markdown": _markdown, "json": _json, "srt": _srt, "vtt": _vtt, "csv": _csv}
