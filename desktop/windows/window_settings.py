"""The window's part of the settings: the controls as the user left them (generation values, volume,
the notes panel's height as last dragged) saved with the rest, and, at quit, merged into the file as
it is then, so that what another window saved meanwhile (recent files, last model) is kept. Saves
are written by a `SettingsWriter`'s thread (the file is fsynced); quitting waits for them first."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from videochat.settings import NOTES_HEIGHT_LEAST, NOTES_HEIGHT_MOST, Settings, SettingsWriter, default_path as default_settings_path

if TYPE_CHECKING:
    from PySide6.QtWidgets import QSplitter

    from desktop.windows.main_window import MainWindow

log = logging.getLogger(__name__)
WRITE_WAIT_S = 2.0  # at quit, for the saves still being written


class _Failures(QObject):
    """Brings a failed write from the writer's thread to the status bar."""

    sig_failed = Signal(str)


class WindowSettings:
    def __init__(self, window: MainWindow, settings: Settings, path: Path | None, notes_splitter: QSplitter):
        self._window = window
        self.settings = settings
        self._path = path  # None: the default file
        self._notes_splitter = notes_splitter
        self._notes_height = settings.notes_height
        notes_splitter.splitterMoved.connect(self._on_notes_resized)
        self._failures = _Failures(window)
        self._failures.sig_failed.connect(lambda message: window.statusBar().showMessage(message, 5000))
        self._writer = SettingsWriter(lambda error: self._failures.sig_failed.emit(f"Settings could not be saved: {error}"))

    def save(self) -> None:
        """The settings with the controls as they are now, into the file (written on the writer's thread); a failure is said in the status bar."""
        self._remember_controls(self.settings)
        self._writer.save(self.settings, self._path)

    def start_writer(self) -> None:
        """Start the writer's thread (from a thread that may wait: see `SnapshotWriter.start`)."""
        self._writer.start()

    def flush(self, timeout_s: float = WRITE_WAIT_S) -> bool:
        """Wait until what was saved is on disk; False if it was not written in time."""
        return self._writer.flush(timeout_s)

    def save_controls_if_changed(self) -> None:
        """At quit: the controls changed since the last save go into the file as it is now."""
        if not self.flush():  # the file read below must hold this window's saves
            log.warning("quitting with the settings still being written")
        before = self.settings.copy()
        self._remember_controls(self.settings)
        if self.settings == before:
            return
        path = self._path or default_settings_path()
        on_disk = Settings.load(path) if path.exists() else self.settings.copy()
        self._remember_controls(on_disk)
        self._writer.save(on_disk, path)  # through the writer, so that no earlier snapshot can land after it
        if not self.flush():
            log.warning("quitting with the settings still being written")

    def _remember_controls(self, settings: Settings) -> None:
        """The generation controls, the volume and the notes panel's height as the user left them, for the next start."""
        settings.max_new_tokens, settings.temperature = self._window.chat.generation_values()
        settings.volume = self._window.player.volume()
        settings.notes_height = self._notes_height

    def _on_notes_resized(self) -> None:
        # Only a height the settings take back: a panel dragged shut keeps the height it had before.
        height = self._notes_splitter.sizes()[1]
        if NOTES_HEIGHT_LEAST <= height <= NOTES_HEIGHT_MOST:
            self._notes_height = height
