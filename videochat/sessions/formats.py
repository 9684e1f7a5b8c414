"""The export formats, by name: the one list the CLI's `--format`, the window's File ▸ Export menu
and `export.render` read.

Plain Python and nothing else: the window builds its menu from it before its first paint, long
before `videochat.sessions.export` (csv, datetime, dataclasses) is needed.
"""

from __future__ import annotations


class Format:
    __slots__ = ("name", "extension", "title", "menu")

    def __init__(self, name: str, extension: str, title: str, menu: str):
        self.name = name
        self.extension = extension  # without the dot
        self.title = title  # a save dialog's filter
        self.menu = menu  # the menu entry, & before its key

    def __repr__(self) -> str:
        return f"Format({self.name!r})"


FORMATS: dict[str, Format] = {
    chosen.name: chosen
    for chosen in (
        Format("markdown", "md", "Markdown report (*.md)", "&Markdown report…"),
        Format("json", "json", "JSON, everything (*.json)", "&JSON, everything…"),
        Format("srt", "srt", "SubRip captions (*.srt)", "&SubRip captions (.srt)…"),
        Format("vtt", "vtt", "WebVTT captions (*.vtt)", "&WebVTT captions (.vtt)…"),
        Format("csv", "csv", "CSV table (*.csv)", "&CSV table…"),
    )
}
