"""The current runtime's families as the seed runtime sees them: recognised, sampled, and importable without transformers 5."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from videochat.families import backend_for_config, get_family
from videochat.frames import qwen_sampling
from videochat.video.source import VideoSource


@pytest.mark.parametrize(
    ("model_type", "family"),
    [("qwen2_5_vl", "qwen2.5-vl"), ("qwen3_vl", "qwen3-vl"), ("qwen3_vl_moe", "qwen3-vl"), ("internvl", "internvl3")],
)
def test_a_config_json_picks_its_family_and_the_current_runtime(model_type, family):
    config = {"model_type": model_type, "architectures": ["X"], "transformers_version": "5.25.0"}
    assert backend_for_config(config)[1] == family
    assert get_family(family).runtime == "current"


def test_the_seed_families_stay_in_the_seed_runtime():
    assert get_family("internvl2").runtime == "seed"
    assert backend_for_config({"model_type": "internvl_chat", "architectures": ["InternVLChatModel"]})[1] == "internvl2"


@pytest.mark.parametrize(
    ("span", "available", "asked", "count"),
    [(3.0, 90, 8, 6), (10.0, 300, 8, 8), (10.0, 300, 32, 20), (1.0, 30, 8, 4), (1.0, 3, 8, 2), (0.1, 1, 8, 2), (5.5, 200, 64, 10)],
)
def test_qwen_frame_count_is_qwen_vl_utils_smart_nframes_on_the_true_span(span, available, asked, count):
    assert qwen_sampling.frame_count(span, available, asked) == count


def test_qwen_frames_on_a_variable_rate_clip_are_evenly_spread_in_true_time(clips):
    with VideoSource.open(clips("vfr.mp4")) as source:
        info = source.info
    sample = qwen_sampling.sample_qwen(info, 8)
    wanted = np.linspace(info.times[0], info.times[-1], len(sample.indices))
    for index, time in zip(sample.indices, wanted):
        assert abs(info.times[index] - time) == pytest.approx(np.min(np.abs(info.times - time)))
    assert list(sample.times) == list(info.times[sample.indices])


def test_qwen_frames_of_a_segment_stay_inside_it(clips):
    with VideoSource.open(clips("plain.mp4")) as source:
        info = source.info
    sample = qwen_sampling.sample_qwen(info, 8, (1.0, 2.0))
    assert len(sample.indices) == 2 * 2  # at least 4 for a 1 s segment
    assert all(1.0 - 1e-6 <= t < 2.0 for t in sample.times)


def test_qwen_takes_a_single_frame_twice(clips):
    with VideoSource.open(clips("one_frame.mp4")) as source:
        sample = qwen_sampling.sample_qwen(source.info, 8)
    assert list(sample.indices) == [0, 0]


def test_the_current_backend_module_imports_without_transformers():
    code = (
        "import sys, videochat.backends.current, videochat.families.qwen3_vl, videochat.families.internvl3; "
        "print('transformers' in sys.modules, 'torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


def test_an_answers_model_times_survive_its_session_file_and_a_wrong_list_is_dropped():
    from videochat.chat import Answer

    fields = dict(
        question="Q", text="A", stopped=False, indices=[0, 5], times=[0.0, 0.2], model="m", revision=None, family="qwen2.5-vl",
        frames=8, segment=None, settings={}, device="cpu", precision="float32", asked_at=1.0, follow_up=False,
    )
    told = Answer(**fields, model_times=[0.0, 0.3])
    assert Answer.from_dict(told.to_dict()).model_times == [0.0, 0.3]
    assert Answer.from_dict({**told.to_dict(), "model_times": [0.1]}).model_times is None
    assert Answer.from_dict(Answer(**fields).to_dict()).model_times is None
