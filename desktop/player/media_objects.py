"""The player's media objects (QMediaPlayer, its audio output, the video widget), made without stalling the GUI thread.

Made at once they would stall the GUI thread: QtMultimedia's libraries, then Qt's FFmpeg plugin at
the first QMediaPlayer (docs/architecture.md has the times). `prepare()` has a pool thread load those libraries first,
without the GIL (`desktop.threads.heavy_imports.preload_multimedia_libraries`); then the modules are
imported and, in the next turn of the event loop, the objects made.
`when_ready(callback)` runs the callback at once if they are there, or once they are. Should
QtMultimedia not load at all (a library missing), `failed` says why and the callbacks still run,
with `player` None: the pane then opens files for questions only.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

from desktop.threads.background import run_job

if TYPE_CHECKING:
    from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
    from PySide6.QtMultimediaWidgets import QVideoWidget

log = logging.getLogger(__name__)


def _preload_media_job(plugins_folder: str) -> bool:
    """On a pool thread; never raises (a failed preload only means a slower import after it)."""
    try:
        from desktop.threads.heavy_imports import preload_multimedia_libraries

        return preload_multimedia_libraries(plugins_folder)
    except Exception:
        log.debug("preloading the multimedia libraries failed", exc_info=True)
        return False


class MediaObjects(QObject):
    def __init__(self, owner: QWidget, on_made: Callable[[MediaObjects], None]):
        """`owner` parents the player and the audio output; `on_made` wires them up, before anything waiting runs."""
        super().__init__(owner)
        self._owner = owner
        self._on_made = on_made
        self.player: QMediaPlayer | None = None
        self.audio: QAudioOutput | None = None
        self.video: QVideoWidget | None = None
        self.failed: str | None = None  # why QtMultimedia could not be used, if it could not
        self._preparing = False
        self._waiting: list[Callable[[], None]] = []

    def prepare(self) -> None:
        """Start making them, in steps; nothing happens if they are made or on their way."""
        if self._preparing or self.player is not None or self.failed:
            return
        self._preparing = True
        from PySide6.QtCore import QLibraryInfo

        plugins = QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)
        run_job(_preload_media_job, plugins, returned=self._on_libraries_loaded)

    def _on_libraries_loaded(self, _loaded: bool) -> None:
        try:
            import PySide6.QtMultimedia  # noqa: F401
            import PySide6.QtMultimediaWidgets  # noqa: F401
        except Exception as error:  # noqa: BLE001 (a broken install: the pane says the video cannot play)
            self._give_up(error)
            return
        QTimer.singleShot(0, self, self._make)

    def when_ready(self, callback: Callable[[], None]) -> None:
        if self.player is not None or self.failed:
            callback()
        else:
            self._waiting.append(callback)
            self.prepare()

    def _make(self) -> None:
        """The last step, once the modules are imported: make them, then run what waited for them."""
        from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
        from PySide6.QtMultimediaWidgets import QVideoWidget

        self.player = QMediaPlayer(self._owner)
        self.audio = QAudioOutput(self._owner)
        self.player.setAudioOutput(self.audio)
        self.video = QVideoWidget()
        self.player.setVideoOutput(self.video)
        self._on_made(self)
        self._run_waiting()

    def _give_up(self, error: Exception) -> None:
        log.warning("Qt's multimedia module cannot be used: %s", error)
        self.failed = f"{type(error).__name__}: {error}"
        self._run_waiting()

    def _run_waiting(self) -> None:
        waiting, self._waiting = self._waiting, []
        for callback in waiting:
            callback()
