"""Both frame readers return exactly the requested frames, upright, and decode by group of pictures."""

from __future__ import annotations

import numpy as np
import pytest

from videochat import errors
from tests.support.clips import read_frame_code
from videochat.video.source import VideoSource
from videochat.video.decode_runs import plan_runs
from videochat.video.pyav_reader import PyAVReader

CLIPS = ["plain.mp4", "long_gop.mp4", "vfr.mp4", "phone.mp4", "rotated90.mp4", "vp9.webm", "mpeg4.avi", "hevc.mkv"]


def some_indices(count, rng):
    chosen = {0, count - 1, count // 2, count // 2 + 1}
    chosen.update(int(i) for i in rng.choice(count, size=min(count, 12), replace=False))
    return sorted(chosen)


@pytest.mark.parametrize("reader", ["pyav", "decord"])
@pytest.mark.parametrize("name", CLIPS)
def test_reader_returns_exactly_the_requested_frames(clips, name, reader):
    with VideoSource.open(clips(name), reader=reader) as source:
        assert source.reader_name == reader
        indices = some_indices(source.info.frame_count, np.random.default_rng(len(name)))
        frames = source.read(indices[::-1])  # any order, returned in that order
        assert frames.shape[1:] == (source.info.height, source.info.width, 3)
        assert [read_frame_code(frame) for frame in frames] == indices[::-1]


@pytest.mark.parametrize("name", ["plain.mp4", "vfr.mp4", "phone.mp4", "vp9.webm"])
def test_both_readers_give_the_same_pixels(clips, name):
    indices = [0, 7, 31, 44]
    with VideoSource.open(clips(name), reader="pyav") as a, VideoSource.open(clips(name), reader="decord") as b:
        np.testing.assert_array_equal(a.read(indices), b.read(indices))


@pytest.mark.parametrize("reader", ["pyav", "decord"])
def test_resize_in_the_decoder_keeps_the_picture_upright(clips, reader):
    with VideoSource.open(clips("phone.mp4"), reader=reader) as source:
        small = source.read([3, 40], size=(90, 160))
    assert small.shape == (2, 160, 90, 3)
    assert [read_frame_code(f) for f in small] == [3, 40]


def test_repeated_indices_are_decoded_once_and_returned_each_time(clips):
    with VideoSource.open(clips("plain.mp4")) as source:
        frames = source.read([5, 5, 6, 5])
    assert [read_frame_code(f) for f in frames] == [5, 5, 6, 5]


def test_decode_plan_seeks_once_per_group_that_holds_wanted_frames(clips):
    with VideoSource.open(clips("long_gop.mp4"), reader="pyav") as source:
        table = source.info.table
        assert list(table.keyframes) == [0, 60, 120]
        runs = plan_runs([5, 10, 70, 130, 131], table)
        assert [(run.keyframe, run.indices) for run in runs] == [(0, (5, 10)), (60, (70,)), (120, (130, 131))]


def test_reader_seeks_once_per_run_and_skips_unneeded_groups(clips, monkeypatch):
    seeks = []
    original = PyAVReader._seek
    monkeypatch.setattr(PyAVReader, "_seek", lambda self, keyframe: (seeks.append(keyframe), original(self, keyframe)))
    with VideoSource.open(clips("long_gop.mp4"), reader="pyav") as source:
        frames = source.read([10, 130, 131])
    assert seeks == [0, 120]
    assert [read_frame_code(f) for f in frames] == [10, 130, 131]


def test_nearby_groups_are_decoded_through_without_a_seek(clips):
    with VideoSource.open(clips("plain.mp4")) as source:
        runs = plan_runs([10, 11, 13], source.info.table)  # 11 in group 0, 13 in group 12: 1 frame apart
    assert len(runs) == 1


def test_decord_that_cannot_be_used_hands_over_to_pyav(clips, monkeypatch):
    from videochat.video import decord_reader

    def refuse(self, info, open_timeout):
        raise errors.ReaderUnavailable("not here")

    monkeypatch.setattr(decord_reader.DecordReader, "__init__", refuse)
    with VideoSource.open(clips("plain.mp4"), reader="decord") as source:
        assert source.reader_name == "pyav"
        assert read_frame_code(source.read([17])[0]) == 17


def test_reader_failing_mid_read_hands_the_missing_frames_to_the_next(clips, monkeypatch):
    from videochat.video import decord_reader

    def fail_after_one(self, indices, size, deadline):
        yield indices[0], self._reader_for(size).get_batch([indices[0]]).asnumpy()[0]
        raise errors.ReaderUnavailable("lost it")

    monkeypatch.setattr(decord_reader.DecordReader, "frames", fail_after_one)
    with VideoSource.open(clips("plain.mp4"), reader="decord") as source:
        frames = source.read([3, 50, 80])
    assert [read_frame_code(f) for f in frames] == [3, 50, 80]


def test_decode_has_a_time_limit(clips):
    with VideoSource.open(clips("long_gop.mp4")) as source:
        with pytest.raises(errors.VideoTimeout):
            source.read([100], timeout=0.0)


def test_damaged_middle_gives_frames_or_a_clear_error_never_a_crash(clips, tmp_path):
    data = bytearray(clips("faststart.mp4").read_bytes())
    rng = np.random.default_rng(3)
    middle = len(data) // 2
    data[middle : middle + 4000] = rng.integers(0, 256, 4000, dtype=np.uint8).tobytes()
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    with VideoSource.open(damaged) as source:
        try:
            frames = source.read(list(range(0, source.info.frame_count, 3)))
        except errors.CorruptVideo as error:
            assert "damaged" in str(error)
        else:
            assert len(frames) == len(range(0, source.info.frame_count, 3))


def test_out_of_range_index_is_refused(clips):
    with VideoSource.open(clips("short.mp4")) as source:
        with pytest.raises(IndexError):
            source.read([5])
