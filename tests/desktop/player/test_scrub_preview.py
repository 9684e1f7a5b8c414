"""Hovering the scrub bar shows the frame at that time above the cursor, decoded off the GUI thread, latest wins.

The clips code each frame's index in its picture, so "the popup shows frame 46" is read from its pixels.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent
from PySide6.QtWidgets import QApplication

import desktop.player.thumbnails
from desktop.player.probes import probes
from desktop.player.scrub_bar import ScrubBar
from desktop.player.scrub_preview import ScrubPreview
from tests.support.clips import read_frame_code
from tests.support.player_pane import open_clip
from videochat.video.timecode import format_time
from videochat.video.timeline import Timeline

WAIT_MS = 10_000


@pytest.fixture
def decodes(monkeypatch):
    """The frame indices each decode was asked for, and whether it ran on the GUI thread."""
    calls: list[tuple[list[int], bool]] = []
    decode = desktop.player.thumbnails._decode

    def recording(path, indices, *args):
        calls.append((list(indices), threading.current_thread() is threading.main_thread()))
        return decode(path, indices, *args)

    monkeypatch.setattr(desktop.player.thumbnails, "_decode", recording)
    return calls


@pytest.fixture
def bar(qtbot, clips):
    bar = ScrubBar()
    qtbot.addWidget(bar)
    bar.resize(600, bar.sizeHint().height())
    bar.move(100, 400)
    info = probes.info(clips("long_gop.mp4"))
    bar.set_duration(info.duration)
    bar.preview = ScrubPreview(bar)
    bar.preview.set_video(info)
    bar.info = info
    bar.show()
    qtbot.waitExposed(bar)
    yield bar
    bar.preview.shutdown()


def hover(bar: ScrubBar, x: float) -> int:
    """Move the mouse over the bar at `x`; returns the frame on screen at the time there (the core's `Timeline`)."""
    position = QPointF(x, bar.height() / 2)
    event = QMouseEvent(QEvent.Type.MouseMove, position, bar.mapToGlobal(position), Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(bar, event)
    return Timeline.of(bar.info).frame_at(bar.seconds_at_x(x))


def pictured_frame(preview: ScrubPreview) -> int:
    image = preview.popup().picture.pixmap().toImage().convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return read_frame_code(rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3))


def test_hovering_the_bar_shows_the_frame_at_that_time_and_its_time_above_the_cursor(qtbot, bar, decodes):
    preview = bar.preview
    with qtbot.waitSignal(preview.sig_shown, timeout=WAIT_MS) as shown:
        index = hover(bar, 230.0)
    assert 0 < index < bar.info.frame_count - 1
    assert shown.args == [index] and preview.shown_frame() == index and pictured_frame(preview) == index
    popup = preview.popup()
    assert popup.isVisible() and format_time(float(bar.info.times[index])) in popup.time_label.text()
    top_of_bar, cursor_x = bar.mapToGlobal(QPoint(0, 0)).y(), bar.mapToGlobal(QPoint(230, 0)).x()
    assert popup.geometry().bottom() < top_of_bar and abs(popup.geometry().center().x() - cursor_x) <= 1
    assert decodes == [([index], False)]

    # Back over a frame already decoded: shown without decoding it again.
    other = hover(bar, 400.0)
    qtbot.waitUntil(lambda: preview.shown_frame() == other, timeout=WAIT_MS)
    with qtbot.waitSignal(preview.sig_shown, timeout=WAIT_MS):
        hover(bar, 230.0)
    assert pictured_frame(preview) == index and [indices for indices, _ in decodes] == [[index], [other]]


def test_a_burst_of_moves_ends_with_the_last_ones_frame_after_two_decodes_off_the_gui_thread(qtbot, bar, decodes):
    preview = bar.preview
    # Sixty moves with no turn of the event loop between them, as a fast hand delivers them.
    last = [hover(bar, x) for x in range(20, 580, 9)][-1]
    qtbot.waitUntil(lambda: preview.shown_frame() == last, timeout=WAIT_MS)
    assert pictured_frame(preview) == last
    qtbot.wait(100)  # nothing else was queued: no decode comes after the last one
    assert len(decodes) == 2 and decodes[-1][0] == [last]
    assert not any(on_gui_thread for _, on_gui_thread in decodes)


def test_the_popup_hides_when_the_mouse_leaves_the_bar_or_starts_dragging_it(qtbot, bar, decodes):
    preview = bar.preview
    with qtbot.waitSignal(preview.sig_shown, timeout=WAIT_MS):
        hover(bar, 300.0)
    QApplication.sendEvent(bar, QEvent(QEvent.Type.Leave))
    assert not preview.popup().isVisible() and preview.shown_frame() is None

    hover(bar, 300.0)
    assert preview.popup().isVisible()
    position = QPointF(300.0, bar.height() / 2)
    press = QMouseEvent(QEvent.Type.MouseButtonPress, position, bar.mapToGlobal(position), Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(bar, press)
    assert not preview.popup().isVisible()


def test_the_players_scrub_bar_previews_the_frame_a_click_there_shows(qtbot, pane, clips, decodes):  # noqa: F811 (the fixture)
    info = open_clip(qtbot, pane, clips("plain.mp4"))
    scrub = pane._scrub
    x = scrub.x_for_seconds(info.duration * 0.6)
    position = QPointF(x, scrub.height() / 2)
    with qtbot.waitSignal(pane.scrub_preview.sig_shown, timeout=WAIT_MS) as shown:
        QApplication.sendEvent(scrub, QMouseEvent(QEvent.Type.MouseMove, position, scrub.mapToGlobal(position), Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
    expected = pane.timeline.frame_at(scrub.seconds_at_x(x))  # a click there seeks to this frame
    assert shown.args == [expected] and pictured_frame(pane.scrub_preview) == expected
