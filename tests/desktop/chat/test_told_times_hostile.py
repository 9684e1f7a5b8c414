"""An answer whose frame times or told times are finite but absurd (a hostile server's, a session file's) still shows.

JSON's 1e306 is a finite float that `format_time` once turned into infinity on the way to milliseconds,
and raised OverflowError in the GUI thread while the bubble made its chips.
"""

from __future__ import annotations

import dataclasses

from tests.support.chat_pane import make_answer
from videochat.video.timecode import format_time, milliseconds


def test_an_answer_whose_told_and_frame_times_are_absurdly_large_still_gets_its_chips(pane):  # noqa: F811
    pane.begin_answer("What happens?")
    pane.finish_answer(dataclasses.replace(make_answer(times=(0.5, 1e306, 1.5)), model_times=[1e306, 0.75, 1.7e308]))
    bubble = pane.answer_bubbles()[-1]
    assert len(bubble.chips) == 3 and bubble.chips[0].text() == "0:00:00.500"
    assert "the model was told" in bubble.chips[0].toolTip()


def test_a_time_too_large_to_be_a_video_s_is_shown_as_the_largest_one_shown():
    largest = format_time(1e306)
    assert format_time(1.7e308) == format_time(-1e306 * -1) == largest
    assert milliseconds(1e306) == milliseconds(1e300) and len(largest) < 30
    assert format_time(3725.5) == "1:02:05.500"


def test_a_time_before_0_however_far_is_shown_as_0():
    assert format_time(-1e308) == format_time(-0.4) == "0:00:00.000" and milliseconds(-1e308) == 0
