"""Exports as the desktop's own Markdown reader (Qt's, md4c: CommonMark) reads them, and the export error shown."""

from __future__ import annotations

from PySide6.QtGui import QTextDocument

from tests.support.exports import HOSTILE_ANSWER, make_answer
from videochat.sessions import export
from videochat.sessions.session import Session, VideoIdentity


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


def test_file_export_ends_an_answers_caption_where_its_last_frame_ends_on_the_video_in_the_player(qtbot, clips, tmp_path, monkeypatch):
    from datetime import timedelta
    from types import SimpleNamespace

    import srt
    from PySide6.QtWidgets import QFileDialog, QMainWindow

    from desktop.session.exporting import export_with_dialog
    from videochat.video.timeline import Timeline
    from videochat.video.info import probe

    info = probe(clips("vfr.mp4"))
    timeline = Timeline.of(info)
    last = next(i for i in range(1, info.frame_count - 1) if abs((timeline.time_of(i + 1) - timeline.time_of(i)) - 1 / info.fps) > 0.01)
    session = Session(VideoIdentity.of(info))
    session.add_answer(make_answer("What?", "This.", [timeline.time_of(0), timeline.time_of(last)]))
    session.turns[-1].indices = [0, last]
    window = QMainWindow()
    qtbot.addWidget(window)
    window.player = SimpleNamespace(info=info, timeline=timeline)
    out = tmp_path / "captions.srt"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *args, **kwargs: (str(out), "")))
    export_with_dialog(window, session, "srt")
    qtbot.waitUntil(out.exists, timeout=10_000)
    (cue,) = srt.parse(out.read_text(encoding="utf-8"))
    assert cue.end.total_seconds() * 1000 == round(timeline.time_of(last + 1) * 1000)
    assert cue.end != timedelta(seconds=timeline.time_of(last) + 1 / info.fps)
