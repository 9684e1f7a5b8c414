"""A video's conversation and notes as the files annotators use: a Markdown report, JSON with
everything, SubRip and WebVTT captions, and a CSV table.

Every time is rounded half up to the millisecond from the time as the session file writes it
(3661.0005 is 1:01:01.001), once, and every format is written from that same millisecond count,
so the formats never disagree. No export holds the Hugging Face token: each text is redacted
before it leaves this module.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

from videochat.chat import Answer
from videochat.errors import VideoChatError
from videochat.logs import redact
from videochat.sessions import Session, SessionStore, write_atomically
from videochat.timecode import format_time, milliseconds

EXPORT_FORMAT = "videochat-session-export"
EXPORT_VERSION = 1
CSV_COLUMNS = [
    "kind", "index", "start_seconds", "end_seconds", "start", "end", "question", "text", "model", "revision",
    "frames", "frame_times", "frame_indices", "segment_start", "segment_end", "stopped", "asked_at",
    "answered_at",
]


class NoSavedConversation(VideoChatError):
    pass


@dataclass(frozen=True)
class Format:
    name: str
    extension: str  # without the dot
    title: str  # a save dialog's filter


FORMATS: dict[str, Format] = {
    chosen.name: chosen
    for chosen in (
        Format("markdown", "md", "Markdown report (*.md)"),
        Format("json", "json", "JSON, everything (*.json)"),
        Format("srt", "srt", "SubRip captions (*.srt)"),
        Format("vtt", "vtt", "WebVTT captions (*.vtt)"),
        Format("csv", "csv", "CSV table (*.csv)"),
    )
}


def saved_session(video_path) -> Session:
    """The saved session of this video; raises `NoSavedConversation` when there is none."""
    session = SessionStore().read(video_path)
    if session is None:
        raise NoSavedConversation(f"No saved conversation for {video_path}: ask about it first (in the app or with `videochat ask`).")
    return session


def render(session: Session, format_name: str) -> str:
    if format_name not in FORMATS:
        raise ValueError(f"unknown export format {format_name!r} (one of {', '.join(FORMATS)})")
    return redact(_RENDERERS[format_name](session), _secrets())


def write_export(session: Session, format_name: str, path: Path) -> None:
    """Raises OSError when the file cannot be written; an existing file is then left as it was."""
    write_atomically(Path(path), render(session, format_name))


def _secrets() -> list[str]:
    try:
        from videochat.hub import stored_token

        token = stored_token()
    except Exception:  # an unreadable token file must not stop an export; the hf_ pattern still applies
        return []
    return [token] if token else []


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


def answer_span(session: Session, answer: Answer) -> tuple[int, int]:
    """(start, end) in ms of `Session.answer_span`."""
    return _span_ms(*session.answer_span(answer))


def _note_span(note) -> tuple[int, int]:
    return _span_ms(note.start, note.end)


def _span_ms(start: float, end: float) -> tuple[int, int]:
    start_ms = milliseconds(start)
    return start_ms, max(start_ms, milliseconds(end))


# -- formats ----------------------------------------------------------------------------


def _markdown(session: Session) -> str:
    video = session.video
    lines = [f"# {Path(video.path).name}", "", f"`{video.path}`", ""]
    lines += [f"Duration {_clock(milliseconds(video.duration))} · exported {_local_iso()}", ""]
    for number, answer in enumerate(session.turns, 1):
        start, end = answer_span(session, answer)
        scope = f"segment {_clock(start)}–{_clock(end)}" if answer.segment else "whole clip"
        model = answer.model + (f" ({answer.revision})" if answer.revision else "")
        lines += [f"## {number}. {_one_line(answer.question)}", "", answer.text.strip(), ""]
        if answer.stopped:
            lines += ["*(stopped before the end)*", ""]
        lines += [
            f"*{model} · {answer.frames} frame{'' if answer.frames == 1 else 's'} · {scope} · {answer.precision} on {answer.device} · asked {_local_iso(answer.asked_at)}*",
            "",
            "Frames at " + ", ".join(_clock(milliseconds(t)) for t in answer.times),
            "",
        ]
    if session.interrupted:
        lines += [f"*Unanswered (interrupted): {_one_line(session.interrupted['question'])}*", ""]
    if session.notes:
        lines += ["## Timeline notes", ""]
        for note in session.sorted_notes():
            start, end = _note_span(note)
            text = "\n  ".join(line for line in note.text.strip().splitlines() if line.strip())  # one list item
            lines.append(f"- {_clock(start)}–{_clock(end)}: {text}")
        lines.append("")
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _json(session: Session) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        app_version = version("videochat-desktop")
    except PackageNotFoundError:
        app_version = "unknown"
    turns = []
    for answer in session.turns:
        start, end = answer_span(session, answer)
        turns.append({**answer.to_dict(), "start": start / 1000, "end": end / 1000})
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


def caption_cues(session: Session) -> list[tuple[int, int, str]]:
    """(start ms, end ms, text) of the notes in time order, or of the answers when there are no notes."""
    if session.notes:
        spans = [(*_note_span(note), note.text) for note in session.notes]
    else:
        spans = [(*answer_span(session, answer), answer.text) for answer in session.turns]
    shortest = max(1, milliseconds(session.video.frame_duration))
    return [(start, end if end > start else start + shortest, text) for start, end, text in sorted(spans, key=lambda span: span[:2])]


def caption_text(text: str) -> str:
    """One cue's text: a blank line would end the cue, and an arrow would read as a timing line."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(line for line in lines if line.strip()).replace("-->", "→")


def _srt(session: Session) -> str:
    cues = []
    for number, (start, end, text) in enumerate(caption_cues(session), 1):
        cues.append(f"{number}\n{_caption_clock(start, ',')} --> {_caption_clock(end, ',')}\n{caption_text(text)}\n")
    return "\n".join(cues)


def _vtt(session: Session) -> str:
    cues = ["WEBVTT\n"]
    for start, end, text in caption_cues(session):
        escaped = caption_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        cues.append(f"{_caption_clock(start, '.')} --> {_caption_clock(end, '.')}\n{escaped}\n")
    return "\n".join(cues)


def _csv(session: Session) -> str:
    # Plain UTF-8 without a byte order mark: every other reader of the file would see the mark.
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)  # excel dialect: RFC 4180 quoting, \r\n
    writer.writeheader()
    for number, answer in enumerate(session.turns, 1):
        start, end = answer_span(session, answer)
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


def _span_columns(kind: str, number: int, start: int, end: int) -> dict:
    return {"kind": kind, "index": number, "start_seconds": _seconds_text(start), "end_seconds": _seconds_text(end), "start": _clock(start), "end": _clock(end)}


_RENDERERS: dict[str, Callable[[Session], str]] = {"markdown": _markdown, "json": _json, "srt": _srt, "vtt": _vtt, "csv": _csv}
