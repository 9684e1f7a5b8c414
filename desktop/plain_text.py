"""Untrusted text shown by Qt as typed, never as markup.

Qt renders a tooltip, a message box's text and a label in its default format as HTML whenever the
text merely looks like markup (`Qt.mightBeRichText`): a file name, a note or a model folder named
`<img src=...>` or `<!--` would draw an image, hide what follows, or make a dialog say something
else. File names, notes, hub messages and model folders come from outside the app.
"""

from __future__ import annotations

from PySide6.QtGui import Qt


def tooltip(text: str) -> str:
    """`text` as a tooltip that shows it as typed (line breaks kept)."""
    return Qt.convertFromPlainText(text, Qt.WhiteSpaceMode.WhiteSpaceNormal) if Qt.mightBeRichText(text) else text


def plain_box(box):
    """`box` (a QMessageBox) with its text and informative text shown as plain text; returns it."""
    box.setTextFormat(Qt.TextFormat.PlainText)
    return box


def one_line_name(path) -> str:
    """A file's name on one line, its controls and direction overrides escaped (`safe_text.one_line`): a
    name cannot reverse a title's end."""
    from pathlib import Path

    from videochat.safe_text import LONGEST_PATH, one_line  # here: the window's first paint does without it

    return one_line(Path(path).name, LONGEST_PATH)


def menu_entry(text: str) -> str:
    """`text` (a path) as a menu entry shows it: on one line (a tab would move the rest into the shortcut
    column), and "&" as itself, not marking the next letter as the entry's key."""
    from videochat.safe_text import LONGEST_PATH, one_line

    return one_line(text, LONGEST_PATH).replace("&", "&&")
