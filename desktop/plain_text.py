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
