"""Reading what a batch wrote before, and its inputs: a line or file that cannot be used is named,
never a traceback.

The results file is read back to resume (`plan`); it may have been edited, damaged or written by
something else. A line that is not a result is skipped and counted (the command line says how
many); a file with no result at all, or that is not a regular file, is refused.
"""

from __future__ import annotations

import json

import pytest

from tests.support.fifos import watched_fifo
from videochat.batch.inputs import BatchInputError, read_questions
from videochat.batch.plan import plan_batch
from videochat.models.resolve import resolve_model
from videochat.cli.commands import main

MODEL = "InternVL2-1B"  # a catalog name resolves without its weights


def good_line(clip, question="What is shown?", ref=None) -> dict:
    ref = ref or resolve_model(MODEL)
    return {"clip": str(clip), "question": question, "answer": "A cat.", "status": "ok", "model": ref.display_name,
            "revision": ref.revision, "model_source": ref.source, "asked_frames": None}  # fmt: skip


BAD_LINES = {
    "list for the clip": {"clip": ["/a.mp4"], "status": "ok", "question": "What is shown?"},
    "list for the question": {"clip": "/a.mp4", "status": "ok", "question": ["What is shown?"]},
    "list for the error type": {"clip": "/b.mp4", "status": "error", "error_type": ["UnreadableVideo"], "clip_size": 1, "clip_mtime": 2.0},
    "object for the error": {"clip": "/b.mp4", "status": "error", "error_type": "UnreadableVideo", "error": {"no": 1}},
    "list for the status": {"clip": "/a.mp4", "status": ["ok"], "question": "What is shown?"},
    "text for the frames": {"clip": "/a.mp4", "status": "ok", "question": "What is shown?", "asked_frames": "8"},
}


def write_lines(path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(line + b"\n" for line in lines))


@pytest.mark.parametrize("kind", [*BAD_LINES, "deeply nested", "not UTF-8"])
def test_a_line_that_is_not_a_result_is_skipped_and_counted_and_the_good_ones_still_count(tmp_path, kind):
    clip, out = tmp_path / "a.mp4", tmp_path / "out.jsonl"
    clip.write_bytes(b"x")
    bad = {
        "deeply nested": b'{"clip": "/a.mp4", "status": "ok", "question": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        "not UTF-8": b'{"clip": "/a.mp4", "status": "ok", "question": "What \xff is shown?"}',
    }.get(kind) or json.dumps(BAD_LINES[kind]).encode()
    write_lines(out, [json.dumps(good_line(clip)).encode(), bad])
    ref = resolve_model(MODEL)
    todo = plan_batch([clip], ["What is shown?", "Why?"], out, ref.display_name, None, ref.revision, ref.source)
    assert todo.answered == 1 and todo.pending == [(clip, "Why?")]
    assert todo.skipped_lines == 1


def test_the_command_says_how_many_lines_it_skipped(tmp_path, capsys):
    clip, out, questions = tmp_path / "a.mp4", tmp_path / "out.jsonl", tmp_path / "questions.txt"
    clip.write_bytes(b"x")
    questions.write_text("What is shown?\n", encoding="utf-8")
    write_lines(out, [json.dumps(good_line(clip)).encode(), *(json.dumps(line).encode() for line in BAD_LINES.values()), b"[" * 10_000])
    assert main(["batch", str(clip), "--questions", str(questions), "--out", str(out), "--model", MODEL]) == 0
    error = capsys.readouterr().err
    assert "Traceback" not in error
    assert f"{len(BAD_LINES) + 1} lines of {out} are not batch results and were left out" in error
    assert "nothing to do: all 1 answers" in error


def test_a_last_line_cut_short_by_a_kill_is_not_counted_as_skipped(tmp_path):
    clip, out = tmp_path / "a.mp4", tmp_path / "out.jsonl"
    out.write_bytes(json.dumps(good_line(clip)).encode() + b'\n{"clip": "/a.mp4", "sta')
    ref = resolve_model(MODEL)
    assert plan_batch([clip], ["What is shown?"], out, ref.display_name, None, ref.revision, ref.source).skipped_lines == 0


def test_a_results_file_that_is_a_fifo_is_refused_without_opening_it(tmp_path):
    with watched_fifo(tmp_path / "out.jsonl") as fifo:
        with pytest.raises(BatchInputError, match="not a regular file"):
            plan_batch([tmp_path / "a.mp4"], ["Q?"], fifo.path, MODEL)
    assert not fifo.opened


def test_a_questions_file_that_is_not_utf8_names_the_line(tmp_path):
    questions = tmp_path / "questions.txt"
    questions.write_bytes("What is shown?\nWhy is it r\u00e9d?\n".encode("latin-1"))
    with pytest.raises(BatchInputError) as refused:
        read_questions(questions)
    message = str(refused.value)
    assert "is not UTF-8 text" in message and "line 2" in message and "\n" not in message


def test_a_results_file_written_under_the_old_model_name_resumes_without_asking_again(tmp_path):
    clip, out = tmp_path / "a.mp4", tmp_path / "out.jsonl"
    clip.write_bytes(b"x")
    ref = resolve_model("InternVideo2.5-Chat-8B")
    old = {**good_line(clip, ref=ref), "model": "InternVideo2_5_Chat_8B"}
    older = {**good_line(clip, "Why?", ref=ref), "model": "InternVideo2_5_Chat_8B"}
    older.pop("model_source")  # a line from before the source was recorded
    write_lines(out, [json.dumps(old).encode(), json.dumps(older).encode()])
    todo = plan_batch([clip], ["What is shown?", "Why?"], out, ref.display_name, None, ref.revision, ref.source)
    assert todo.answered == 2 and todo.pending == []
    assert todo.is_for(resolve_model("OpenGVLab/InternVideo2_5_Chat_8B"))


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_questions_file_that_is_a_fifo_or_a_link_to_dev_zero_is_refused_without_hanging(tmp_path, kind):
    path = tmp_path / "questions.txt"
    if kind == "fifo":
        with watched_fifo(path) as fifo:
            with pytest.raises(BatchInputError, match="not a regular file"):
                read_questions(path)
        assert not fifo.opened
    else:
        path.symlink_to("/dev/zero")
        with pytest.raises(BatchInputError, match="not a regular file"):
            read_questions(path)
    (tmp_path / "real.txt").write_text("What happens?\n")
    path.unlink()
    path.symlink_to(tmp_path / "real.txt")  # a link to a text file is the user's to make
    assert read_questions(path) == ["What happens?"]
