"""`video_frames.model_times` (the times a model was told, where they are not the frames' true times) reach the answer.

Our server sends them only where they differ (Qwen2.5-VL on a clip with a held frame); the client takes them
only from our server, and only as one finite number per frame seen: anything else is dropped, the answer kept.
The real current runtime sends them in tests/cli/test_cli_current_runtime.py; here the stand-in plays our server.
"""

from __future__ import annotations

import pytest

from tests.support.engine_standin import EngineStandIn
from tests.support.model_times import FRAMES, TOLD, answer_from
from videochat.chat import Answer
from videochat.engines.client import StreamEnd


def test_the_times_our_server_says_its_model_was_told_are_the_answer_s_and_survive_its_dict(clip):
    with EngineStandIn(form="videochat", owned_by="videochat", model_times=TOLD) as standin:
        answer = answer_from(standin, clip)
    assert answer.model_times == TOLD and answer.model_times != answer.times
    assert Answer.from_dict(answer.to_dict()).model_times == TOLD


def test_an_answer_whose_server_says_nothing_has_no_other_times(clip):
    with EngineStandIn(form="videochat", owned_by="videochat") as standin:
        assert answer_from(standin, clip).model_times is None


HOSTILE = {
    "one short": TOLD[:-1],
    "one more": [*TOLD, 4.0],
    "not a list": {"0": 0.0},
    "a text": [0.0, "1.0", 2.0, 3.0],
    "a flag": [0.0, True, 2.0, 3.0],
    "nested": [[0.0], 1.0, 2.0, 3.0],
    "null inside": [0.0, None, 2.0, 3.0],
    "huge": [0.0, 1e400, 2.0, 3.0],  # JSON's 1e400 is read as infinity
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_model_times_that_are_not_one_finite_number_per_frame_are_dropped_and_the_answer_kept(clip, name):
    with EngineStandIn(form="videochat", owned_by="videochat", model_times=HOSTILE[name]) as standin:
        answer = answer_from(standin, clip)
    assert answer.text and len(answer.times) == FRAMES
    assert answer.model_times is None


def test_another_engine_s_model_times_are_not_believed(clip):
    standin = EngineStandIn(form="videochat", owned_by="videochat", model_times=TOLD)
    with standin:
        assert answer_from(standin, clip, form="images").model_times is None


def test_not_a_number_or_infinity_in_the_stream_is_dropped_too():
    for value in ("NaN", "Infinity", "-Infinity"):
        end = StreamEnd(video_frames={"indices": [0, 1], "times": [0.0, 1.0], "model_times": [0.0, float(value)]})
        assert end.model_times(2) is None
    assert StreamEnd(video_frames={"model_times": [0, 1.5]}).model_times(2) == [0.0, 1.5]

