"""A hostile server's or session file's `model_times` (and frame times) never break what reads or shows them.

tests/engines/test_model_times.py covers lists of the wrong length or kind and JSON's NaN/1e400; here the
numbers JSON can carry that Python cannot turn into a float (an integer of 400 digits), told times before
the video's start, and a session file carrying such numbers.
"""

from __future__ import annotations

import json

import pytest

from tests.support.engine_standin import EngineStandIn
from tests.support.model_times import FRAMES, TOLD, answer_from
from videochat import app_files
from videochat.chat import Answer
from videochat.engines.client import StreamEnd

GIANT = 10**400  # a JSON integer too large for a float: math.isfinite() raises on it


def test_an_integer_too_large_for_a_float_in_model_times_is_dropped_and_the_answer_kept(clip):
    with EngineStandIn(form="videochat", owned_by="videochat", model_times=[GIANT, *TOLD[1:]]) as standin:
        answer = answer_from(standin, clip)
    assert answer.text and len(answer.times) == FRAMES
    assert answer.model_times is None


def test_json_reads_an_integer_too_large_for_a_float_as_infinity_like_1e400():
    assert app_files.parse_json(f"[{GIANT}, -{GIANT}, 1e400, 7]") == [float("inf"), float("-inf"), float("inf"), 7]


def test_told_times_before_the_video_s_start_are_dropped():
    assert StreamEnd(video_frames={"model_times": [0.0, -1.5]}).model_times(2) is None
    assert StreamEnd(video_frames={"model_times": [0.0, 1.5]}).model_times(2) == [0.0, 1.5]


def turn(**fields) -> str:
    return json.dumps({"question": "Q?", "answer": "A.", "indices": [0, 1], "times": [0.0, 1.0], **fields}).replace("424242", str(GIANT))


def test_a_session_turn_whose_told_times_are_too_large_for_a_float_keeps_its_turn_without_them():
    answer = Answer.from_dict(app_files.parse_json(turn(model_times=[0.5, 424242])))
    assert answer.text == "A." and answer.model_times is None


def test_a_session_turn_whose_frame_times_are_too_large_for_a_float_is_a_bad_file_not_a_crash():
    with pytest.raises(app_files.BadAppFile):
        Answer.from_dict(app_files.parse_json(turn(times=[0.0, 424242])))


def test_what_a_hostile_server_says_it_ran_is_kept_only_when_short_and_showable(clip):
    provenance = {"revision": "r" * 1_000_000, "device": "cuda:0\u202e", "precision": "bfloat16"}
    with EngineStandIn(form="videochat", owned_by="videochat", provenance=provenance) as standin:
        answer = answer_from(standin, clip)
    assert answer.text and answer.revision is None and answer.device == "engine" and answer.precision == "bfloat16"
    assert len(json.dumps(answer.to_dict())) < 10_000


@pytest.mark.parametrize("times", [[-1e308, 0.1], [-0.5, 0.1]])
def test_frame_times_before_the_video_s_start_are_refused_from_a_server_and_from_the_model_process(times):
    from types import SimpleNamespace

    from desktop.threads.process_chat import seen_frames
    from videochat.engines.errors import EngineError
    from videochat.engines.remote import reported_frames

    end = StreamEnd(video_frames={"indices": [0, 1], "times": times})
    engine = SimpleNamespace(client=SimpleNamespace(display_url="http://127.0.0.1:9"))
    with pytest.raises(EngineError, match="which frames"):
        reported_frames(end, 30, engine)
    with pytest.raises(EngineError, match="which frames"):
        seen_frames(end)
    fine = StreamEnd(video_frames={"indices": [0, 1], "times": [0.0, 0.1]})
    assert reported_frames(fine, 30, engine) == seen_frames(fine) == ([0, 1], [0.0, 0.1])
