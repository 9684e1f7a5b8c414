"""The player's media objects: made after the window shows, the video widget shown once before it is needed."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QGuiApplication
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import QApplication, QStackedWidget

import desktop.player.media_objects
from desktop.player.pane import PlayerPane


def shown_pane(qtbot) -> PlayerPane:
    pane = PlayerPane()
    qtbot.addWidget(pane)
    pane.resize(640, 480)
    pane.show()
    return pane


class ShowWatcher(QObject):
    """Each QVideoWidget shown, with whether the pane had its player then: seen as it happens, not polled."""

    def __init__(self, pane: PlayerPane):
        super().__init__()
        self.pane = pane
        self.shown: list[tuple[QVideoWidget, bool]] = []

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Show and isinstance(watched, QVideoWidget):
            self.shown.append((watched, self.pane._media.player is not None))
        return False


def test_the_video_widget_is_shown_once_before_the_player_is_handed_over_and_then_waits_in_the_stack(qtbot, clips):
    pane = PlayerPane()
    qtbot.addWidget(pane)
    watcher = ShowWatcher(pane)
    QApplication.instance().installEventFilter(watcher)
    try:
        pane.resize(640, 480)
        pane.show()
        qtbot.waitUntil(lambda: pane._media.player is not None, timeout=10_000)
    finally:
        QApplication.instance().removeEventFilter(watcher)
    seen_before_hand_over = [widget for widget, had_player in watcher.shown if not had_player]
    video = pane._media.video
    assert seen_before_hand_over and seen_before_hand_over[-1] is video
    assert isinstance(video.parent(), QStackedWidget) and not video.isVisible()  # "No video open." still shows
    with qtbot.waitSignal(pane.sig_opened, timeout=10_000):
        pane.open(clips("short.mp4"))
    assert video.isVisible()


def test_a_hidden_pane_gets_its_player_without_showing_the_video_widget(qtbot, clips):
    pane = PlayerPane()
    qtbot.addWidget(pane)
    with qtbot.waitSignal(pane.sig_opened, timeout=10_000):
        pane.open(clips("short.mp4"))
    assert pane._media.player is not None and isinstance(pane._media.video.parent(), QStackedWidget)


def test_under_x11_the_opengl_driver_is_loaded_on_a_pool_thread_too(qtbot, monkeypatch):
    import threading

    calls = []
    monkeypatch.setattr(QGuiApplication, "platformName", staticmethod(lambda: "xcb"))
    monkeypatch.setattr(desktop.player.media_objects, "_preload_opengl_job", lambda: calls.append(threading.current_thread()) or True)
    pane = shown_pane(qtbot)
    qtbot.waitUntil(lambda: pane._media.player is not None, timeout=10_000)
    assert len(calls) == 1 and calls[0] is not threading.main_thread()
