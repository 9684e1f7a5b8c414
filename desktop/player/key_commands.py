"""The player's key commands: the handlers of the key table's player commands (`desktop/keys.py`).

As in mpv and video editors; J goes back rather than playing backwards, which Qt cannot. They are
QShortcuts with Qt.WidgetWithChildrenShortcut, so they act while the focus is in the pane and
never while typing elsewhere (keys with Ctrl act window-wide). For window-wide keys the main
window calls `handle_key(event)` from its keyPressEvent: a window sees only keys its focused
widget left unused, so text boxes keep theirs.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut

from desktop import keys

SEEK_STEP_S = 5.0
BACK_STEP_S = 1.0


class KeyCommands:
    """The `PlayerPane`'s keys, a part of it: each command calls the pane's own methods."""

    def commands(self) -> dict[str, Callable[[], None]]:
        """The handlers of the key table's player commands (`desktop/keys.py`), by name."""
        return {
            "play-pause": self.toggle_play,
            "pause": self.pause,
            "play-faster": self._on_key_faster,
            "slower-or-back": self._on_key_slower_or_back,
            "seek-back": lambda: self.seek(self.frame_time() - SEEK_STEP_S),
            "seek-forward": lambda: self.seek(self.frame_time() + SEEK_STEP_S),
            "frame-back": lambda: self.step_frames(-1),
            "frame-forward": lambda: self.step_frames(1),
            "first-frame": lambda: self.seek_to_frame(0),
            "last-frame": lambda: self.seek_to_frame(self.timeline.last_frame),
            "mark-in": self._mark_in_here,
            "mark-out": self._mark_out_here,
            "clear-in-out": self.clear_segment,
            "speed-down": lambda: self._transport.change_speed(-1),
            "speed-up": lambda: self._transport.change_speed(1),
            "mute": self.toggle_mute,
            "loop": self.toggle_loop,
            "go-to": self.go_to,
        }

    def _install_shortcuts(self) -> None:
        for key, name in keys.BINDINGS:
            if name not in self.commands():
                continue
            shortcut = QShortcut(QKeySequence(key), self)
            # Keys with Ctrl cannot be typed into a text box, so they act window-wide.
            wide = keys.has_modifier(key)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut if wide else Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.setAutoRepeat(True)
            shortcut.activated.connect(lambda name=name: self.run_command(name))

    def run_command(self, name: str) -> bool:
        """Run a player command of the key table; True when it ran (a video is open and it is one)."""
        action = self.commands().get(name)
        if action is None or self._info is None:
            return False
        action()
        return True

    def handle_key(self, event: QKeyEvent) -> bool:
        """Act on a player key from anywhere in the window; True when it was one (and a video is open)."""
        blocking = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier
        if event.modifiers() & blocking:
            return False
        name = keys.commands_by_key_code(self.commands()).get(event.key())
        return name is not None and self.run_command(name)

    def _on_key_faster(self) -> None:
        if self.is_playing():
            self._transport.change_speed(1)
        else:
            self.play()

    def _on_key_slower_or_back(self) -> None:
        if self.is_playing() and self.speed() > 1.0:
            self._transport.change_speed(-1)
        else:
            self.pause()
            self.seek(self.frame_time() - BACK_STEP_S)
