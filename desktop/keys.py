"""The keyboard's table, as mpv's input.conf has it: key → command name; each command's handler
lives with what it acts on (the player pane's `commands()`, the main window's), and Help ▸
Keyboard shortcuts lists this table.

Keys are written as `QKeySequence` reads them. Plain data (Qt is imported only to read a key):
the help and the tests read it without building anything. Shift is not part of a key here, so
"?" is the same key on every layout that needs Shift for it.
"""

from __future__ import annotations

# (key, command): the order is the help's.
BINDINGS: tuple[tuple[str, str], ...] = (
    ("Space", "play-pause"),
    ("K", "pause"),
    ("L", "play-faster"),
    ("J", "slower-or-back"),
    ("Left", "seek-back"),
    ("Right", "seek-forward"),
    (",", "frame-back"),
    (".", "frame-forward"),
    ("Home", "first-frame"),
    ("End", "last-frame"),
    ("I", "mark-in"),
    ("O", "mark-out"),
    ("Esc", "clear-in-out"),
    ("[", "speed-down"),
    ("]", "speed-up"),
    ("R", "loop"),
    ("Ctrl+G", "go-to"),
    ("M", "mute"),
    ("?", "show-shortcuts"),
)

# What each command does, as the help says it.
COMMANDS: dict[str, str] = {
    "play-pause": "Play or pause (on the last frame: play from the start)",
    "pause": "Pause",
    "play-faster": "Play; while playing, faster",
    "slower-or-back": "Slower while faster than 1×, otherwise pause and go back 1 s",
    "seek-back": "Back 5 s",
    "seek-forward": "Forward 5 s",
    "frame-back": "One frame back (pauses)",
    "frame-forward": "One frame forward (pauses)",
    "first-frame": "First frame",
    "last-frame": "Last frame",
    "mark-in": "In at the frame on screen",
    "mark-out": "Out at the frame on screen (that frame included)",
    "clear-in-out": "Clear in and out",
    "speed-down": "Slower",
    "speed-up": "Faster",
    "loop": "Loop the in/out segment (or the whole video) on or off",
    "go-to": "Go to a time or frame number (type it, then Enter)",
    "mute": "Mute or unmute",
    "show-shortcuts": "This list of keyboard shortcuts",
}


def keys_of(command: str) -> list[str]:
    """The keys bound to `command`, in the table's order."""
    return [key for key, name in BINDINGS if name == command]


def commands_by_key_code(names) -> dict[int, str]:
    """Qt key code → command, for the plain keys (no Ctrl, Alt or Meta) of the commands in `names`."""
    from PySide6.QtGui import QKeySequence

    plain = {}
    for key, command in BINDINGS:
        combination = QKeySequence(key)[0]
        if command in names and not has_modifier(key):
            plain[combination.key()] = command
    return plain


def has_modifier(key: str) -> bool:
    """Whether a key of the table needs Ctrl, Alt or Meta (such keys act window-wide, even from a text box)."""
    return "+" in key[:-1]
