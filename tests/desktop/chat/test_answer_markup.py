"""An answer's text is Markdown, but HTML in it (a hostile server's, or a model's) is shown as the text it is, never
drawn: a 3000 pt span would make the bubble thousands of pixels high, a styled line could pass for the app's own."""

from __future__ import annotations

from PySide6.QtGui import QTextDocument

from tests.support.chat_pane import make_answer

HOSTILE = 'Look: <span style="font-size:3000pt">HUGE</span> and **bold**\n\n<p style="margin-top:100000px">far</p>\n\n`<b>code</b>`'


def shown_text(label) -> str:
    """What the label draws, as text: its laid-out document's (breaks for display left out)."""
    return label.findChild(QTextDocument).toPlainText().replace("\u200b", "")


def test_html_in_a_finished_answer_is_shown_as_text_and_its_markdown_still_renders(pane, qtbot):  # noqa: F811
    pane.begin_answer("What happens?")
    pane.finish_answer(make_answer(text=HOSTILE))
    label = pane.answer_bubbles()[-1].text_label
    qtbot.waitUntil(label.isVisible)
    assert label.text() == HOSTILE
    shown = shown_text(label)
    assert '<span style="font-size:3000pt">HUGE</span>' in shown and '<p style="margin-top:100000px">far</p>' in shown
    assert "**bold**" not in shown and "<b>code</b>" in shown
    assert label.sizeHint().height() < 400


def test_html_in_a_streaming_answer_is_shown_as_text_too(pane):  # noqa: F811
    pane.begin_answer("What happens?")
    bubble = pane.answer_bubbles()[-1]
    pane.append_answer_text(HOSTILE)
    parts = bubble.streamed.findChildren(type(bubble.text_label))
    assert any('<span style="font-size:3000pt">HUGE</span>' in shown_text(part) for part in parts)
