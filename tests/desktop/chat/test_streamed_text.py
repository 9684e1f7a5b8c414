"""A streaming answer is drawn paragraph by paragraph, and once it ends it shows exactly as an answer shown at once."""

from __future__ import annotations

import pytest

from desktop.chat.streamed_text import LONGEST_TAIL, SHORTEST_PART, find_cut
from desktop.chat.wrapping_label import WrappingLabel
from tests.support.chat_pane import make_answer
from tests.support.chat_pane import show_pane

PARAGRAPH = "The **red** ball rolls across the `table`, past a cup and a book, then stops by the edge. " * 3
CODE_LINE = "    position = position + speed * seconds  # the ball's place after each second\n"
# Paragraphs, a list, a heading, and a code block longer than the part re-rendered at each piece.
ANSWER = (
    f"{PARAGRAPH}\n\n1. first it rolls\n2. then it **stops**\n\n## What it does\n\n{PARAGRAPH}\n\n"
    f"```python\n{CODE_LINE * (LONGEST_TAIL // len(CODE_LINE) + 8)}```\n\n{PARAGRAPH}\n\n- a\n- b\n\n{PARAGRAPH}"
)


def pieces(text: str, size: int = 7) -> list[str]:
    return [text[start : start + size] for start in range(0, len(text), size)]


@pytest.fixture
def make_pane(qtbot):
    return lambda: show_pane(qtbot)


def test_a_cut_falls_after_a_blank_line_outside_code_and_only_once_the_tail_is_long_enough():
    short = "One.\n\nTwo.\n\nThr"
    assert find_cut(short) == (0, "")  # too little to cut off yet
    text = "A" * SHORTEST_PART + "\n\nB b b\n\n```\ncode\n\nmore code\n"
    cut, fence = find_cut(text)
    assert text[:cut].endswith("B b b\n\n") and fence == ""  # not at the blank line inside the code block


def test_a_long_code_block_is_cut_at_a_line_and_its_fence_opened_again():
    text = "```python\n" + CODE_LINE * (LONGEST_TAIL // len(CODE_LINE) + 2) + "    unfinis"
    cut, fence = find_cut(text)
    assert text[:cut].endswith(CODE_LINE) and text[cut:] == "    unfinis" and fence == "```"
    assert find_cut(text[cut:], fence) == (0, "```")


def test_while_an_answer_streams_the_paragraphs_written_are_not_drawn_again(make_pane):
    pane = make_pane()
    pane.begin_answer("What happens?")
    bubble = pane.answer_bubbles()[-1]
    for piece in pieces(ANSWER[: len(ANSWER) // 2]):
        pane.append_answer_text(piece)
    settled = [(part, part.text()) for part in bubble.streamed.parts]
    assert len(settled) >= 2 and bubble.text_label.isHidden() and not bubble.streamed.isHidden()
    for piece in pieces(ANSWER[len(ANSWER) // 2 :]):
        pane.append_answer_text(piece)
    assert [(part, part.text()) for part in bubble.streamed.parts][: len(settled)] == settled  # the same labels, untouched
    assert len(bubble.streamed.tail.text()) < LONGEST_TAIL + len(CODE_LINE) + 10
    # What is shown is the whole text: the parts (with the code block's fence closed and opened again) and the tail.
    shown = "".join(part.text() for part in bubble.streamed.parts) + bubble.streamed.tail.text()
    assert shown.replace("\n```\n```\n", "\n") == ANSWER
    assert bubble.text == ANSWER and bubble.text_label.text() == ANSWER


def test_a_streamed_answer_once_finished_is_drawn_exactly_as_one_shown_at_once(make_pane, qtbot):
    streamed, at_once = make_pane(), make_pane()
    streamed.begin_answer("What happens?")
    for piece in pieces(ANSWER):
        streamed.append_answer_text(piece)
    streamed.finish_answer(make_answer(text=ANSWER))
    at_once.begin_answer("What happens?")
    at_once.finish_answer(make_answer(text=ANSWER))
    bubble, other = streamed.answer_bubbles()[-1], at_once.answer_bubbles()[-1]
    qtbot.waitUntil(lambda: bubble.streamed.isHidden())  # the whole text's label is laid out first, over a few turns
    qtbot.wait(50)
    assert bubble.streamed.parts == [] and bubble.text_label.isVisible()
    assert bubble.text_label.text() == other.text_label.text() == ANSWER
    assert bubble.text_label.textFormat() == other.text_label.textFormat()
    assert bubble.size() == other.size()
    assert bubble.grab().toImage() == other.grab().toImage()


def test_regenerating_while_the_finished_text_is_laid_out_streams_the_new_answer(make_pane, qtbot):
    pane = make_pane()
    pane.begin_answer("What happens?")
    for piece in pieces(ANSWER):
        pane.append_answer_text(piece)
    pane.finish_answer(make_answer(text=ANSWER), turn_index=0)
    bubble = pane.answer_bubbles()[-1]
    pane.begin_regenerate(bubble)  # before the hand-over's turns have run
    pane.append_answer_text("A blue cube.")
    qtbot.wait(50)
    assert not bubble.streamed.isHidden() and bubble.text_label.isHidden()
    assert bubble.streamed.parts == [] and bubble.streamed.tail.text() == "A blue cube."


def test_a_label_s_height_follows_its_new_text():
    label = WrappingLabel("Short.")
    label.setWordWrap(True)
    short = label.heightForWidth(200)
    label.setText("A much longer text that wraps over several lines at this width. " * 5)
    assert label.heightForWidth(200) > short
