"""The player pane against real QMediaPlayer playback (offscreen, Qt's FFmpeg backend).

The frame on screen is read from the pixels the video widget receives (the clips code each
frame's index in its picture), so "seeking to frame 40 shows frame 40" is checked, not assumed.
"""

from __future__ import annotations

import bisect
import threading
import time

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QColor, QImage, QKeyEvent
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QToolButton, QVBoxLayout, QWidget

import videochat.video.info
from desktop.player.pane import PlayerPane
from desktop.player.scrub_bar import TICK_COLOR, ScrubBar
from tests.support.player_pane import frame_interval, open_clip, readout, shown_frame

WAIT_MS = 15_000  # a bound for a loaded machine, not a timing claim: each wait ends as soon as its condition holds


def wait_until_shown(qtbot, pane, index: int) -> None:
    qtbot.waitUntil(lambda: shown_frame(pane) == index, timeout=WAIT_MS)


def focus_pane(qtbot, pane) -> None:
    pane.activateWindow()
    pane.setFocus()
    qtbot.waitUntil(pane.hasFocus, timeout=WAIT_MS)


def test_opening_a_clip_reports_its_frames_and_shows_its_duration(qtbot, pane, clips):
    info = open_clip(qtbot, pane, clips("plain.mp4"))

    assert info.frame_count == 90
    assert info.duration == pytest.approx(3.0)
    assert pane.info is info
    assert pane.path == clips("plain.mp4")
    time_label = next(label for label in pane.findChildren(QLabel) if " / " in label.text())
    assert time_label.text() == "0:00:00.000 / 0:00:03.000"
    wait_until_shown(qtbot, pane, 0)


def test_open_returns_at_once_and_probes_on_a_worker_thread(qtbot, pane, clips, monkeypatch):
    probe_threads = []
    real_probe = videochat.video.info.probe

    def slow_probe(path):
        probe_threads.append(threading.current_thread())
        time.sleep(0.5)
        return real_probe(path)

    monkeypatch.setattr(videochat.video.info, "probe", slow_probe)
    with qtbot.waitSignal(pane.sig_opened, timeout=10_000):
        started = time.monotonic()
        pane.open(clips("plain.mp4"))
        assert time.monotonic() - started < 0.2
        assert pane.info is None
    assert probe_threads and probe_threads[0] is not threading.main_thread()


def test_a_later_open_wins_over_an_earlier_slower_one(qtbot, pane, clips, monkeypatch):
    real_probe = videochat.video.info.probe
    slow_path = clips("vfr.mp4")

    def probe_slow_for_vfr(path):
        if path == slow_path:
            time.sleep(0.8)
        return real_probe(path)

    monkeypatch.setattr(videochat.video.info, "probe", probe_slow_for_vfr)
    opened = []
    pane.sig_opened.connect(opened.append)
    pane.open(slow_path)
    pane.open(clips("plain.mp4"))
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=10_000)
    qtbot.wait(1200)
    assert [info.path for info in opened] == [clips("plain.mp4")]
    assert pane.path == clips("plain.mp4")


def test_closing_the_pane_while_the_probe_runs_is_harmless(qtbot, monkeypatch, tmp_path):
    real_probe = videochat.video.info.probe
    finished = threading.Event()

    def slow_probe(path):
        time.sleep(0.3)
        try:
            return real_probe(path)
        finally:
            finished.set()

    monkeypatch.setattr(videochat.video.info, "probe", slow_probe)
    pane = PlayerPane()
    pane.show()
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video")  # its failure would touch the pane's widgets
    pane.open(notes)
    pane.close()
    pane.deleteLater()
    qtbot.waitUntil(finished.is_set, timeout=WAIT_MS)
    qtbot.wait(200)  # the worker's result arrives for a pane that is gone; nothing may raise


@pytest.mark.parametrize(
    ("clip", "indices"),
    [("plain.mp4", [40, 41, 89, 0]), ("vfr.mp4", [38, 39, 42, 85])],  # vfr: 38, 42 last 17 ms, 39 100 ms
)
def test_seek_to_frame_shows_that_frame_and_lands_inside_it(qtbot, pane, clips, clip, indices):
    info = open_clip(qtbot, pane, clips(clip))
    for index in indices:
        pane.seek_to_frame(index)
        wait_until_shown(qtbot, pane, index)
        assert pane.current_frame_index() == index
        start, end = frame_interval(info, index)
        assert start <= pane.position_seconds() < end


def test_period_and_comma_keys_step_exactly_one_frame(qtbot, pane, clips):
    info = open_clip(qtbot, pane, clips("vfr.mp4"))
    focus_pane(qtbot, pane)
    pane.seek_to_frame(10)
    wait_until_shown(qtbot, pane, 10)

    for key, expected in [(Qt.Key.Key_Period, 11), (Qt.Key.Key_Period, 12), (Qt.Key.Key_Comma, 11)]:
        QTest.keyClick(pane, key)
        assert pane.current_frame_index() == expected
        wait_until_shown(qtbot, pane, expected)
        start, end = frame_interval(info, expected)
        assert start <= pane.position_seconds() < end
    assert not pane.is_playing()


def test_i_and_o_keys_mark_the_frame_on_screen_and_escape_clears_them(qtbot, pane, clips):
    info = open_clip(qtbot, pane, clips("plain.mp4"))
    focus_pane(qtbot, pane)
    pane.seek_to_frame(15)
    with qtbot.waitSignal(pane.sig_segment_changed) as marked_in:
        QTest.keyClick(pane, Qt.Key.Key_I)
    assert marked_in.args[0] == pytest.approx((info.times[15], info.duration))

    pane.seek_to_frame(45)
    with qtbot.waitSignal(pane.sig_segment_changed) as marked_out:
        QTest.keyClick(pane, Qt.Key.Key_O)
    assert marked_out.args[0] == pytest.approx((info.times[15], info.times[46]))
    assert pane.segment() == pytest.approx((info.times[15], info.times[46]))

    with qtbot.waitSignal(pane.sig_segment_changed) as cleared:
        QTest.keyClick(pane, Qt.Key.Key_Escape)
    assert cleared.args == [None]
    assert pane.segment() is None


def test_a_mark_that_would_reverse_the_segment_drops_the_other_mark(qtbot, pane, clips):
    open_clip(qtbot, pane, clips("plain.mp4"))
    pane.set_in_point(2.0)
    pane.set_out_point(1.0)
    assert pane.segment() == pytest.approx((0.0, 1.0))
    pane.set_in_point(1.5)
    assert pane.segment() == pytest.approx((1.5, 3.0))
    pane.set_out_point(9.0)
    assert pane.segment() == pytest.approx((1.5, 3.0))
    pane.clear_segment()
    assert pane.segment() is None


def test_answer_ticks_are_kept_and_painted_on_the_scrub_bar(qtbot, pane, clips):
    open_clip(qtbot, pane, clips("plain.mp4"))
    scrub = pane.findChild(ScrubBar)
    ticks = [0.5, 1.5, 2.5]

    def tick_painted_at(image: QImage, seconds: float) -> bool:
        x = round(scrub.x_for_seconds(seconds))
        return any(is_tick_color(image.pixelColor(column, 3)) for column in (x - 1, x, x + 1))

    pane.set_answer_ticks(ticks)
    assert pane.answer_ticks == ticks
    image = scrub.grab().toImage()
    assert all(tick_painted_at(image, t) for t in ticks)
    assert not tick_painted_at(image, 1.0)

    pane.set_answer_ticks([])
    assert pane.answer_ticks == []
    image = scrub.grab().toImage()
    assert not any(tick_painted_at(image, t) for t in ticks)


def is_tick_color(color: QColor) -> bool:
    return max(abs(color.red() - TICK_COLOR.red()), abs(color.green() - TICK_COLOR.green()), abs(color.blue() - TICK_COLOR.blue())) < 40


def test_dragging_the_scrub_bar_seeks_a_few_times_and_ends_on_the_release_position(qtbot, pane, clips):
    info = open_clip(qtbot, pane, clips("plain.mp4"))
    scrub = pane.findChild(ScrubBar)
    seeks = []
    scrub.sig_seek_requested.connect(seeks.append)
    middle = scrub.height() // 2
    start_x, last_move_x, release_x = (round(scrub.x_for_seconds(t)) for t in (0.2, 2.0, 2.4))

    QTest.mousePress(scrub, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(start_x, middle))
    moves = 60
    for step in range(1, moves + 1):
        QTest.mouseMove(scrub, QPoint(start_x + (last_move_x - start_x) * step // moves, middle))
        qtbot.wait(5)
    QTest.mouseRelease(scrub, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(release_x, middle))

    assert 2 <= len(seeks) <= moves // 3
    assert seeks[-1] == pytest.approx(scrub.seconds_at_x(release_x))
    expected = bisect.bisect_right(info.times, seeks[-1]) - 1
    wait_until_shown(qtbot, pane, expected)
    assert pane.current_frame_index() == expected


def test_a_text_file_named_mp4_shows_the_message_in_the_pane_and_the_next_clip_opens(qtbot, pane, clips, tmp_path):
    notes = tmp_path / "notes.mp4"
    notes.write_text("meeting notes, not a video\n")
    with qtbot.waitSignal(pane.sig_open_failed, timeout=2000) as failed:
        pane.open(notes)

    message = failed.args[0]
    assert "notes.mp4" in message and "not a video" in message
    banner = pane.findChild(QLabel, "playerMessage")
    assert banner.isVisible() and banner.text() == message
    assert pane.info is None and pane.current_frame_index() == -1

    open_clip(qtbot, pane, clips("plain.mp4"))
    assert not banner.isVisible()
    assert pane.findChild(QVideoWidget).isVisible()
    wait_until_shown(qtbot, pane, 0)


def test_space_plays_and_k_pauses(qtbot, pane, clips):
    open_clip(qtbot, pane, clips("plain.mp4"))
    focus_pane(qtbot, pane)
    QTest.keyClick(pane, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: pane.is_playing() and pane.position_seconds() > 0.3, timeout=WAIT_MS)
    QTest.keyClick(pane, Qt.Key.Key_K)
    assert not pane.is_playing()
    paused_at = pane.position_seconds()
    qtbot.wait(200)
    assert pane.position_seconds() == paused_at


def test_l_plays_then_speeds_up_and_j_slows_down(qtbot, pane, clips):
    open_clip(qtbot, pane, clips("plain.mp4"))
    focus_pane(qtbot, pane)
    QTest.keyClick(pane, Qt.Key.Key_L)
    qtbot.waitUntil(pane.is_playing, timeout=WAIT_MS)
    assert pane.speed() == 1.0
    QTest.keyClick(pane, Qt.Key.Key_L)
    QTest.keyClick(pane, Qt.Key.Key_L)
    assert pane.speed() == 2.0
    QTest.keyClick(pane, Qt.Key.Key_J)
    assert pane.speed() == 1.5


def test_playing_to_the_end_holds_the_last_frame(qtbot, pane, clips):
    info = open_clip(qtbot, pane, clips("short.mp4"))
    pane.play()
    qtbot.waitUntil(lambda: not pane.is_playing() and shown_frame(pane) == info.frame_count - 1, timeout=WAIT_MS)
    assert pane.current_frame_index() == info.frame_count - 1


def test_going_to_the_last_frame_of_a_clip_whose_declared_end_cuts_its_last_frames_shows_a_picture(qtbot, pane, clips):
    # vfr.mp4 (B-frames, variable rate) declares 4.416 s; its frames 88 and 89 are at 4.400 and
    # 4.433 s, where Qt's player has ended: it holds the last frame it can show, and says which.
    info = open_clip(qtbot, pane, clips("vfr.mp4"))
    focus_pane(qtbot, pane)
    for go_to_end in (lambda: pane.seek_to_frame(info.frame_count - 1), lambda: QTest.keyClick(pane, Qt.Key.Key_End)):
        pane.seek_to_frame(40)
        wait_until_shown(qtbot, pane, 40)
        go_to_end()
        qtbot.waitUntil(lambda: pane.current_frame_index() != 40, timeout=WAIT_MS)
        wait_until_shown(qtbot, pane, pane.current_frame_index())
        assert info.frame_count - 4 <= pane.current_frame_index() < info.frame_count
        assert pane.position_seconds() * 1000 < pane._player.duration()


def test_player_keys_act_only_inside_the_pane_and_leave_a_text_box_alone(qtbot, clips):
    window = QWidget()
    qtbot.addWidget(window)
    pane = PlayerPane()
    text_box = QLineEdit()
    button = QPushButton("Send")
    layout = QVBoxLayout(window)
    for widget in (pane, text_box, button):
        layout.addWidget(widget)
    window.show()
    qtbot.waitExposed(window)
    open_clip(qtbot, pane, clips("plain.mp4"))
    pane.seek_to_frame(10)
    text_box.activateWindow()
    text_box.setFocus()
    qtbot.waitUntil(text_box.hasFocus, timeout=WAIT_MS)

    QTest.keyClicks(text_box, "., io")
    assert text_box.text() == "., io"
    assert pane.current_frame_index() == 10
    assert pane.segment() is None and not pane.is_playing()

    button.setFocus()
    qtbot.waitUntil(button.hasFocus, timeout=WAIT_MS)
    QTest.keyClick(button, Qt.Key.Key_Period)
    assert pane.current_frame_index() == 10  # outside the pane, the window forwards keys through handle_key


def test_handle_key_acts_on_player_keys_only(qtbot, pane, clips):
    open_clip(qtbot, pane, clips("plain.mp4"))
    pane.seek_to_frame(10)

    def key(code, modifiers=Qt.KeyboardModifier.NoModifier):
        return QKeyEvent(QEvent.Type.KeyPress, code, modifiers)

    assert pane.handle_key(key(Qt.Key.Key_Period))
    assert pane.current_frame_index() == 11
    assert not pane.handle_key(key(Qt.Key.Key_A))
    assert not pane.handle_key(key(Qt.Key.Key_Period, Qt.KeyboardModifier.ControlModifier))
    assert pane.current_frame_index() == 11


def test_a_bad_file_opened_over_a_video_leaves_that_video_as_it_was(qtbot, pane, clips, tmp_path):
    clip = clips("plain.mp4")
    info = open_clip(qtbot, pane, clip)
    pane.seek_to_frame(12)
    wait_until_shown(qtbot, pane, 12)
    notes = tmp_path / "notes.mp4"
    notes.write_text("meeting notes, not a video\n")
    with qtbot.waitSignal(pane.sig_open_failed, timeout=2000) as failed:
        pane.open(notes)

    assert "notes.mp4" in failed.args[0]
    notice = pane.findChild(QLabel, "playerNotice")
    assert notice.isVisible() and notice.text() == failed.args[0]
    assert pane.info is info and pane.path == clip
    assert pane.findChild(QVideoWidget).isVisible()
    assert pane.current_frame_index() == 12
    pane.step_frames(1)
    wait_until_shown(qtbot, pane, 13)

    open_clip(qtbot, pane, clips("plain.mp4"))  # the next good file opens, and the notice goes
    assert not notice.isVisible()


def test_without_a_media_backend_the_clip_still_opens_for_questions_and_says_why_it_does_not_play(qtbot, clips, monkeypatch):
    from PySide6.QtMultimedia import QMediaPlayer

    from desktop.player.opening import NO_PLAYBACK_TEXT

    monkeypatch.setattr(QMediaPlayer, "isAvailable", lambda self: False)
    pane = PlayerPane()
    qtbot.addWidget(pane)
    pane.show()
    with qtbot.waitSignal(pane.sig_opened, timeout=20_000) as blocker:
        pane.open(clips("short.mp4"))
    assert blocker.args[0].frame_count == 5 and pane.info is not None
    assert any(label.text() == NO_PLAYBACK_TEXT and label.isVisible() for label in pane.findChildren(QLabel))


def test_files_opened_while_the_player_is_still_being_made_are_handled_once_it_is(qtbot, clips, tmp_path, monkeypatch):
    import desktop.player.media_objects

    real_preload = desktop.player.media_objects._preload_media_job

    def slow_preload(plugins_folder):
        time.sleep(0.5)  # the probes of the files below come back first
        return real_preload(plugins_folder)

    monkeypatch.setattr(desktop.player.media_objects, "_preload_media_job", slow_preload)
    pane = PlayerPane()
    qtbot.addWidget(pane)
    pane.resize(640, 480)
    pane.show()
    bad = tmp_path / "notes.mp4"
    bad.write_text("meeting notes, not a video\n")
    with qtbot.waitSignal(pane.sig_open_failed, timeout=5000) as failed:
        pane.open(bad)
    assert "notes.mp4" in failed.args[0] and pane.findChild(QVideoWidget) is None

    opened = []
    pane.sig_opened.connect(opened.append)
    pane.open(clips("vfr.mp4"))
    pane.open(clips("plain.mp4"))
    qtbot.waitUntil(lambda: bool(opened), timeout=20_000)
    qtbot.wait(300)
    assert [info.path for info in opened] == [clips("plain.mp4")]
    pane.seek_to_frame(12)
    wait_until_shown(qtbot, pane, 12)


def test_when_qts_multimedia_module_cannot_load_a_clip_still_opens_for_questions(qtbot, clips, monkeypatch):
    import sys

    from desktop.player.opening import NO_PLAYBACK_TEXT

    monkeypatch.setitem(sys.modules, "PySide6.QtMultimedia", None)  # `import PySide6.QtMultimedia` now fails
    pane = PlayerPane()
    qtbot.addWidget(pane)
    pane.show()
    with qtbot.waitSignal(pane.sig_opened, timeout=20_000) as blocker:
        pane.open(clips("short.mp4"))
    assert blocker.args[0].frame_count == 5
    assert any(label.text() == NO_PLAYBACK_TEXT and label.isVisible() for label in pane.findChildren(QLabel))
    pane.seek_to_frame(2)  # nothing to show it with: no error either
    pane.step_frames(1)
    pane.toggle_play()
    assert pane.position_seconds() == 0.0 and not pane.is_playing()


@pytest.mark.parametrize(("clip", "indices"), [("plain.mp4", [53, 0, 89]), ("vfr.mp4", [38, 39, 46, 85])])
def test_the_readout_shows_the_frame_on_screens_own_time_and_number(qtbot, pane, clips, clip, indices):
    from videochat.video.timecode import format_time

    info = open_clip(qtbot, pane, clips(clip))
    for index in indices:
        pane.seek_to_frame(index)
        wait_until_shown(qtbot, pane, index)
        qtbot.waitUntil(lambda: readout(pane) == (format_time(info.times[index]), f"frame {index}"), timeout=WAIT_MS)
        assert pane.frame_time() == info.times[index]


def test_home_shows_the_first_frames_time_as_a_fresh_open_does(qtbot, pane, clips):
    open_clip(qtbot, pane, clips("plain.mp4"))
    opened = readout(pane)
    assert opened == ("0:00:00.000", "frame 0")
    focus_pane(qtbot, pane)
    pane.seek_to_frame(20)
    wait_until_shown(qtbot, pane, 20)
    QTest.keyClick(pane, Qt.Key.Key_Home)
    wait_until_shown(qtbot, pane, 0)
    qtbot.waitUntil(lambda: readout(pane) == opened, timeout=WAIT_MS)


def test_in_and_out_are_frames_and_the_segment_ends_where_the_out_frame_does(qtbot, pane, clips):
    info = open_clip(qtbot, pane, clips("vfr.mp4"))
    focus_pane(qtbot, pane)
    pane.seek_to_frame(38)
    QTest.keyClick(pane, Qt.Key.Key_I)
    pane.seek_to_frame(46)  # 17 ms long: the average frame would end it 33 ms late
    QTest.keyClick(pane, Qt.Key.Key_O)
    assert pane.in_out_frames() == (38, 46)
    assert pane.segment() == (info.times[38], info.times[47])
    pane.set_out_frame(38)  # one frame is a segment
    assert pane.segment() == (info.times[38], info.times[39])
    pane.set_in_point(float(info.times[40]))  # after the out: the out goes
    assert pane.in_out_frames() == (40, 89)


def test_m_toggles_a_visible_mute_state(qtbot, pane, clips):
    from PySide6.QtWidgets import QToolButton

    open_clip(qtbot, pane, clips("plain.mp4"))
    focus_pane(qtbot, pane)
    button = pane.findChild(QToolButton, "playerMute")
    audio = pane._media.audio
    assert not button.isChecked() and not audio.isMuted() and "Mute" in button.toolTip()

    QTest.keyClick(pane, Qt.Key.Key_M)
    assert pane.is_muted() and button.isChecked() and audio.isMuted() and "Muted" in button.toolTip()
    assert pane.volume() > 0  # muting leaves the volume as it was
    QTest.keyClick(pane, Qt.Key.Key_M)
    assert not pane.is_muted() and not button.isChecked() and not audio.isMuted()
    button.click()
    assert pane.is_muted() and audio.isMuted()


def type_into(qtbot, field, text: str) -> None:
    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=WAIT_MS)
    field.selectAll()
    QTest.keyClick(field, Qt.Key.Key_Backspace)
    QTest.keyClicks(field, text)
    QTest.keyClick(field, Qt.Key.Key_Return)


def test_in_and_out_show_their_frames_time_and_number_and_take_a_typed_time_or_frame_number(qtbot, pane, clips):
    from videochat.video.timecode import format_time

    info = open_clip(qtbot, pane, clips("vfr.mp4"))
    in_edit, out_edit = pane.findChild(QLineEdit, "playerIn"), pane.findChild(QLineEdit, "playerOut")
    in_frame, out_frame = pane.findChild(QLabel, "playerInFrame"), pane.findChild(QLabel, "playerOutFrame")
    focus_pane(qtbot, pane)
    pane.seek_to_frame(38)
    QTest.keyClick(pane, Qt.Key.Key_I)
    assert (in_edit.text(), in_frame.text(), out_edit.text()) == (format_time(info.times[38]), "frame 38", "")

    type_into(qtbot, out_edit, "46")
    assert pane.in_out_frames() == (38, 46)
    assert (out_edit.text(), out_frame.text()) == (format_time(info.times[46]), "frame 46")
    assert pane.hasFocus()  # the player's keys work again

    type_into(qtbot, in_edit, format_time(info.times[40]))
    assert pane.in_out_frames() == (40, 46) and in_edit.text() == format_time(info.times[40])

    type_into(qtbot, in_edit, "soon")
    message = pane.findChild(QLabel, "playerPositionMessage")
    assert "Type a time" in message.text() and pane.in_out_frames() == (40, 46)
    type_into(qtbot, in_edit, "#999")
    assert "past the last frame" in message.text()
    QTest.keyClick(in_edit, Qt.Key.Key_Escape)  # gives up the edit, keeps the marks
    assert pane.hasFocus() and pane.in_out_frames() == (40, 46)
    assert in_edit.text() == format_time(info.times[40]) and message.text() == ""

    type_into(qtbot, in_edit, "")
    assert pane.in_out_frames() == (0, 46) and in_edit.text() == "" and message.text() == ""


def test_ctrl_g_goes_to_a_typed_time_or_frame_number(qtbot, pane, clips):
    from videochat.video.timecode import format_time

    info = open_clip(qtbot, pane, clips("vfr.mp4"))
    go_to = pane.findChild(QLineEdit, "playerGoTo")
    focus_pane(qtbot, pane)
    QTest.keyClick(pane, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(go_to.hasFocus, timeout=WAIT_MS)
    QTest.keyClicks(go_to, "#50")
    QTest.keyClick(go_to, Qt.Key.Key_Return)
    wait_until_shown(qtbot, pane, 50)
    qtbot.waitUntil(lambda: readout(pane) == (format_time(info.times[50]), "frame 50"), timeout=WAIT_MS)
    assert pane.hasFocus() and go_to.text() == ""

    QTest.keyClick(pane, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(go_to.hasFocus, timeout=WAIT_MS)
    QTest.keyClicks(go_to, format_time(info.times[39]))
    QTest.keyClick(go_to, Qt.Key.Key_Return)
    wait_until_shown(qtbot, pane, 39)
    assert pane.current_frame_index() == 39


def test_r_loops_the_segment_from_its_out_frame_back_to_its_in_frame(qtbot, pane, clips):
    open_clip(qtbot, pane, clips("plain.mp4"))
    focus_pane(qtbot, pane)
    pane.set_in_frame(30)
    pane.set_out_frame(40)
    QTest.keyClick(pane, Qt.Key.Key_R)
    assert pane.is_looping() and pane.findChild(QToolButton, "playerLoop").isChecked()
    seen = []
    pane.sig_position_changed.connect(lambda seconds: seen.append(pane.timeline.frame_at(seconds)))
    pane.seek_to_frame(30)
    pane.play()
    qtbot.waitUntil(lambda: any(a >= 38 and b <= 32 for a, b in zip(seen, seen[1:])), timeout=WAIT_MS)
    assert pane.is_playing()
    QTest.keyClick(pane, Qt.Key.Key_R)
    assert not pane.is_looping() and not pane.findChild(QToolButton, "playerLoop").isChecked()


def test_a_segments_ends_set_back_as_in_and_out_points_give_the_same_frames(qtbot, pane, clips):
    from videochat.video.timecode import milliseconds

    open_clip(qtbot, pane, clips("vfr.mp4"))
    for first, last in [(38, 46), (0, 0), (41, 89)]:
        pane.set_in_frame(first)
        pane.set_out_frame(last)
        start, end = pane.segment()
        pane.clear_segment()
        pane.set_in_point(milliseconds(start) / 1000)  # as a session or note stores it
        pane.set_out_point(milliseconds(end) / 1000)
        assert pane.in_out_frames() == (first, last)
