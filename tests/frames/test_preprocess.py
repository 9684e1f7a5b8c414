"""Preprocessing equals the cards' pipelines to 1e-4, and the comparison is sharp enough to catch mistakes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.support import card_reference as card
from videochat.frames import preprocess

TOLERANCE = 1e-4
SIZES = [(240, 320), (720, 1280), (1080, 1920), (320, 180), (224, 224), (225, 401), (100, 90)]


def frames_of(height, width, count=3, seed=0):
    """Natural-looking frames: smooth gradients plus noise, so resampling differences show."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([(x * 255 / width), (y * 255 / height), ((x + y) * 127 / (width + height))], axis=-1)
    frames = [np.clip(base + rng.normal(0, 40, base.shape) + 20 * k, 0, 255).astype(np.uint8) for k in range(count)]
    return np.stack(frames)


def max_diff(a, b):
    assert a.shape == b.shape, (a.shape, b.shape)
    return (a - b).abs().max().item()


@pytest.mark.parametrize("height,width", SIZES)
def test_internvideo2_equals_the_card(height, width):
    frames = frames_of(height, width)
    ours = preprocess.internvideo2(frames)
    assert ours.shape == (3, 3, 224, 224) and ours.dtype == torch.float32
    assert max_diff(ours, card.iv2_load_video(frames)) < TOLERANCE


@pytest.mark.parametrize("height,width", SIZES)
def test_internvideo2_hd_equals_the_card(height, width):
    frames = frames_of(height, width)
    ours = preprocess.internvideo2_hd(frames).unsqueeze(0)
    assert ours.shape == (1, 3, 3, 3, 224, 224)
    assert max_diff(ours, card.iv2_hd_load_video(frames)) < TOLERANCE


@pytest.mark.parametrize("height,width", SIZES)
@pytest.mark.parametrize("max_tiles", [1, 6])
def test_internvl_equals_the_card(height, width, max_tiles):
    frames = frames_of(height, width)
    ours, patches = preprocess.internvl(frames, max_tiles=max_tiles)
    theirs, their_patches = card.vl_load_video(list(frames), max_num=max_tiles)
    assert patches == their_patches
    assert max_diff(ours, theirs) < TOLERANCE


def test_short_side_size_truncates_like_torchvision():
    assert preprocess.short_side_size(240, 320, 224) == (224, 298)  # 298.67 truncated
    assert preprocess.short_side_size(1920, 1080, 224) == (398, 224)


# -- the comparison catches the mistakes it is there for --------------------------------


def test_a_wrong_interpolation_mode_would_be_caught():
    frames = frames_of(720, 1280)
    assert max_diff(preprocess.internvideo2(frames), card.iv2_load_video(frames, resize_mode="bilinear")) > 100 * TOLERANCE


def test_a_missing_antialias_would_be_caught():
    frames = frames_of(720, 1280)
    assert max_diff(preprocess.internvideo2(frames), card.iv2_load_video(frames, resize_antialias=False)) > 100 * TOLERANCE


def test_a_swapped_channel_order_would_be_caught():
    frames = frames_of(240, 320)
    ours, _ = preprocess.internvl(frames)
    theirs, _ = card.vl_load_video(list(frames), channel_order="BGR")
    assert max_diff(ours, theirs) > 100 * TOLERANCE
    assert max_diff(preprocess.internvideo2(frames), card.iv2_load_video(frames[..., ::-1].copy())) > 100 * TOLERANCE


def test_an_off_by_one_crop_would_be_caught():
    frames = frames_of(720, 1280)
    shifted = card.iv2_load_video(frames[:, :, 1:])  # the same picture one column over
    assert max_diff(preprocess.internvideo2(frames)[..., :-2], shifted[..., :-2]) > 100 * TOLERANCE


def test_an_off_by_one_frame_would_be_caught():
    frames = frames_of(240, 320, count=4)
    ours, _ = preprocess.internvl(frames[1:])
    theirs, _ = card.vl_load_video(list(frames[:-1]))
    assert max_diff(ours, theirs) > 100 * TOLERANCE
