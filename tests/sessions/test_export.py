"""Exports of a session: each format read back by a real reader agrees with the session to the millisecond."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from dataclasses import asdict
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import srt
import webvtt

from tests.support.exports import HOSTILE_ANSWER, make_answer
from videochat.cli import commands as cli
from videochat.sessions import export
from videochat.chat import Answer
from videochat.sessions.session import Note, Session, VideoIdentity
from videochat.sessions.store import SessionStore
from videochat.video.timecode import format_time

STORED_TOKEN = "api_org_StoredSecretThatIsNotHfShaped"
OTHER_TOKEN = "hf_" + "AnotherTokenShapedString42"
# Its first sentence, what the note made from it says, carries the markup the captions must escape.
FIRST_TEXT = "A cat, then <b>& a dog --> fin.\n\n  \nThen the end."
SECOND_TEXT = 'Café, 日本 "quoted", with commas\nand a new line'
EDITED_TEXT = "Edited: <i>x</i> & y\n\n\nz"


def ms(seconds: float) -> int:
    """The millisecond people expect for a time as written: halves go up."""
    return int((Decimal(str(seconds)) * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def caption(text: str) -> str:
    """What a cue's text should read after blank lines collapse and the arrow is disarmed."""
    return "\n".join(line.rstrip() for line in text.strip().split("\n") if line.strip()).replace("-->", "→")


@pytest.fixture
def session(tmp_path) -> Session:
    video = VideoIdentity(str(tmp_path / "clip é.mp4"), 1234, duration=3700.0, fps=25.0, frame_count=92_500)
    session = Session(video)
    session.add_answer(make_answer("What happens?", FIRST_TEXT, [0.0015, 1.0, 2.5]))
    session.add_answer(make_answer("And here,\nlater?", SECOND_TEXT, [3600.0, 3661.0005], segment=(3600.0, 3661.5)))
    session.add_answer(make_answer("Stop early", "Partial", [12.0], stopped=True))
    session.notes.append(Note(start=3661.0005, end=3662.25, text="Late note"))  # as an older file may hold it
    session.note_from_answer(0)
    draft = session.add_note(5.0, 6.0, "draft")
    session.edit_note(draft.id, text=EDITED_TEXT)
    session.question_asked("Unanswered?")
    return session


def answer_spans_ms(session: Session) -> list[tuple[int, int]]:
    """What each answer covers: its segment, else its frames to the end of the last one."""
    spans = []
    for answer in session.turns:
        start, end = answer.segment or (min(answer.times), min(max(answer.times) + 1 / session.video.fps, session.video.duration))
        spans.append((ms(start), ms(end)))
    return spans


def test_times_round_half_up_to_the_millisecond():
    assert [export.milliseconds(t) for t in (3661.0005, 0.0015, 0.0014, 2.9996, -1.0)] == [3661001, 2, 1, 3000, 0]


def test_json_keeps_everything_with_its_provenance(session):
    data = json.loads(export.render(session, "json"))
    assert (data["format"], data["version"], data["app"]["name"]) == ("videochat-session-export", 1, "videochat-desktop")
    assert data["app"]["version"] and datetime.fromisoformat(data["exported_at"]).tzinfo is not None
    assert data["video"] == asdict(session.video) and data["interrupted"] == session.interrupted
    assert len(data["turns"]) == len(session.turns)
    for turn, answer, (start, end) in zip(data["turns"], session.turns, answer_spans_ms(session)):
        assert Answer.from_dict(turn) == answer
        assert turn["times"] == pytest.approx(answer.times, abs=1e-9)
        assert (turn["model"], turn["revision"], turn["settings"]) == (answer.model, answer.revision, answer.settings)
        assert (turn["precision"], turn["device"], turn["answer"]) == (answer.precision, answer.device, answer.text)
        assert (turn["start"], turn["end"]) == (start / 1000, end / 1000)
    assert data["turns"][1]["segment"] == [3600.0, 3661.5]
    notes = {note["id"]: Note.from_dict(note) for note in data["notes"]}
    assert notes == {note.id: note for note in session.notes}
    assert [note["start"] for note in data["notes"]] == sorted(note.start for note in session.notes)
    assert any(note["edited_at"] for note in data["notes"])


def test_csv_rows_agree_with_the_session(session):
    text = export.render(session, "csv")
    assert not text.startswith("\ufeff") and text.count("\r\n") >= len(session.turns) + len(session.notes) + 1
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(rows[0]) == export.CSV_COLUMNS
    answers, notes = rows[: len(session.turns)], rows[len(session.turns) :]
    assert [row["kind"] for row in answers] == ["answer"] * 3 and [row["kind"] for row in notes] == ["note"] * 3
    expected = answer_spans_ms(session) + [(ms(note.start), ms(note.end)) for note in session.sorted_notes()]
    for row, (start, end) in zip(rows, expected):
        assert (round(float(row["start_seconds"]) * 1000), round(float(row["end_seconds"]) * 1000)) == (start, end)
        assert (row["start"], row["end"]) == (format_time(start / 1000), format_time(end / 1000))
    for row, answer in zip(answers, session.turns):
        assert (row["question"], row["text"], row["model"], row["revision"]) == (answer.question, answer.text, answer.model, answer.revision)
        assert [ms(float(t)) for t in row["frame_times"].split(";")] == [ms(t) for t in answer.times]
        assert row["frame_indices"].split(";") == [str(i) for i in answer.indices]
        assert row["stopped"] == str(answer.stopped).lower() and datetime.fromisoformat(row["asked_at"])
    assert answers[1]["text"] == SECOND_TEXT and answers[1]["frame_times"] == "3600.000;3661.001"
    assert (answers[1]["segment_start"], answers[1]["segment_end"]) == ("3600.000", "3661.500")
    assert [row["text"] for row in notes] == [note.text for note in session.sorted_notes()]
    assert notes[-1]["start"] == "1:01:01.001" and notes[0]["start"] == "0:00:00.002"


def test_srt_cues_are_the_notes_in_time_order(session):
    cues = list(srt.parse(export.render(session, "srt")))
    notes = session.sorted_notes()
    assert [cue.index for cue in cues] == [1, 2, 3] and len(cues) == len(session.notes)
    for cue, note in zip(cues, notes):
        assert (cue.start, cue.end) == (timedelta(milliseconds=ms(note.start)), timedelta(milliseconds=ms(note.end)))
        assert cue.content == caption(note.text)
    assert cues[0].content == "A cat, then <b>& a dog → fin."
    assert cues[-1].start == timedelta(hours=1, minutes=1, seconds=1, milliseconds=1)


def test_vtt_cues_are_the_notes_escaped(session):
    text = export.render(session, "vtt")
    assert text.startswith("WEBVTT\n\n") and "01:01:01.001 --> 01:01:02.250" in text
    cues = webvtt.from_string(text).captions
    assert len(cues) == len(session.notes)
    for cue, note in zip(cues, session.sorted_notes()):
        assert (cue.start_time.in_milliseconds(), cue.end_time.in_milliseconds()) == (ms(note.start), ms(note.end))
        assert html.unescape(cue.raw_text) == caption(note.text)
    assert "&lt;b&gt;&amp; a dog → fin." in cues[0].raw_text and "<" not in text.split("\n", 1)[1].replace("-->", "")


def test_captions_fall_back_to_the_answers_when_there_are_no_notes(session):
    session.notes = []
    session.add_answer(make_answer("Near the end?", "Ends with the video", [3699.99]))
    session.add_answer(make_answer("At the very end?", "The last frame", [3700.0]))  # its span would be empty
    cues = list(srt.parse(export.render(session, "srt")))
    spans = answer_spans_ms(session)
    assert len(cues) == len(session.turns)
    assert [(cue.start, cue.end) for cue in cues] == [
        (timedelta(milliseconds=start), timedelta(milliseconds=end + (40 if start == end else 0))) for start, end in sorted(spans)
    ]
    assert [cue.content for cue in cues] == [caption(FIRST_TEXT), "Partial", caption(SECOND_TEXT), "Ends with the video", "The last frame"]
    assert cues[0].end == timedelta(milliseconds=2540) and cues[-2].end == timedelta(seconds=3700)
    assert cues[-1].end == timedelta(seconds=3700, milliseconds=40)
    assert len(webvtt.from_string(export.render(session, "vtt")).captions) == len(session.turns)


def test_markdown_counts_the_frames_each_answer_saw_and_the_count_asked_for_where_fewer_were_taken(session):
    session.turns[0].frames = 8  # the family's rule took 3 of the 8 asked for
    session.turns[2].frames = 10**4000  # a session file's: no family takes that many, and it is not repeated
    lines = export.render(session, "markdown").split("\n")
    metas = [line for line in lines if line.startswith("*InternVL2-1B")]
    assert [meta.split(" · ")[1] for meta in metas] == ["3 frames (8 asked for)", "2 frames", "1 frame"]


def test_markdown_meta_lines_keep_a_hostile_model_revision_and_device_on_their_line_escaped(session):
    # As a hand-edited session file gives them: a list, a heading and a code block a line each, a reversal.
    session.turns[0].model, session.turns[0].revision = "tiny\n\n- listed\n\n    code", "r\u202eev"
    session.turns[0].device = "cpu\n# Heading"
    lines = export.render(session, "markdown").split("\n")
    (meta,) = [line for line in lines if line.startswith("*tiny")]
    assert unescape_markdown(meta).startswith("*tiny - listed code (r\\u202eev) · 3 frames · whole clip · bfloat16 on cpu # Heading · asked ")
    assert meta.endswith("*") and "\u202e" not in meta
    assert not [line for line in lines if line.startswith(("- listed", "# Heading", "    code"))]


def test_markdown_has_every_question_answer_and_frame_time(session):
    text = export.render(session, "markdown")
    assert text.startswith("# clip é.mp4\n") and "Timeline notes" in text and "stopped" in text
    assert "## 2. And here, later?" in text and "whole clip" in text and "segment 1:00:00.000–1:01:01.500" in text
    shown = "\n".join(unescape_markdown(line) for line in text.split("\n"))
    for answer in session.turns:
        assert answer.question.split("\n")[0] in shown
        assert all(line.rstrip() in shown for line in answer.text.split("\n"))
        assert "InternVL2-1B (0123abcd)" in text and "bfloat16 on cuda:0" in text
        for time in answer.times:
            assert format_time(ms(time) / 1000) in text
    assert "0:00:00.002" in text and "1:01:01.001" in text
    assert text.index("Late note") > text.index("Edited:") > text.index("A cat, then")


def test_no_export_holds_a_token(session, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_TOKEN", STORED_TOKEN)
    session.turns[0].text += f" the token {STORED_TOKEN} and {OTHER_TOKEN}"
    session.add_note(7.0, 8.0, f"note {STORED_TOKEN}")
    for name, chosen in export.FORMATS.items():
        path = tmp_path / f"out.{chosen.extension}"
        export.write_export(session, name, path)
        text = path.read_text(encoding="utf-8")
        assert STORED_TOKEN not in text and OTHER_TOKEN not in text and "***" in text.replace("\\", ""), name
        if not str(tmp_path).startswith(str(Path.home())):
            assert str(Path.home()) not in text.replace(session.video.path, ""), name


def test_an_unreadable_token_store_does_not_stop_an_export(session, monkeypatch, tmp_path):
    from huggingface_hub import constants

    (tmp_path / "token").mkdir()  # read as a file, it fails
    (tmp_path / "stored_tokens").write_bytes(b"\xff[not ini")
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "stored_tokens"))
    assert export.render(session, "srt").startswith("1\n")


def test_cli_exports_a_saved_session(session, tmp_path, capsys):
    SessionStore().save(session)
    video, out = session.video.path, tmp_path / "notes.srt"
    assert cli.main(["export", video, "--format", "srt", "--out", str(out)]) == 0
    assert len(list(srt.parse(out.read_text(encoding="utf-8")))) == 3
    assert f"wrote {out} (3 turns, 3 notes)" in capsys.readouterr().err
    assert cli.main(["export", video, "--format", "vtt"]) == 0
    assert len(webvtt.from_string(capsys.readouterr().out).captions) == 3


def test_cli_without_a_saved_session_says_what_to_do(tmp_path, capsys):
    video = tmp_path / "never asked.mp4"
    assert cli.main(["export", str(video), "--format", "json"]) == 1
    message = capsys.readouterr().err
    assert f"No saved conversation for {video}: ask about it first" in message and "videochat ask" in message


def test_cli_offers_every_format():
    export_command = cli.build_parser()._subparsers._group_actions[0].choices["export"]
    (format_option,) = [action for action in export_command._actions if action.dest == "format"]
    assert format_option.choices == list(export.FORMATS)


# -- untrusted text stays in its box ----------------------------------------------------------

FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "\tx", "\rx"]
CUE_LOOKALIKES = [
    ("Scene\n\n2\n00:00:01,000 --> 00:00:02,000\nfake cue", "Scene 2\n00:00:01,000 → 00:00:02,000\nfake cue"),
    ("00:00:01.000 --> 00:00:09.000\nx", "00:00:01.000 → 00:00:09.000\nx"),
    ("Take\n3\n1.2.3 is the cut\n\n\n4.5\n00:00:07,000", "Take 3\n1.2.3 is the cut 4.5\n00:00:07,000"),
    ("7\n00:00:01,000\nlast - > first", "7\n00:00:01,000\nlast → first"),
]


def test_csv_cells_a_spreadsheet_would_run_as_formulas_start_with_a_quote(session):
    session.notes = []
    session.turns[0].question, session.turns[0].text, session.turns[0].model = FORMULAS[0], FORMULAS[1], FORMULAS[3]
    for number, text in enumerate(FORMULAS + ["-1.5", "+3", "-"], 1):
        session.add_note(float(number), number + 0.5, text)
    rows = list(csv.DictReader(io.StringIO(export.render(session, "csv"), newline="")))
    answer, note_rows = rows[0], [row for row in rows if row["kind"] == "note"]
    notes = [row["text"] for row in note_rows]
    assert (answer["question"], answer["text"], answer["model"]) == ("'" + FORMULAS[0], "'" + FORMULAS[1], "'" + FORMULAS[3])
    assert notes == ["'" + text for text in FORMULAS] + ["-1.5", "+3", "'-"]  # numbers stay numbers
    assert float(note_rows[-1]["start_seconds"]) == 9.0 and note_rows[0]["start"] == "0:00:01.000"


@pytest.mark.parametrize("note_text, read_back", CUE_LOOKALIKES)
def test_a_note_that_looks_like_a_cue_stays_one_cue(session, note_text, read_back):
    added = session.add_note(9.0, 10.0, note_text)
    notes = session.sorted_notes()
    at = notes.index(added)
    cues = list(srt.parse(export.render(session, "srt")))
    assert len(cues) == len(notes) and cues[at].content == read_back
    vtt_cues = webvtt.from_string(export.render(session, "vtt")).captions
    assert len(vtt_cues) == len(notes) and html.unescape(vtt_cues[at].raw_text) == read_back
    assert [cue.start for cue in cues] == [timedelta(milliseconds=ms(note.start)) for note in notes]


def unescape_markdown(line: str) -> str:
    """What a CommonMark reader shows for a line written with backslash escapes and the three entities."""
    line = re.sub(r"\\(.)|&(amp|lt|gt);", lambda m: m.group(1) or html.unescape(f"&{m.group(2)};"), line)
    return re.sub("^\u00a0+", lambda m: " " * len(m.group()), line.removesuffix("  "))


def test_markdown_shows_markup_from_answers_questions_and_names_as_text(session, tmp_path):
    session.video.path = str(tmp_path / "clip <img src=x onerror=y> # `x`\n# name.mp4")
    session.turns[0].text, session.turns[0].question = HOSTILE_ANSWER, "# Q <b>bold</b>\n## two"
    session.add_note(9.0, 10.0, "# note\n<i>x</i>\n- y")
    text = export.render(session, "markdown")
    lines = text.split("\n")
    ours = ["# ", "## 1. ", "## 2. ", "## 3. ", "## Timeline notes"]
    assert [line for line in lines if line.lstrip().startswith("#")] == [
        next(line for line in lines if line.startswith(prefix)) for prefix in ours
    ]
    assert "<" not in text and "&lt;script&gt;" in text and "&lt;img src=x onerror=y&gt;" in text
    structural = re.compile(r"\s*(```|~~~|[-+*>=|]|\d+[.)]|!?\[|`)")
    start = lines.index(next(line for line in lines if line.startswith("## 1. ")))
    block = lines[start + 2 : start + 2 + len(HOSTILE_ANSWER.split("\n"))]
    assert not [line for line in block if structural.match(line)]
    assert "\n".join(unescape_markdown(line) for line in block) == HOSTILE_ANSWER
    assert unescape_markdown(lines[start]) == "## 1. # Q <b>bold</b> ## two"
    assert unescape_markdown(lines[0]) == "# " + Path(session.video.path).name.replace("\n", " ")
    note_lines = [line for line in lines if "\\# note" in line and line.startswith("- ")]
    assert len(note_lines) == 1 and not structural.match(lines[lines.index(note_lines[0]) + 2].lstrip("\u00a0 "))


def test_json_export_keeps_hostile_text_exactly(session):
    session.turns[0].text = HOSTILE_ANSWER + "\x1b[2J\u202e"
    session.add_note(9.0, 10.0, FORMULAS[0] + "\n\n00:00:01,000")
    data = json.loads(export.render(session, "json"))
    assert data["turns"][0]["answer"] == session.turns[0].text
    assert [note["text"] for note in data["notes"]] == [note.text for note in session.sorted_notes()]


def test_json_export_on_stdout_is_the_same_data_with_nothing_for_a_terminal(session, capsys):
    session.turns[0].text = "x\x9b2J\u202ey\x1b"
    SessionStore().save(session)
    assert cli.main(["export", session.video.path, "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["turns"][0]["answer"] == session.turns[0].text
    assert "\x9b" not in out and "\u202e" not in out and out.count("\n") > 10


def test_on_variable_frame_rate_an_answers_caption_ends_where_its_last_frame_does(clips, tmp_path, capsys):
    from videochat.video.timeline import Timeline
    from videochat.video.info import probe

    clip = clips("vfr.mp4")
    info = probe(clip)
    timeline = Timeline.of(info)
    # A frame whose next one follows after much less (or more) than the average frame's length.
    last = next(i for i in range(1, info.frame_count - 1) if abs((timeline.time_of(i + 1) - timeline.time_of(i)) - 1 / info.fps) > 0.01)
    session = Session(VideoIdentity.of(info))
    session.add_answer(
        Answer(question="What?", text="This.", stopped=False, indices=[0, last], times=[timeline.time_of(0), timeline.time_of(last)],
               model="m", revision=None, family="internvl2", frames=2, segment=None, settings={}, device="cpu", precision="float32",
               asked_at=1_700_000_000.0, follow_up=False)
    )
    SessionStore().save(session)
    assert cli.main(["export", str(clip), "--format", "srt"]) == 0
    (cue,) = srt.parse(capsys.readouterr().out)
    assert cue.start == timedelta(milliseconds=ms(timeline.time_of(0)))
    assert cue.end == timedelta(milliseconds=ms(timeline.time_of(last + 1)))  # the next frame's time, not one average frame on


def test_every_format_exports_the_answer_a_regenerated_turn_shows_and_json_also_keeps_the_others(session):
    import dataclasses

    first = session.turns[1]
    again = dataclasses.replace(first, text="Regenerated: a parade passes.", asked_at=1_700_000_100.0)
    session.regenerated(first.id, again)
    session.show_alternative(1, 1)
    for name in export.FORMATS:
        if name in ("srt", "vtt"):
            session.notes.clear()  # captions are the notes, else the answers
        text = export.render(session, name)
        assert "Regenerated: a parade passes." in text and ("with commas" not in text or name == "json"), name
    data = json.loads(export.render(session, "json"))
    turn = data["turns"][1]
    assert (turn["answer"], turn["shown"], [other["answer"] for other in turn["alternatives"]]) == ("Regenerated: a parade passes.", 1, [SECOND_TEXT])
    assert "alternatives" not in data["turns"][0]
    assert "*Answer 2 of 2 (regenerated; the JSON export has every answer)*" in export.render(session, "markdown")
