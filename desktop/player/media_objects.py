"""The player's media objects (QMediaPlayer, its audio output, the video widget), made without stalling the GUI thread.

Made at once they would stall the GUI thread: QtMultimedia's libraries, then Qt's FFmpeg plugin at
the first QMediaPlayer (docs/architecture.md has the times). `prepare()` has a pool thread load those libraries first,
without the GIL (`desktop.threads.heavy_imports.preload_multimedia_libraries`); then the modules are
imported and, in the next turn of the event loop, the objects made.

The video widget's first appearance is the other cost: it is a native window with an OpenGL surface
(Qt's RHI), and under X11 its first showing loads Mesa's driver and LLVM, creates two GL contexts
and compiles the video's shaders (about 180 ms of the GUI thread under Xvfb, when a video first
opened). The driver is loaded on a pool thread with the multimedia libraries
(`preload_opengl_libraries`), and the widget is shown once, one pixel large in a corner of its
owner, until its native window is exposed (the RHI is made then), before it is handed over: the
rest is paid once, while nothing is opening, instead of when the first video opens.

`when_ready(callback)` runs the callback at once if they are there, or once they are. Should
QtMultimedia not load at all (a library missing), `failed` says why and the callbacks still run,
with `player` None: the pane then opens files for questions only.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

from desktop.threads.background import run_job

if TYPE_CHECKING:
    from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
    from PySide6.QtMultimediaWidgets import QVideoWidget

log = logging.getLogger(__name__)
# How often the video widget's first showing is checked, and how long it may take before it is handed
# over anyway (its native window then finishes on screen, as before).
SURFACE_CHECK_MS = 15
SURFACE_WAIT_LIMIT_S = 1.0


def _preload_media_job(plugins_folder: str) -> bool:
    """On a pool thread; never raises (a failed preload only means a slower import after it)."""
    try:
        from desktop.threads.heavy_imports import preload_multimedia_libraries

        return preload_multimedia_libraries(plugins_folder)
    except Exception:
        log.debug("preloading the multimedia libraries failed", exc_info=True)
        return False


def _preload_opengl_job() -> bool:
    """On a pool thread; never raises."""
    try:
        from desktop.threads.heavy_imports import preload_opengl_libraries

        return preload_opengl_libraries()
    except Exception:
        log.debug("preloading the OpenGL libraries failed", exc_info=True)
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
        self._warming: tuple | None = None  # (player, audio, video, when the warm-up started)

    def prepare(self) -> None:
        """Start making them, in steps; nothing happens if they are made or on their way."""
        if self._preparing or self.player is not None or self.failed:
            return
        self._preparing = True
        from PySide6.QtCore import QLibraryInfo
        from PySide6.QtGui import QGuiApplication

        if QGuiApplication.platformName() == "xcb":
            run_job(_preload_opengl_job, returned=lambda _loaded: None)  # best effort: nothing waits for it
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
        """Once the modules are imported: make them, and show the video widget once if its owner is on screen."""
        from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
        from PySide6.QtMultimediaWidgets import QVideoWidget

        player = QMediaPlayer(self._owner)
        audio = QAudioOutput(self._owner)
        player.setAudioOutput(audio)
        video = QVideoWidget()
        player.setVideoOutput(video)
        if not self._owner.isVisible():
            self._hand_over(player, audio, video)
            return
        video.setParent(self._owner)
        video.setGeometry(0, 0, 1, 1)
        video.show()
        self._warming = (player, audio, video, time.monotonic())
        QTimer.singleShot(SURFACE_CHECK_MS, self, self._check_surface)

    def _check_surface(self) -> None:
        player, audio, video, started = self._warming
        if not (_surface_exposed(video) or time.monotonic() - started > SURFACE_WAIT_LIMIT_S):
            QTimer.singleShot(SURFACE_CHECK_MS, self, self._check_surface)
            return
        self._warming = None
        video.hide()
        self._hand_over(player, audio, video)

    def _hand_over(self, player: QMediaPlayer, audio: QAudioOutput, video: QVideoWidget) -> None:
        """The last step: they are the pane's now; then what waited for them runs."""
        self.player, self.audio, self.video = player, audio, video
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


def _surface_exposed(video: QVideoWidget) -> bool:
    """Whether the video widget's native window (Qt's QVideoWindow inside it, a child of its
    top-level's window) is on screen; True where there is none to wait for."""
    from PySide6.QtGui import QGuiApplication

    top = video.window().windowHandle()
    surfaces = [window for window in QGuiApplication.allWindows() if window.metaObject().className() == "QVideoWindow" and window.parent() == top]
    return not surfaces or any(window.isExposed() for window in surfaces)
