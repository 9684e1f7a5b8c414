"""The window's frame control follows the loaded model's family, and an ask the model or the clip
cannot take is refused in the chat before anything reaches the model thread (no load, no decode)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop.chat.bubbles import NoticeBubble, QuestionBubble
from tests.support.main_window import WAIT_MS, open_clip
from tests.support.standins import build_internvideo25


@pytest.fixture(scope="module")
def tiny_internvideo25(tmp_path_factory):
    return build_internvideo25(tmp_path_factory.mktemp("internvideo25-tiny"))


def notices(window) -> list[str]:
    return [bubble.label.text() for bubble in window.chat.bubbles() if isinstance(bubble, NoticeBubble)]


def load(qtbot, window, folder) -> None:
    with qtbot.waitSignal(window.worker.sig_loaded, timeout=WAIT_MS):
        window.load_model(str(folder), trust_remote_code=True)


def test_loading_a_model_of_another_family_makes_the_frame_control_take_what_that_family_takes(qtbot, window, tiny_model, tiny_internvideo25):
    spin = window.chat.frames_spin
    assert (spin.minimum(), spin.maximum(), spin.singleStep()) == (1, 64, 1)  # LLaVA-OneVision: a transformers video model
    spin.setValue(50)
    load(qtbot, window, tiny_internvideo25)
    assert (spin.minimum(), spin.maximum(), spin.singleStep(), window.chat.frames()) == (4, 512, 4, 48)
    assert notices(window) == ["InternVideo2.5 takes frames in groups of 4: use 48 or 52, not 50. Frames set to 48."]
    load(qtbot, window, tiny_model)
    assert (spin.minimum(), spin.maximum(), spin.singleStep(), window.chat.frames()) == (1, 64, 1, 48)  # 48 is taken here
    assert len(notices(window)) == 1


class Sent(list):
    """The model thread's ask, recording instead of sending."""

    def __call__(self, request) -> None:
        self.append(request)


def ask_refused(qtbot, window, clips, monkeypatch) -> Sent:
    open_clip(qtbot, window, clips("plain.mp4"))  # 3.0 s
    sent = Sent()
    monkeypatch.setattr(window.worker, "ask", sent)
    window.chat.question_box.setPlainText("What happens?")
    QTest.keyClick(window.chat.question_box, Qt.Key.Key_Return)
    return sent


def test_an_ask_with_a_frame_count_the_model_does_not_take_is_refused_in_the_chat_and_nothing_is_sent(qtbot, window, clips, monkeypatch):
    monkeypatch.setattr(window.chat, "frames", lambda: 80)  # a count the control let through
    sent = ask_refused(qtbot, window, clips, monkeypatch)
    assert sent == [] and not window.worker.is_busy
    assert notices(window) == ["A transformers video model takes 1 to 64 frames, not 80."]
    assert not any(isinstance(bubble, QuestionBubble) for bubble in window.chat.bubbles())
    assert window.chat.question_box.toPlainText() == "What happens?"  # kept, to ask again once changed


@pytest.mark.parametrize(
    "segment, message",
    [
        ((5.0, 6.0), "The segment starts after the end of the clip (3.0 s): its in point is 5.0 s; set it before 3.0 s."),
        ((2.0, 1.0), "The segment's out point (1.0 s) comes before its in point (2.0 s): set the out point after the in point."),
    ],
)
def test_an_ask_with_a_segment_that_does_not_fit_the_clip_is_refused_in_the_chat_and_nothing_is_sent(qtbot, window, clips, monkeypatch, segment, message):
    monkeypatch.setattr(window.player, "segment", lambda: segment)  # as a saved answer's segment could be
    sent = ask_refused(qtbot, window, clips, monkeypatch)
    assert sent == [] and not window.worker.is_busy
    assert notices(window) == [message]
