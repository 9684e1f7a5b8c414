"""The window's answer from its model process keeps the times its model was told (`video_frames.model_times`), checked."""

from __future__ import annotations

from desktop.threads.process_chat import make_answer
from videochat.engines.client import StreamEnd
from videochat.generation import GenerationSettings

INDICES, TIMES = [0, 20, 39], [0.0, 2.26, 3.02]


def answer_after(end: StreamEnd):
    return make_answer("Q?", "A.", False, INDICES, TIMES, {}, 3, None, GenerationSettings(), 0.0, False, model_times=end.model_times(len(INDICES)))


def test_the_window_s_answer_from_its_model_process_keeps_the_times_its_model_was_told():
    answer = answer_after(StreamEnd(video_frames={"indices": INDICES, "times": TIMES, "model_times": [0.0, 1.51, 3.02]}))
    assert answer.model_times == [0.0, 1.51, 3.02]
    assert answer_after(StreamEnd(video_frames={"indices": INDICES, "times": TIMES, "model_times": [0.0, 1.51]})).model_times is None

