"""Exports as the desktop's own Markdown reader (Qt's, md4c: CommonMark) reads them, and the export error shown."""

from __future__ import annotations

from PySide6.QtGui import QTextDocument

from tests.core.test_export import HOSTILE_ANSWER, make_answer
from videochat import export
from videochat.sessions import Session, VideoIdentity


def test_a_markdown_reader_shows_hostile_answers_as_their_text_under_the_reports_headings(qapp, tmp_path):
    session = Session(VideoIdentity(str(tmp_path / "clip <img src=x> # `x`.mp4"), 1, duration=100.0, fps=25.0, frame_count=2500))
    session.add_answer(make_answer("# Q <b>bold</b>", HOSTILE_ANSWER, [1.0]))
    session.add_note(9.0, 10.0, "# note\n- y")
    document = QTextDocument()
    document.setMarkdown(export.render(session, "markdown"))
    blocks = [document.findBlockByNumber(number) for number in range(document.blockCount())]
    headings = [block.text() for block in blocks if block.blockFormat().headingLevel()]
    assert headings == ["clip <img src=x> # `x`.mp4", "1. # Q <b>bold</b>", "Timeline notes"]
    assert "\n" + HOSTILE_ANSWER + "\n" in document.toPlainText().replace("\u00a0", " ")
    assert sum(1 for block in blocks if block.textList() is not None) == 2  # the note's item and its second line
    assert not any(block.blockFormat().nonBreakableLines() for block in blocks)  # no code block
