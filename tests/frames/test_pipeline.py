"""One streaming pass from file to model tensors: the right frames, the cards' numbers, cancellable."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.support import card_reference as card
from videochat import errors
from videochat.frames.pipeline import prepare
from videochat.frames.preprocess import IMAGENET_MEAN, IMAGENET_STD
from tests.support.clips import read_frame_code
from videochat.video.source import VideoSource


def unnormalize(tiles):
    mean = torch.tensor(IMAGENET_MEAN).view(-1, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(-1, 1, 1)
    return ((tiles * std + mean) * 255).clamp(0, 255).round().byte().permute(0, 2, 3, 1).numpy()


@pytest.mark.parametrize("name", ["plain.mp4", "vfr.mp4", "phone.mp4", "vp9.webm"])
def test_internvl_tensors_hold_the_sampled_frames(clips, name):
    with VideoSource.open(clips(name)) as source:
        prepared = prepare(source, "internvl2", 8, segment=(0.4, 1.3))
    pictures = unnormalize(prepared.pixel_values)
    assert [read_frame_code(p) for p in pictures] == list(prepared.indices)
    assert prepared.num_patches_list == [1] * len(prepared.indices)


@pytest.mark.parametrize(
    "family,reference",
    [
        ("internvideo2", lambda frames: card.iv2_load_video(frames)),
        ("internvideo2-hd", lambda frames: card.iv2_hd_load_video(frames)),
        ("internvl2", lambda frames: card.vl_load_video(list(frames))[0]),
        ("internvideo2.5", lambda frames: card.vl_load_video(list(frames))[0]),
    ],
)
def test_pipeline_equals_the_card_on_the_same_decoded_frames(clips, family, reference):
    with VideoSource.open(clips("rotated90.mp4")) as source:
        prepared = prepare(source, family, 8)
        frames = source.read(prepared.indices)
    assert (prepared.pixel_values - reference(frames)).abs().max().item() < 1e-4


def test_repeated_frames_of_a_short_clip_are_fed_as_the_card_feeds_them(clips):
    with VideoSource.open(clips("short.mp4")) as source:
        prepared = prepare(source, "internvideo2", 8)
        frames = source.read(card.iv2_get_index(5, 8))
    assert (prepared.pixel_values - card.iv2_load_video(frames)).abs().max().item() < 1e-4


def test_progress_reaches_the_total_and_stop_cancels(clips):
    seen = []
    with VideoSource.open(clips("plain.mp4")) as source:
        prepare(source, "internvl2", 8, progress=lambda done, total: seen.append((done, total)))
        assert seen[-1] == (8, 8)
        with pytest.raises(errors.Cancelled):
            prepare(source, "internvl2", 8, should_stop=lambda: True)
        # the source stays usable after a cancel
        assert prepare(source, "internvl2", 4).pixel_values.shape == (4, 3, 448, 448)


def test_saved_dict_holds_what_the_model_gets(clips):
    with VideoSource.open(clips("plain.mp4")) as source:
        saved = prepare(source, "internvideo2.5", 16).to_save()
    assert set(saved) >= {"pixel_values", "num_patches_list", "indices", "times"}
    assert saved["pixel_values"].shape == (16, 3, 448, 448)
    assert np.allclose(saved["times"].numpy(), saved["indices"].numpy() / 30.0)


def test_decoding_ahead_hands_over_errors_and_stops_when_the_consumer_leaves():
    import threading

    from videochat.frames.pipeline import decoded_ahead

    def failing():
        yield 1
        yield 2
        raise errors.CorruptVideo("frame 3 is damaged")

    got = []
    with pytest.raises(errors.CorruptVideo, match="damaged"):
        for item in decoded_ahead(failing(), depth=1):
            got.append(item)
    assert got == [1, 2]

    endless = decoded_ahead(iter(range(10**9)), depth=2)
    assert next(endless) == 0
    endless.close()
    assert not [t for t in threading.enumerate() if t.name == "videochat-decode"]
