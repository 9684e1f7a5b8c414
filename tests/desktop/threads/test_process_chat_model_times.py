"""The window's answer from its model process keeps the times its model was told (`video_frames.model_times`), checked."""

from __future__ import annotations

import pytest

from desktop.threads.process_chat import make_answer
from videochat.engines.client import StreamEnd
from videochat.engines.errors import EngineError
from videochat.generation import GenerationSettings

INDICES, TIMES = [0, 20, 39], [0.0, 2.26, 3.02]


def answer_after(end: StreamEnd):
    return make_answer("Q?", "A.", False, INDICES, TIMES, {}, 3, None, GenerationSettings(), 0.0, False, model_times=end.model_times(len(INDICES)))


def test_the_window_s_answer_from_its_model_process_keeps_the_times_its_model_was_told():
    answer = answer_after(StreamEnd(video_frames={"indices": INDICES, "times": TIMES, "model_times": [0.0, 1.51, 3.02]}))
    assert answer.model_times == [0.0, 1.51, 3.02]
    assert answer_after(StreamEnd(video_frames={"indices": INDICES, "times": TIMES, "model_times": [0.0, 1.51]})).model_times is None



class HostileProcess:
    """A model process whose stream names its frames with `indices` that are not a list."""

    def __init__(self, indices):
        self.client = self
        self.indices = indices

    def reset_stop(self):
        pass

    def grant(self, path):
        pass

    def died_within(self, seconds):
        return False

    def stream(self, body, end):
        end.video_frames = {"indices": self.indices, "times": TIMES}
        yield "A."


@pytest.mark.parametrize("indices", [7, "0,20,39", {"0": 0}, None])
def test_frames_named_by_something_other_than_a_list_fail_the_answer_as_a_bad_answer_not_a_crash(tmp_path, indices):
    from desktop.threads.process_chat import ProcessChat

    told = []
    chat = ProcessChat(tmp_path / "clip.mp4", 3)
    with pytest.raises(EngineError, match="did not say which frames"):
        chat.ask(HostileProcess(indices), "Q?", 3, None, GenerationSettings(), on_frames=told.append, on_piece=lambda piece: None)
    assert told == [0]
