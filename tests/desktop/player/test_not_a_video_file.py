"""What is not a regular file (a FIFO, a device, a folder) is refused before Qt's player sees it.

Qt's FFmpeg backend opens a FIFO on its loader thread and waits there for a writer; the pane's
next `setSource` then waits for that thread on the GUI thread, and the window is frozen for good.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest


@pytest.fixture
def sources_given_to_qt(monkeypatch):
    """Every file the pane hands to QMediaPlayer."""
    from PySide6.QtMultimedia import QMediaPlayer

    given: list[Path] = []
    set_source = QMediaPlayer.setSource

    def spy(player, url):
        if not url.isEmpty():
            given.append(Path(url.toLocalFile()))
        set_source(player, url)

    monkeypatch.setattr(QMediaPlayer, "setSource", spy)
    return given


@pytest.fixture
def fifo(tmp_path):
    """A FIFO named like a video; if anything opens it for reading, a writer comes after a few
    seconds and closes it, so that a regression fails this test instead of hanging the run."""
    path = tmp_path / "stream.mp4"
    os.mkfifo(path)
    done = threading.Event()

    def unblock_a_reader_later():
        deadline = time.monotonic() + 8
        while not done.wait(0.2):
            if time.monotonic() < deadline:
                continue
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))  # ENXIO while nobody reads
            except OSError as error:
                if error.errno != errno.ENXIO:
                    return

    thread = threading.Thread(target=unblock_a_reader_later, daemon=True)
    thread.start()
    yield path
    done.set()
    thread.join()


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_what_is_not_a_regular_file_is_refused_before_qt_sees_it_and_the_next_clip_opens(qtbot, pane, sources_given_to_qt, fifo, tmp_path, clips, kind):
    path, words = {"fifo": (fifo, "is not a regular file (a FIFO"), "device": (Path("/dev/zero"), "is not a regular file (a device"), "folder": (tmp_path, "is a folder")}[kind]
    with qtbot.waitSignal(pane.sig_open_failed, timeout=5000) as failed:
        pane.open(path)
    assert words in failed.args[0] and "empty" not in failed.args[0]
    assert path not in sources_given_to_qt
    with qtbot.waitSignal(pane.sig_opened, timeout=10_000) as opened:
        pane.open(clips("short.mp4"))
    assert opened.args[0].frame_count == 5


def test_a_fifo_while_a_video_is_shown_leaves_that_video_and_says_why(qtbot, pane, sources_given_to_qt, fifo, clips):
    with qtbot.waitSignal(pane.sig_opened, timeout=10_000):
        pane.open(clips("short.mp4"))
    with qtbot.waitSignal(pane.sig_open_failed, timeout=5000) as failed:
        pane.open(fifo)
    assert "is not a regular file" in failed.args[0]
    assert pane.info is not None and pane.info.frame_count == 5
    assert fifo not in sources_given_to_qt


def test_the_self_test_on_a_fifo_ends_with_a_clear_error_within_its_timeout(fifo, tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")}
    result = subprocess.run(
        [sys.executable, "-m", "desktop", str(fifo), "--model", str(tmp_path / "no-such-model"), "--self-test", "--timeout", "30"],
        capture_output=True, text=True, timeout=90, env=env,
    )  # fmt: skip
    assert result.returncode == 1
    assert "self-test failed: the clip did not open" in result.stderr and "is not a regular file (a FIFO" in result.stderr


def test_a_file_named_like_markup_is_shown_as_its_name_in_the_message_and_the_notice(qtbot, pane, tmp_path, clips):
    from PySide6.QtWidgets import QLabel

    hostile = tmp_path / "<img width=900 height=900>notes<!-- hidden.mp4"
    hostile.write_text("not a video\n")
    banner, notice = pane.findChild(QLabel, "playerMessage"), pane.findChild(QLabel, "playerNotice")
    shown = []
    for video_shown in (False, True):  # in place of a video, then above one that stays
        if video_shown:
            with qtbot.waitSignal(pane.sig_opened, timeout=10_000):
                pane.open(clips("short.mp4"))
        with qtbot.waitSignal(pane.sig_open_failed, timeout=5000) as failed:
            pane.open(hostile)
        label = notice if video_shown else banner
        assert label.text() == failed.args[0] and hostile.name in label.text()
        # Drawn as rich text, the name would be a 900-pixel image and the rest of the message hidden.
        shown.append(label.heightForWidth(600))
    assert max(shown) < 150, shown
