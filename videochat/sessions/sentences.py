"""The first sentence of a model's answer: what a timeline note made from that answer says.

A sentence ends at `.`, `!`, `?` or `…` followed by whitespace or the end of the text (closing
quotes and brackets go with it), at the CJK `。！？` (no space follows those), or at a blank line.
A full stop does not end one inside a number (`1.5 s`), after an abbreviation (`e.g.`, `Dr.`,
`p.m.`), after a numbered list's marker (`1.`), nor an ellipsis or `etc.` before a lower-case word.
The result has its line breaks and runs of spaces made single spaces, and a sentence longer than
`NOTE_TEXT_LIMIT` is cut at a word with an ellipsis: a note is a line in a table, not the answer.
"""

from __future__ import annotations

import re

NOTE_TEXT_LIMIT = 160
ELLIPSIS = "…"

_CLOSERS = "\"'”’)\\]»」』）】"
_END = re.compile(
    r"(?P<paragraph>\n[^\S\n]*\n)"  # a blank line
    rf"|[。！？]+[{_CLOSERS}]*"  # CJK: no space after them
    rf"|(?P<run>[.!?…]+)[{_CLOSERS}]*(?=\s|$)"
)
# Lower-case, without their final full stop. Dotted letters (e.g, i.e, p.m, U.S) are caught by
# `_DOTTED`; words that also end sentences ("no", "st") are left out on purpose.
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "prof", "jr", "sr", "vs", "cf", "approx", "ca", "fig", "al"})
_ENDS_ONLY_BEFORE_CAPITALS = frozenset({"etc"})
_WORD_BEFORE = re.compile(r"(?<![\w.])[A-Za-z][A-Za-z.]*$")
_DOTTED = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")
_LIST_MARKER_BEFORE = re.compile(r"(?:^|\n)[^\S\n]*\d+$")


def first_sentence(text: str, limit: int = NOTE_TEXT_LIMIT) -> str:
    text = text.strip()
    sentence = " ".join(text[: _first_end(text)].split())
    return _cap(sentence, limit)


def _first_end(text: str) -> int:
    for match in _END.finditer(text):
        if match.group("paragraph"):
            return match.start()
        run = match.group("run")
        if run is None or _ends_there(text, match.start(), run, text[match.end() :].lstrip()[:1]):
            return match.end()
    return len(text)


def _ends_there(text: str, start: int, run: str, next_char: str) -> bool:
    """Whether the Western punctuation `run` at `start`, followed by whitespace and `next_char`, ends a sentence."""
    if ("..." in run or ELLIPSIS in run) and next_char.islower():
        return False
    if run != ".":
        return True
    before = text[:start]
    if _LIST_MARKER_BEFORE.search(before):
        return False
    word = _WORD_BEFORE.search(before)
    if word is None:
        return True
    word = word.group().lower()
    if word in _ENDS_ONLY_BEFORE_CAPITALS:
        return not next_char.islower()
    return word not in _ABBREVIATIONS and not _DOTTED.fullmatch(word)


def _cap(sentence: str, limit: int) -> str:
    if len(sentence) <= limit:
        return sentence
    cut = sentence[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:  # a word boundary not too far back; text without spaces (CJK) is cut where it is
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS
