"""Metadata and the per-frame timestamp table, and clear errors for files that are no good."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from videochat import errors
from tests.support import clips as testing
from videochat.video.info import probe
from videochat.video.source import VideoSource


def test_probe_reads_metadata_of_a_plain_clip(clips):
    info = probe(clips("plain.mp4"))
    assert (info.frame_count, info.width, info.height, info.rotation) == (90, 320, 240, 0)
    assert info.fps == pytest.approx(30.0)
    assert info.duration == pytest.approx(3.0)
    assert info.codec == "h264"
    assert not info.variable_frame_rate
    np.testing.assert_allclose(info.times, np.arange(90) / 30.0, atol=1e-6)
    assert list(info.table.keyframes) == [0, 12, 24, 36, 48, 60, 72, 84]


def test_frame_times_stay_true_on_a_variable_frame_rate_clip(clips):
    info = probe(clips("vfr.mp4"))
    expected = np.concatenate([[0], np.cumsum(([33, 50, 17, 100] * 23)[:89])]) / 1000.0
    assert info.variable_frame_rate
    np.testing.assert_allclose(info.times, expected, atol=1e-6)
    # The average rate is what the cards divide by; it does not give the true times here.
    assert np.abs(np.arange(90) / info.fps - info.times).max() > 0.05


def test_phone_clip_reports_upright_size_and_rotation(clips):
    info = probe(clips("phone.mp4"))
    assert (info.width, info.height, info.rotation) == (180, 320, 270)


@pytest.mark.parametrize("name,codec", [("vp9.webm", "vp9"), ("mpeg4.avi", "mpeg4"), ("hevc.mkv", "hevc")])
def test_probe_reads_other_containers_and_codecs(clips, name, codec):
    info = probe(clips(name))
    assert info.codec == codec
    assert info.frame_count == frames_in_spec(name)
    assert np.all(np.diff(info.times) > 0)


def frames_in_spec(name):
    from tests.conftest import ClipFactory

    return ClipFactory.SPECS[name]["frames"]


def test_non_ascii_path_with_spaces_works(clips, tmp_path):
    folder = tmp_path / "Vidéos de l'été 東京"
    folder.mkdir()
    target = folder / "clip one ü.mp4"
    shutil.copy(clips("plain.mp4"), target)
    assert probe(target).frame_count == 90


# -- bad input --------------------------------------------------------------------------


def bad_files(tmp_path, clips):
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.mp4"  # moov at the end: cut off, nothing indexes the frames
    truncated.write_bytes(clips("plain.mp4").read_bytes()[:3000])
    random_bytes = tmp_path / "random.mkv"
    random_bytes.write_bytes(np.random.default_rng(1).integers(0, 256, 20000, dtype=np.uint8).tobytes())
    return {
        "missing": (tmp_path / "nope.mp4", errors.UnreadableVideo, "does not exist"),
        "folder": (tmp_path, errors.UnreadableVideo, "folder"),
        "zero bytes": (empty, errors.UnreadableVideo, "empty"),
        "text named .mp4": (text, errors.UnreadableVideo, "not a video file"),
        "truncated": (truncated, errors.UnreadableVideo, "truncated"),
        "random bytes": (random_bytes, errors.UnreadableVideo, "not a video file"),
        "audio only": (testing.write_audio_only(tmp_path / "voice.m4a"), errors.NoVideoStream, "no video track"),
        "no frames": (testing.write_empty_video(tmp_path / "blank.avi"), errors.NoFrames, "no frames"),
        "unknown codec": (testing.write_unknown_codec(tmp_path / "odd.avi"), errors.UnsupportedCodec, "cannot decode"),
    }


BAD_KINDS = ["missing", "folder", "zero bytes", "text named .mp4", "truncated", "random bytes", "audio only", "no frames", "unknown codec"]


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_bad_input_gets_a_typed_error_with_a_message(tmp_path, clips, kind):
    path, error_type, words = bad_files(tmp_path, clips)[kind]
    with pytest.raises(error_type) as caught:
        probe(path)
    message = str(caught.value)
    assert words in message
    assert "\n" not in message and "Traceback" not in message


def test_file_cut_short_with_its_index_in_front_keeps_what_is_readable(clips, tmp_path):
    data = clips("faststart.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 2 // 3])
    info = probe(cut)
    assert info.truncated
    assert 0 < info.frame_count < 90


@pytest.mark.parametrize("kind", ["fifo", "device", "link to a fifo"])
def test_what_is_not_a_regular_file_is_named_as_such_and_never_opened(tmp_path, kind):
    """A FIFO would block the open for good and /dev/zero never ends; both stat as 0 bytes."""
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    link = tmp_path / "link.mp4"
    link.symlink_to(fifo)
    path, words = {"fifo": (fifo, "a FIFO"), "device": (Path("/dev/zero"), "a device"), "link to a fifo": (link, "a FIFO")}[kind]
    with pytest.raises(errors.UnreadableVideo) as caught:
        VideoSource.open(path)
    message = str(caught.value)
    assert "is not a regular file" in message and words in message and "empty" not in message
    assert "\n" not in message


def test_a_stalled_open_is_a_timeout_not_a_hang(clips):
    with pytest.raises(errors.VideoTimeout):
        probe(clips("long_gop.mp4"), open_timeout=1e-9)


def test_probing_imports_no_numpy_ma(tmp_path):
    """numpy's median imports numpy.ma (~10 ms, holding the GIL) at the first open: the window stalled on it."""
    import subprocess
    import sys

    from tests.support import REPO_ROOT

    code = "import sys; from tests.support.clips import write_clip; clip = write_clip(sys.argv[1], frames=30, width=64, height=48); " \
           "from videochat.video.info import probe; probe(clip); print('numpy.ma' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "clip.mp4")], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize("count", [1, 2, 5, 8, 89])
def test_the_last_frame_lasts_the_median_of_the_others_as_numpy_gives_it(count):
    from videochat.video.info import _median

    durations = np.random.default_rng(count).choice([0.017, 0.033, 0.05, 0.1], size=count)
    assert _median(durations) == float(np.median(durations))
