"""The player's media objects: made after the window shows, the video widget shown once before it is needed."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import QStackedWidget

import desktop.player.media_objects
from desktop.player.pane import PlayerPane


def shown_pane(qtbot) -> PlayerPane:
    pane = PlayerPane()
    qtbot.addWidget(pane)
    pane.resize(640, 480)
    pane.show()
    return pane


def test_the_video_widget_is_shown_once_before_the_player_is_handed_over_and_then_waits_in_the_stack(qtbot, clips):
    pane = shown_pane(qtbot)
    seen_before_hand_over = []

    def video_visible_while_no_player():
        video = pane.findChild(QVideoWidget)
        if video is not None and video.isVisible() and pane._media.player is None:
            seen_before_hand_over.append(video)
        return pane._media.player is not None

    qtbot.waitUntil(video_visible_while_no_player, timeout=10_000)
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
