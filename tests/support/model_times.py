"""An answer from the stand-in playing our server, for the tests of `video_frames.model_times`."""

from __future__ import annotations

from videochat.chat import Answer
from videochat.engines.client import EngineClient
from videochat.engines.remote import EngineChat, EngineModel
from videochat.video.source import VideoSource

MODEL = "OpenGVLab/InternVL2-8B"
FRAMES = 4
TOLD = [0.0, 1.0, 2.0, 3.0]


def answer_from(standin, clip, form="videochat") -> Answer:
    engine = EngineModel.connect(EngineClient(standin.url), MODEL, form)
    with VideoSource.open(clip) as source:
        chat = EngineChat(source, engine)
        "".join(chat.ask("What happens?", FRAMES))
    return chat.answers[-1]
