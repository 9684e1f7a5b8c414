"""Batch questions: a folder with a bad clip finishes, a second run does nothing, a stopped run resumes without duplicates."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from tests.support.standins import isolate_hf_caches
from tests.support.tiny_native import build_llava_onevision
from videochat.backends import create_backend
from videochat.backends.base import GenerationSettings
from videochat.batch.inputs import BatchInputError, find_clips, read_questions
from videochat.batch.plan import plan_batch
from videochat.batch.results import read_results, repair_results
from videochat.batch.run import ClipFailed, ClipFinished, ClipStarted, QuestionAnswered, run_batch
from videochat.models.resolve import resolve_model
from videochat.cli.commands import main
from videochat.cli.batch import _BatchProgress
from videochat.errors import OutOfMemory
from tests.support.clips import write_clip

FRAMES = 2
SETTINGS = GenerationSettings(max_new_tokens=3)
QUESTIONS = ["What is shown?", "What colour is it?"]


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch-hf")
    with isolate_hf_caches(root):
        yield build_llava_onevision(root / "llava-onevision-tiny")


@pytest.fixture(scope="module")
def backend(model_folder):
    backend = create_backend(resolve_model(model_folder))
    backend.load()
    yield backend
    backend.unload()


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("batch-clips")
    write_clip(folder / "a.mp4", frames=24, width=64, height=64)
    (folder / "sub").mkdir()
    write_clip(folder / "sub" / "b.MP4", frames=24, width=64, height=64)
    (folder / "bad.mp4").write_bytes(os.urandom(4096))
    (folder / ".hidden").mkdir()
    write_clip(folder / ".hidden" / "c.mp4", frames=4, width=64, height=64)
    write_clip(folder / ".d.mp4", frames=4, width=64, height=64)
    (folder / "notes.txt").write_text("not a clip", encoding="utf-8")
    return folder


@pytest.fixture
def questions_file(tmp_path):
    path = tmp_path / "questions.txt"
    path.write_text("What is shown?\n\n# a comment\n  What colour is it?  \nWhat is shown?\n", encoding="utf-8")
    return path


def batch(model_folder, clips, questions, out, *extra):
    return main(["batch", str(clips), "--questions", str(questions), "--model", str(model_folder), "--out", str(out),
                 "--frames", str(FRAMES), "--max-new-tokens", "3", *extra])  # fmt: skip


def lines(out: Path) -> list[dict]:
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def ok_pairs(out: Path) -> list[tuple[str, str]]:
    return [(Path(line["clip"]).name, line["question"]) for line in lines(out) if line["status"] == "ok"]


def test_a_folder_gives_its_videos_recursively_by_relative_path_without_hidden_ones(clip_folder):
    assert find_clips(clip_folder) == [clip_folder / "a.mp4", clip_folder / "bad.mp4", clip_folder / "sub" / "b.MP4"]


def test_a_list_file_names_clips_relative_to_its_own_folder(clip_folder, tmp_path):
    lists = tmp_path / "lists"
    lists.mkdir()
    relative = os.path.relpath(clip_folder, lists)
    (lists / "clips.txt").write_text(f"# first the sub folder's\n{relative}/sub/b.MP4\n\n{clip_folder / 'a.mp4'}\n{relative}/a.mp4\n", encoding="utf-8")
    assert find_clips(lists / "clips.txt") == [clip_folder / "sub" / "b.MP4", clip_folder / "a.mp4"]


def test_questions_leave_out_blank_and_comment_lines_and_repeats(questions_file):
    assert read_questions(questions_file) == QUESTIONS


@pytest.mark.parametrize("what", ["no questions", "no clips", "a missing folder", "a binary list"])
def test_a_batch_without_questions_or_clips_says_so_and_exits_1(model_folder, clip_folder, questions_file, tmp_path, capsys, what):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no videos here", encoding="utf-8")
    blank = tmp_path / "blank.txt"
    blank.write_text("# only a comment\n\n", encoding="utf-8")
    binary = tmp_path / "clips.lst"
    binary.write_bytes(b"\x00\xff\xfe" * 10)
    clips, questions, message = {
        "no questions": (clip_folder, blank, "holds no questions"),
        "no clips": (empty, questions_file, "There are no video files"),
        "a missing folder": (tmp_path / "nowhere", questions_file, "does not exist"),
        "a binary list": (binary, questions_file, "is not a text file"),
    }[what]
    assert batch(model_folder, clips, questions, tmp_path / "out.jsonl") == 1
    err = capsys.readouterr().err
    assert message in err and "loading" not in err
    assert not (tmp_path / "out.jsonl").exists()


def test_a_folder_batch_answers_every_good_clip_reports_the_bad_one_and_a_second_run_does_nothing(
    model_folder, clip_folder, questions_file, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "results.jsonl"
    assert batch(model_folder, clip_folder, questions_file, out) == 0
    err = capsys.readouterr().err
    assert sorted(ok_pairs(out)) == sorted((clip, question) for clip in ("a.mp4", "b.MP4") for question in QUESTIONS)
    for line in (line for line in lines(out) if line["status"] == "ok"):
        assert line["asked_frames"] == FRAMES and line["frames"] == FRAMES and len(line["indices"]) == len(line["times"]) == FRAMES
        assert line["model"] == "llava-onevision-tiny" and line["follow_up"] is False and line["settings"]["max_new_tokens"] == 3
        assert line["precision"] == "float32" and line["device"] == "cpu" and "revision" in line and line["asked_at"] > 0
        assert Path(line["clip"]).is_absolute() and isinstance(line["answer"], str)
    (error,) = [line for line in lines(out) if line["status"] == "error"]
    bad = clip_folder / "bad.mp4"
    assert error["clip"] == str(bad) and error["error_type"] and "bad.mp4" in error["error"]
    assert (error["clip_size"], error["clip_mtime"]) == (bad.stat().st_size, bad.stat().st_mtime)
    assert "loading llava-onevision-tiny" in err
    assert "clip 1/3 a.mp4: 2 answers" in err and "clip 2/3 bad.mp4: could not be read" in err  # stderr is no terminal here
    assert f"4 answers written to {out}; 1 clip(s) could not be read: bad.mp4 (" in err

    before = out.read_bytes()
    monkeypatch.setattr("videochat.backends.create_backend", lambda *args, **kwargs: pytest.fail("the model was loaded"))
    assert batch(model_folder, clip_folder, questions_file, out) == 0
    err = capsys.readouterr().err
    assert f"nothing to do: all 4 answers are in {out}; 1 clip(s) could not be read: bad.mp4" in err
    assert "loading" not in err and out.read_bytes() == before


def test_other_frame_counts_or_models_are_answered_again_and_a_changed_bad_clip_is_tried_again(tmp_path):
    good, bad = tmp_path / "good.mp4", tmp_path / "bad.mp4"
    good.write_bytes(b"stands in for a clip")
    bad.write_bytes(b"junk")
    out = tmp_path / "results.jsonl"
    stat = bad.stat()
    written = [
        {"clip": str(good), "question": "Q?", "answer": "A", "status": "ok", "model": "m", "asked_frames": None, "frames": 8},
        {"clip": str(bad), "status": "error", "error": "bad.mp4 is not a video.", "error_type": "UnreadableVideo", "clip_size": stat.st_size, "clip_mtime": stat.st_mtime},
    ]  # fmt: skip
    out.write_text("".join(json.dumps(line) + "\n" for line in written), encoding="utf-8")
    same = plan_batch([good, bad], ["Q?"], out, "m", None)
    assert same.pending == [] and same.answered == 1 and same.failed_clips == {str(bad): "bad.mp4 is not a video."}
    assert plan_batch([good], ["Q?"], out, "m", 8).pending == [(good, "Q?")]  # asked for 8, not for the default (which was 8)
    assert plan_batch([good], ["Q?"], out, "other", None).pending == [(good, "Q?")]
    assert plan_batch([good], ["Q?"], out, "m", None, revision="abc123").pending == [(good, "Q?")]  # same name, another commit
    assert plan_batch([good], ["Q?"], out, "m", None, model_source="/elsewhere/m").pending == [(good, "Q?")]  # another folder named m
    os.utime(bad, (stat.st_atime, stat.st_mtime + 10))
    assert plan_batch([good, bad], ["Q?"], out, "m", None).pending == [(bad, "Q?")]


def test_a_clip_that_failed_for_a_passing_reason_is_tried_again_by_the_next_run(tmp_path):
    clip = tmp_path / "slow.mp4"
    clip.write_bytes(b"stands in for a clip")
    stat = clip.stat()
    out = tmp_path / "results.jsonl"
    for error_type in ("VideoTimeout", "PermissionError"):
        line = {"clip": str(clip), "status": "error", "error": "took too long", "error_type": error_type, "clip_size": stat.st_size, "clip_mtime": stat.st_mtime}
        out.write_text(json.dumps(line) + "\n", encoding="utf-8")
        assert plan_batch([clip], ["Q?"], out, "m", None).pending == [(clip, "Q?")]


def test_a_batch_stopped_mid_answer_drops_that_answer_and_the_next_run_completes_each_pair_once(backend, clip_folder, tmp_path, monkeypatch):
    out = tmp_path / "results.jsonl"
    clips = find_clips(clip_folder)
    pieces, answered_after = [], []
    original_stream = backend.stream

    def stream(*args, **kwargs):
        for piece in original_stream(*args, **kwargs):
            pieces.append(piece)
            yield piece

    monkeypatch.setattr(backend, "stream", stream)

    def on_event(event):
        if isinstance(event, QuestionAnswered):
            answered_after.append(len(pieces))

    def stop_in_the_second_answer():
        return bool(answered_after) and len(pieces) > answered_after[0]

    first = plan_batch(clips, QUESTIONS, out, backend.ref.display_name, FRAMES, backend.ref.revision, backend.ref.source)
    summary = run_batch(backend, first, GenerationSettings(max_new_tokens=12), on_event=on_event, should_stop=stop_in_the_second_answer)
    assert summary.stopped and summary.answered == 1
    assert ok_pairs(out) == [("a.mp4", "What is shown?")]
    assert backend._stop.is_set(), "the second answer was cut short, not finished"

    resumed = plan_batch(clips, QUESTIONS, out, backend.ref.display_name, FRAMES, backend.ref.revision, backend.ref.source)
    assert len(resumed.pending) == 5 and resumed.answered == 1  # bad.mp4 was not reached: it is tried too
    summary = run_batch(backend, resumed, SETTINGS)
    assert not summary.stopped and summary.answered == 3 and list(summary.failed_clips) == [str(clip_folder / "bad.mp4")]
    assert sorted(ok_pairs(out)) == sorted((clip, question) for clip in ("a.mp4", "b.MP4") for question in QUESTIONS)


def test_a_last_line_cut_short_by_a_kill_is_repaired_before_appending(backend, clip_folder, tmp_path):
    out = tmp_path / "results.jsonl"
    clip = clip_folder / "a.mp4"
    events = []
    summary = run_batch(backend, plan_batch([clip], QUESTIONS, out, backend.ref.display_name, FRAMES, backend.ref.revision, backend.ref.source), SETTINGS, on_event=events.append)
    assert summary.answered == 2
    assert [type(event) for event in events] == [ClipStarted, QuestionAnswered, QuestionAnswered, ClipFinished]
    assert [(event.done, event.total) for event in events if isinstance(event, QuestionAnswered)] == [(1, 2), (2, 2)]
    whole, last = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(whole + last[: len(last) // 2])  # killed halfway through writing the second answer

    again = plan_batch([clip], QUESTIONS, out, backend.ref.display_name, FRAMES, backend.ref.revision, backend.ref.source)
    assert again.pending == [(clip, QUESTIONS[1])]
    run_batch(backend, again, SETTINGS)
    assert out.read_bytes().startswith(whole) and out.read_bytes().endswith(b"\n")
    assert ok_pairs(out) == [("a.mp4", question) for question in QUESTIONS]


def test_a_whole_last_line_without_its_newline_is_kept_and_junk_files_are_refused(tmp_path):
    out = tmp_path / "results.jsonl"
    record = {"clip": "/x.mp4", "status": "ok", "question": "Q?"}
    out.write_text(json.dumps(record), encoding="utf-8")
    repair_results(out)
    assert out.read_text(encoding="utf-8") == json.dumps(record) + "\n" and read_results(out) == [record]
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\nsecond line\n", encoding="utf-8")
    with pytest.raises(BatchInputError, match="not a batch results file"):
        plan_batch([tmp_path / "x.mp4"], ["Q?"], notes, "m")


def test_a_model_error_ends_the_batch_and_propagates(backend, clip_folder, tmp_path, monkeypatch):
    def out_of_memory(*args, **kwargs):
        raise OutOfMemory("The model ran out of memory while answering.")
        yield

    monkeypatch.setattr(backend, "stream", out_of_memory)
    out = tmp_path / "results.jsonl"
    with pytest.raises(OutOfMemory):
        run_batch(backend, plan_batch(find_clips(clip_folder), QUESTIONS, out, backend.ref.display_name, FRAMES, backend.ref.revision, backend.ref.source), SETTINGS)
    assert lines(out) == []


def test_the_progress_line_on_a_terminal_is_redrawn_in_place(tmp_path):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    bar = _BatchProgress(stream, total=4)
    a, bad = tmp_path / "a.mp4", tmp_path / "bad.mp4"
    for event in (ClipStarted(a, 1, 2), QuestionAnswered(a, "Q?", {}, 1, 4), ClipFinished(a), ClipStarted(bad, 2, 2), ClipFailed(bad, "broken")):
        bar.show(event)
    bar.end()
    drawn = stream.getvalue()
    assert "\n" not in drawn[:-1] and drawn.endswith("\n")
    assert drawn.split("\r")[-1].rstrip() == "[#####---------------] 1/4 answers · clip 2/2 bad.mp4 · 1 bad clip"


def test_two_batches_with_the_same_results_file_ask_each_pair_once(backend, clip_folder, tmp_path):
    out = tmp_path / "results.jsonl"
    clip = clip_folder / "a.mp4"

    def make_plan():
        return plan_batch([clip], QUESTIONS, out, backend.ref.display_name, FRAMES, backend.ref.revision, backend.ref.source)

    first, second = make_plan(), make_plan()  # both planned before either wrote: each plans every pair
    refusals = []

    def start_the_second_while_the_first_runs(event):
        if isinstance(event, QuestionAnswered) and not refusals:
            for attempt in (make_plan, lambda: run_batch(backend, second, SETTINGS)):
                with pytest.raises(BatchInputError, match="Another batch is writing") as refused:
                    attempt()
                refusals.append(str(refused.value))

    assert run_batch(backend, first, SETTINGS, on_event=start_the_second_while_the_first_runs).answered == 2
    assert len(refusals) == 2 and str(out) in refusals[0]
    assert run_batch(backend, second, SETTINGS).answered == 0  # its plan is stale: what the first wrote is not asked again
    assert sorted(ok_pairs(out)) == sorted(("a.mp4", question) for question in QUESTIONS)


def test_every_question_is_checked_before_any_work_and_the_refused_one_is_named():
    from videochat.backends.base import check_question_text
    from videochat.batch.plan import check_batch_questions
    from videochat.errors import InvalidQuestion

    checked = []

    def check(question):
        checked.append(question)
        return check_question_text(question, ("<image>",), "Tiny")

    with pytest.raises(InvalidQuestion, match='the question "Where is <image> here\\?" cannot be asked.*Tiny reads as a control mark'):
        check_batch_questions(["What is shown?", "What is shown?", "Where is <image> here?", "Last?"], check)
    assert checked == ["What is shown?", "Where is <image> here?"]  # each once, stopping at the first refused
