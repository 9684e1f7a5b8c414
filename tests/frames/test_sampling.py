"""The cards' frame-index rules, scoped to the clip or an in/out segment, and their edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support import card_reference as card
from videochat import errors
from videochat.frames.pipeline import sample_frames
from videochat.frames.sampling import card_bound_to_range, internvideo2_message, internvideo2_offsets, internvl_indices
from videochat.video.info import probe


@pytest.mark.parametrize("num_frames", [1, 2, 3, 7, 8, 9, 16, 100, 1799, 1800, 12345])
@pytest.mark.parametrize("num_segments", [1, 4, 8, 16, 32, 128, 512])
def test_index_rules_equal_the_cards(num_frames, num_segments):
    np.testing.assert_array_equal(internvideo2_offsets(num_frames, num_segments), card.iv2_get_index(num_frames, num_segments))
    for fps in (30.0, 29.97002997, 24.0, 7.5):
        start, end = card_bound_to_range(None, fps, num_frames - 1)
        np.testing.assert_array_equal(internvl_indices(start, end, num_segments), card.vl_get_index(None, fps, num_frames - 1, num_segments=num_segments))


@pytest.mark.parametrize("bound", [(0.0, 1.0), (0.5, 2.5), (1.2, 1.9), (2.0, 100.0)])
def test_internvl_bound_mapping_equals_the_card(bound):
    start, end = card_bound_to_range(bound, 30.0, 89)
    np.testing.assert_array_equal(internvl_indices(start, end, 8), card.vl_get_index(bound, 30.0, 89, num_segments=8))


def test_whole_clip_samples_are_the_cards_with_true_times(clips):
    info = probe(clips("vfr.mp4"))
    iv2 = sample_frames_of(info, "internvideo2", 8)
    np.testing.assert_array_equal(iv2.indices, card.iv2_get_index(90, 8))
    np.testing.assert_allclose(iv2.times, info.times[iv2.indices])
    vl = sample_frames_of(info, "internvl2", 8)
    np.testing.assert_array_equal(vl.indices, card.vl_get_index(None, info.fps, 89, num_segments=8))
    assert not np.allclose(vl.times, vl.indices / info.fps, atol=0.01)  # VFR: true times, not index / fps


def sample_frames_of(info, family, frames, segment=None):
    class Source:  # sampling needs only the metadata
        pass

    source = Source()
    source.info = info
    return sample_frames(source, family, frames, segment)


@pytest.mark.parametrize("fps,indices", [(30.0, [5, 16, 27, 38, 50, 61, 72, 83]), (29.97002997002997, [3, 10, 25, 44, 75, 105, 1799]), (24.0, [12, 37, 62])])
def test_internvideo2_message_is_the_cards_character_for_character(fps, indices):
    indices = np.array(indices)
    assert internvideo2_message(indices, fps) == card.iv2_msg(indices, fps)


def test_internvideo2_message_example():
    message = internvideo2_message(np.array([5, 16, 27, 38, 50, 61, 72, 83]), 30.0)
    assert message == "The video contains 8 frames sampled at 0.2, 0.5, 0.9, 1.3, 1.7, 2.0, 2.4, 2.8 seconds."


@pytest.mark.parametrize("family", ["internvideo2", "internvideo2-hd", "internvl2", "internvideo2.5"])
@pytest.mark.parametrize("segment", [(0.5, 2.5), (1.01, 1.49), (0.0, 0.2), (2.9, 10.0)])
def test_segment_frames_lie_inside_the_segment(clips, family, segment):
    info = probe(clips("plain.mp4"))
    sample = sample_frames_of(info, family, 8 if family != "internvideo2.5" else 4, segment)
    assert np.all(sample.times >= segment[0] - 1e-6)
    assert np.all(sample.times <= segment[1] + 1e-6)
    assert np.all(np.diff(sample.indices) >= 0)


def test_segment_on_a_vfr_clip_uses_true_times(clips):
    info = probe(clips("vfr.mp4"))
    sample = sample_frames_of(info, "internvl2", 8, (1.0, 2.0))
    assert sample.times.min() >= 1.0 and sample.times.max() <= 2.0


def test_segment_too_short_for_a_frame_start_uses_the_frame_on_screen(clips):
    info = probe(clips("plain.mp4"))  # frames at k / 30 s
    sample = sample_frames_of(info, "internvl2", 8, (1.01, 1.02))
    assert list(sample.indices) == [30]


@pytest.mark.parametrize(
    "segment,words",
    [((5.0, 6.0), r"starts after the end of the clip \(3.0 s\)"), ((2.0, 1.0), r"out point \(1.0 s\) comes before its in point \(2.0 s\)"),
     ((1.0, 1.0), "both at 1.0 s"), ((-3.0, -1.0), r"ends at -1.0 s, before the clip begins \(0.0 s\)")],
)
def test_bad_segments_are_refused_with_a_message(clips, segment, words):
    info = probe(clips("plain.mp4"))
    with pytest.raises(errors.InvalidSegment, match=words):
        sample_frames_of(info, "internvl2", 8, segment)


def test_short_clip_rules(clips):
    info = probe(clips("short.mp4"))  # 5 frames
    assert list(sample_frames_of(info, "internvideo2", 8).indices) == list(card.iv2_get_index(5, 8))  # repeats, as the card
    assert len(sample_frames_of(info, "internvideo2", 8).indices) == 8
    assert list(sample_frames_of(info, "internvl2", 8).indices) == [0, 1, 2, 3, 4]  # each frame once
    assert list(sample_frames_of(info, "internvl2", 5).indices) == [0, 1, 2, 3, 4]
    assert len(sample_frames_of(info, "internvideo2.5", 128).indices) == 4  # the largest multiple of 4
    assert len(set(sample_frames_of(info, "internvideo2.5", 128).indices)) == 4


def test_one_frame_clip_rules(clips):
    info = probe(clips("one_frame.mp4"))
    assert list(sample_frames_of(info, "internvideo2", 8).indices) == [0] * 8
    assert list(sample_frames_of(info, "internvl2", 8).indices) == [0]
    assert list(sample_frames_of(info, "internvideo2.5", 128).indices) == [0] * 4
    assert "sampled at 0.0, 0.0" in sample_frames_of(info, "internvideo2", 8).message


@pytest.mark.parametrize("family,frames,words", [("internvideo2.5", 30, "groups of 4: use 28 or 32"), ("internvideo2.5", 1024, "1 to 512"), ("internvl2", 0, "1 to 64")])
def test_frame_counts_outside_the_family_rule_are_refused(clips, family, frames, words):
    info = probe(clips("plain.mp4"))
    with pytest.raises(errors.InvalidFrameCount, match=words):
        sample_frames_of(info, family, frames)


def test_internvideo25_default_is_the_cards_128(clips):
    info = probe(clips("long_gop.mp4"))  # 150 frames
    sample = sample_frames_of(info, "internvideo2.5", None)
    assert len(sample.indices) == 128
    np.testing.assert_array_equal(sample.indices, card.vl_get_index(None, info.fps, 149, num_segments=128))
