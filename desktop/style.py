"""The app's colours and style sheets, in one place: panes and windows take them from here.

Plain strings (no Qt import): the player and the chat use them before the window's first paint.
"""

from __future__ import annotations

# One error colour: text on the window's background, and the background of white text
# (7.3:1 against white, so it reads both ways).
ERROR_COLOR = "#b00020"
# Answer ticks: amber stands apart from the highlight colour of the played part in light and dark themes.
TICK_COLOR = "#e8a317"
# Timeline notes: a teal lane along the scrub bar's bottom edge, apart from the segment's band and the ticks.
NOTE_COLOR = "#009688"

# An expected error shown inline, beside what it concerns (a label; the chat's set this colour in their palette: chat/looks.py).
ERROR_TEXT_STYLE = f"QLabel {{ color: {ERROR_COLOR}; }}"
# The player's message in place of the video, or its notice above one: why a file did not open.
ERROR_OVERLAY_STYLE = f"QLabel {{ background: {ERROR_COLOR}; color: white; padding: 12px; border-radius: 6px; }}"
NOTICE_STYLE = "QLabel { padding: 4px; }"

# Fixed-width digits, so that a running time does not jitter: the first of these the system has
# (Windows, macOS, then Linux's usual ones). A style sheet costs the start-up less than
# QFontDatabase.systemFont(FixedFont), and the digits keep the interface's size.
TIME_STYLE = 'font-family: "Cascadia Mono", Consolas, Menlo, "SF Mono", "DejaVu Sans Mono", "Noto Sans Mono", "Liberation Mono", monospace;'
# A time field whose text was refused.
FIELD_ERROR_STYLE = TIME_STYLE + f" border: 1px solid {ERROR_COLOR};"

# The scrub preview's popup: dark, as video players' previews are, whatever the theme.
POPUP_STYLE = "QWidget#scrubPreview { background: #202020; border: 1px solid #505050; } QLabel { color: #f0f0f0; }"
