"""The current runtime's families (Qwen2.5-VL, Qwen3-VL, InternVL3 -hf) on tiny checkpoints, run by that runtime's Python.

The seed runtime cannot import transformers 5: each family's checkpoint is built and its backend checked
in one subprocess of the current runtime (tests/support/current_checks.py), and `videochat ask` is run
there as a user would; the assertions are made here, on what they report.
"""

from __future__ import annotations

import json

import pytest

from tests.support.current_runtime import checked, require_current_python, run_in_current
from tests.support.tiny_current import BUILDERS

FAMILIES = sorted(BUILDERS)


@pytest.fixture(scope="module")
def python():
    return require_current_python()


@pytest.fixture(scope="module")
def folders(python, tmp_path_factory):
    built = {}
    for family in FAMILIES:
        folder = tmp_path_factory.mktemp(family.replace(".", "_"))
        checked(run_in_current(python, "-m", "tests.support.tiny_current", family, str(folder)))
        built[family] = folder
    return built


@pytest.fixture(scope="module")
def facts(python, folders, clips):
    reports = {}
    for family, folder in folders.items():
        out = checked(run_in_current(python, "-m", "tests.support.current_checks", family, str(folder), str(clips("plain.mp4")), str(clips("vfr.mp4"))))
        reports[family] = json.loads(out.strip().splitlines()[-1])
    return reports


@pytest.fixture(params=FAMILIES)
def family(request):
    return request.param


def pair_marks(times: list[float]) -> list[float]:
    """Qwen3-VL's mark for each two frames: the mean of their times."""
    return [(times[i] + times[min(i + 1, len(times) - 1)]) / 2 for i in range(0, len(times), 2)]


def prompt_marks(prompt: str) -> list[float]:
    import re

    return [float(mark) for mark in re.findall(r"<(\d+(?:\.\d+)?) seconds>", prompt)]


def test_a_folder_is_recognised_as_its_family_from_config_json(facts, family):
    assert facts[family]["family"] == family


def test_the_processor_gets_exactly_the_sampled_frames_and_samples_none_itself(facts, family):
    clip = facts[family]["clip"]
    assert clip["frame_codes"] == clip["indices"]
    assert clip["do_sample_frames"] is False


def test_qwen3_vl_time_marks_in_the_prompt_are_the_frames_true_times(facts):
    for clip in (facts["qwen3-vl"]["clip"], facts["qwen3-vl"]["vfr"]):
        marks = prompt_marks(clip["prompt"])
        assert len(marks) == len(clip["indices"]) // 2
        # One mark per two frames, to 0.1 s, as the processor writes it.
        assert marks == pytest.approx(pair_marks(clip["times"]), abs=0.05 + 1e-9)
        assert clip["model_times"] == marks


def test_qwen_samples_two_frames_a_second_up_to_the_count_asked(facts):
    for family in ("qwen2.5-vl", "qwen3-vl"):
        clip = facts[family]["clip"]  # plain.mp4: 90 frames, 3 s
        assert len(clip["indices"]) == 6
        assert clip["indices"] == [0, 18, 36, 53, 71, 89]  # linspace(0, 89, 6) rounded, as qwen-vl-utils


def test_qwen2_5_vl_positions_follow_the_frames_mean_rate(facts):
    clip = facts["qwen2.5-vl"]["clip"]
    times = clip["times"]
    assert clip["metadata"]["fps"] == pytest.approx((len(times) - 1) / (times[-1] - times[0]))
    assert clip["model_times"][0] == pytest.approx(times[0]) and clip["model_times"][-1] == pytest.approx(times[-1])


def test_answers_stream_in_pieces_that_join_to_the_recorded_turn(facts, family):
    assert facts[family]["pieces"] > 1
    assert facts[family]["streamed_equals_turn"]


def test_follow_ups_reuse_the_cache_and_answer_as_a_fresh_replay_does(facts, family):
    report = facts[family]
    assert report["tower_runs_in_follow_ups"] == 0, "a follow-up read the video again instead of reusing the cache"
    assert report["follow_up_reused_the_video"]
    assert report["follow_up"] == report["replayed_follow_up"]
    assert report["third"] == report["replayed_third"]
    assert report["tower_runs_in_replays"] == 2  # the replays did read the video: the answers came by different paths


def test_stop_ends_the_answer_within_a_token_and_keeps_it(facts, family):
    report = facts[family]
    assert report["steps_after_cancel"] <= 1
    assert report["stopped_turn"] == {"stopped": True, "kept": True}
    assert report["answers_after_stop"]


def test_out_of_memory_is_the_typed_error_and_the_model_answers_afterwards(facts, family):
    assert facts[family]["out_of_memory"] == "OutOfMemory"
    assert facts[family]["answers_after_out_of_memory"]


def test_videochat_ask_answers_through_the_current_runtime_with_the_frames_the_model_was_told(python, folders, facts, family, clips, tmp_path):
    result = run_in_current(
        python, "-m", "videochat.cli", "ask", str(clips("plain.mp4")), "What is happening in this video?",
        "--model", str(folders[family]), "--frames", "8", "--json",
    )
    answer = json.loads(checked(result).strip().splitlines()[-1])
    assert answer["answer"]
    assert answer["family"] == family
    clip = facts[family]["clip"]
    assert answer["indices"] == clip["indices"]
    assert answer["times"] == pytest.approx(clip["times"], abs=1e-6)
    if family == "qwen3-vl":
        assert prompt_marks(clip["prompt"]) == pytest.approx(pair_marks(answer["times"]), abs=0.05 + 1e-9)


@pytest.fixture(scope="module")
def held_clip(tmp_path_factory):
    """A variable-rate clip whose every 20th frame stays on screen for 1.5 s (a recording that froze)."""
    from tests.support import clips as testing

    return testing.write_clip(tmp_path_factory.mktemp("held") / "held.mp4", frames=40, durations_ms=[40] * 19 + [1500])


def ask_json(python, folder, clip) -> dict:
    result = run_in_current(python, "-m", "videochat.cli", "ask", str(clip), "Describe the video.", "--model", str(folder), "--frames", "8", "--json")
    return json.loads(checked(result).strip().splitlines()[-1])


def test_qwen2_5_vl_answers_record_the_times_its_positions_told_where_they_are_not_the_true_ones(python, folders, clips, held_clip):
    assert ask_json(python, folders["qwen2.5-vl"], clips("plain.mp4"))["model_times"] is None
    answer = ask_json(python, folders["qwen2.5-vl"], held_clip)
    told, times = answer["model_times"], answer["times"]
    assert len(told) == len(times)
    assert max(abs(a - b) for a, b in zip(told, times)) > 0.05
    steps = [b - a for a, b in zip(told, told[1:])]
    assert max(steps) - min(steps) < 1e-6  # evenly spaced from the first frame at the frames' mean rate
    assert told[0] == pytest.approx(times[0]) and told[-1] == pytest.approx(times[-1])


def test_qwen3_vl_answers_on_a_held_frame_clip_carry_no_other_times(python, folders, held_clip):
    assert ask_json(python, folders["qwen3-vl"], held_clip)["model_times"] is None
