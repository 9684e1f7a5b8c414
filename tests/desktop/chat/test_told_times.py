"""An answer whose model was told other frame times than the true ones (`Answer.model_times`) says so in its bubble."""

from __future__ import annotations

import dataclasses

from tests.support.chat_pane import make_answer


def test_the_meta_line_and_each_chip_whose_time_the_model_was_told_otherwise_say_so(pane):  # noqa: F811
    pane.begin_answer("What happens?")
    pane.finish_answer(dataclasses.replace(make_answer(), model_times=[0.5, 0.75, 1.5]))
    bubble = pane.answer_bubbles()[-1]
    assert bubble.meta_label.text().endswith(" · the model was told other frame times (hover a frame)")
    tips = [chip.toolTip() for chip in bubble.chips]
    assert tips[1] == "Frame 30 at 0:00:01.000 (the model was told 0:00:00.750): show it in the player"
    assert tips[0] == "Frame 15 at 0:00:00.500: show it in the player" and "told" not in tips[2]


def test_an_answer_told_the_true_times_says_nothing_of_them(pane):  # noqa: F811
    pane.begin_answer("What happens?")
    pane.finish_answer(make_answer())
    bubble = pane.answer_bubbles()[-1]
    assert "told" not in bubble.meta_label.text() and not any("told" in chip.toolTip() for chip in bubble.chips)
