"""The `videochat` command line: probe, sample, preprocess, and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from tests.support import card_reference as card
from videochat.cli.commands import main
from videochat.video.timecode import format_time


def run(*args):
    """The installed entry point's code path, in a fresh interpreter as a user runs it."""
    return subprocess.run([sys.executable, "-m", "videochat.cli", *map(str, args)], capture_output=True, text=True, timeout=120)


def test_probe_json_has_metadata_and_every_frame_time(clips):
    result = run("probe", clips("vfr.mp4"), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["frame_count"] == 90 and info["variable_frame_rate"] is True
    assert len(info["frame_times"]) == 90 and info["frame_times"][2] == 0.083
    assert {"fps", "duration", "width", "height", "rotation", "codec"} <= set(info)


def test_probe_text_is_readable(clips, capsys):
    assert main(["probe", str(clips("phone.mp4"))]) == 0
    out = capsys.readouterr().out
    assert "180 x 320 (upright), stored turned 270°" in out and "0:00:01.500" in out


def test_sample_json_gives_indices_times_and_message(clips, capsys):
    assert main(["sample", str(clips("plain.mp4")), "--family", "internvideo2", "--json"]) == 0
    sample = json.loads(capsys.readouterr().out)
    assert sample["indices"] == list(card.iv2_get_index(90, 8)) == [5, 16, 27, 38, 49, 61, 72, 83]
    assert sample["message"] == card.iv2_msg(card.iv2_get_index(90, 8), 30.0)
    assert sample["times"][0] == round(5 / 30, 6)


def test_sample_segment_with_start_only_runs_to_the_end(clips, capsys):
    assert main(["sample", str(clips("plain.mp4")), "--family", "internvl2", "--frames", "4", "--start", "2", "--json"]) == 0
    times = json.loads(capsys.readouterr().out)["times"]
    assert min(times) >= 2.0 and len(times) == 4


def test_preprocess_saves_the_model_inputs(clips, tmp_path):
    out = tmp_path / "nested" / "clip.pt"
    result = run("preprocess", clips("plain.mp4"), "--family", "internvl2", "--frames", "6", "--start", "1", "--end", "2", "--out", out)
    assert result.returncode == 0, result.stderr
    saved = torch.load(out, weights_only=False)
    assert saved["pixel_values"].shape == (6, 3, 448, 448)
    assert saved["num_patches_list"] == [1] * 6
    assert np.all((saved["times"].numpy() >= 1.0) & (saved["times"].numpy() <= 2.0))


def test_errors_are_one_line_on_stderr_with_a_failing_status(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("hello")
    result = run("probe", text)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "not a video file" in result.stderr


def test_family_rule_errors_reach_the_user(clips):
    result = run("sample", clips("plain.mp4"), "--family", "internvideo2.5", "--frames", "30")
    assert result.returncode == 2 and "groups of 4" in result.stderr


def test_unknown_family_is_a_usage_error(clips):
    result = run("sample", clips("plain.mp4"), "--family", "gpt")
    assert result.returncode == 2


def test_format_time():
    assert format_time(3725.043) == "1:02:05.043"
    assert format_time(0.0) == "0:00:00.000"


def test_output_into_a_closed_pipe_is_not_an_error(clips):
    """`videochat probe x | head`: the reader goes away before we write."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run([sys.executable, "-m", "videochat.cli", "probe", str(clips("plain.mp4"))], stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert result.returncode == 0 and "Traceback" not in result.stderr and "Exception" not in result.stderr


# -- values that mean nothing are refused before anything opens or loads ----------------------

# A catalog name resolves without its weights: a refusal that comes later says "not downloaded".
CATALOG_MODEL = "InternVL2-1B"


def command_line(command: str, clip, tmp_path, *extra: str) -> list[str]:
    if command == "batch":
        questions = tmp_path / "questions.txt"
        questions.write_text("What happens?\n", encoding="utf-8")
        return ["batch", str(clip), "--questions", str(questions), "--out", str(tmp_path / "out.jsonl"), "--model", CATALOG_MODEL, *extra]
    if command == "ask":
        return ["ask", str(clip), "What happens?", "--model", CATALOG_MODEL, *extra]
    return [command, str(clip), "--family", "internvl2", *extra, *(["--out", str(tmp_path / "x.pt")] if command == "preprocess" else [])]


def usage_error(argv, capsys) -> str:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "Traceback" not in error
    return error.strip().splitlines()[-1]


@pytest.mark.parametrize("option, value", [("--max-new-tokens", "0"), ("--max-new-tokens", "-1"), ("--temperature", "nan"), ("--temperature", "-0.5"), ("--temperature", "inf")])
@pytest.mark.parametrize("command", ["ask", "batch"])
def test_generation_values_that_mean_nothing_are_usage_errors_naming_the_value(command, option, value, clips, tmp_path, capsys):
    line = usage_error(command_line(command, clips("short.mp4"), tmp_path, option, value), capsys)
    assert option in line and repr(value) in line


@pytest.mark.parametrize("option, value", [("--start", "inf"), ("--start", "-1"), ("--start", "nan"), ("--end", "inf"), ("--end", "-inf"), ("--end", "nan"), ("--end", "-2")])
@pytest.mark.parametrize("command", ["sample", "preprocess", "ask"])
def test_segment_times_that_are_not_finite_or_are_negative_are_usage_errors_naming_the_value(command, option, value, clips, tmp_path, capsys):
    line = usage_error(command_line(command, clips("short.mp4"), tmp_path, f"{option}={value}"), capsys)
    assert option in line and repr(value) in line and "empty" not in line


@pytest.mark.parametrize("frames", ["0", "-3"])
@pytest.mark.parametrize("command", ["ask", "batch"])
def test_a_frame_count_the_family_does_not_take_is_refused_as_sample_refuses_it_before_the_model_loads(command, frames, clips, tmp_path, capsys):
    assert main(command_line("sample", clips("short.mp4"), tmp_path, "--frames", frames)) == 2
    refusal = capsys.readouterr().err
    assert main(command_line(command, clips("short.mp4"), tmp_path, "--frames", frames)) == 2
    error = capsys.readouterr().err
    assert error == refusal == f"videochat: InternVL2 takes 1 to 64 frames, not {frames}.\n"


@pytest.mark.parametrize("command", ["sample", "preprocess"])
def test_a_frame_count_out_of_the_familys_range_is_refused_naming_the_range_before_the_video_opens(command, tmp_path, capsys):
    missing = tmp_path / "not-there.mp4"  # opening it would fail: the frame count is refused first
    assert main(command_line(command, missing, tmp_path, "--frames", "80")) == 2
    assert capsys.readouterr().err == "videochat: InternVL2 takes 1 to 64 frames, not 80.\n"


# plain.mp4 runs 3.0 s; the catalog model is not downloaded, so a refusal after loading began would say so.
@pytest.mark.parametrize(
    "given, message",
    [
        (["--start", "50"], "The segment starts after the end of the clip (3.0 s): its in point is 50.0 s; set it before 3.0 s."),
        (["--start", "3"], "The segment starts at the end of the clip (3.0 s), where no frame is left: set its in point before 3.0 s."),
        (["--end", "1", "--start", "2.5"], "The segment's out point (1.0 s) comes before its in point (2.5 s): set the out point after the in point."),
        (["--start", "1.5", "--end", "1.5"], "The segment's in and out points are both at 1.5 s: set the out point after the in point."),
        (["--end", "0"], "The segment ends at the very start of the clip (0.0 s): set its out point after it."),
    ],
)
@pytest.mark.parametrize("command", ["sample", "preprocess", "ask"])
def test_a_segment_that_does_not_fit_the_clip_is_a_usage_error_naming_what_was_given_before_any_model_loads(command, given, message, clips, tmp_path, capsys):
    assert main(command_line(command, clips("plain.mp4"), tmp_path, *given)) == 2
    assert capsys.readouterr().err == f"videochat: {message}\n"
    assert not (tmp_path / "x.pt").exists()


def test_a_segment_too_short_to_hold_a_frames_time_takes_the_frame_on_screen_at_its_in_point(clips, capsys):
    assert main(["sample", str(clips("plain.mp4")), "--family", "internvl2", "--start", "1.01", "--end", "1.02", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["indices"] == [30]


@pytest.mark.parametrize("where", ["question", "follow-up"])
def test_a_question_that_is_not_utf8_is_a_usage_error_before_anything_loads(where, clips, tmp_path):
    """Bytes that are not UTF-8 reach Python as lone surrogates (surrogateescape), which no tokenizer or JSON writer takes."""
    bad = b"What \xff happens?"
    question, extra = (bad, []) if where == "question" else (b"What happens?", [b"--follow-up", bad])
    argv = [sys.executable, "-m", "videochat.cli", "ask", os.fsencode(clips("short.mp4")), question, "--model", CATALOG_MODEL.encode(), *extra]
    result = subprocess.run(argv, capture_output=True, timeout=120)
    error = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2 and "Traceback" not in error and "loading" not in error
    assert "not UTF-8" in error.strip().splitlines()[-1] and "\\xff" in error


def test_interactive_lines_that_are_not_utf8_are_skipped_with_a_warning(monkeypatch, capsys):
    import argparse
    import io

    from videochat.cli.commands import _questions

    stdin = io.TextIOWrapper(io.BytesIO(b"And then?\nbad \xff line\nLast?\n\n"), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    args = argparse.Namespace(question="First?", follow_up=[], interactive=True)
    assert list(_questions(args)) == ["First?", "And then?", "Last?"]
    assert "not UTF-8" in capsys.readouterr().err


def test_python_dash_m_videochat_is_the_same_command_line(clips):
    result = subprocess.run([sys.executable, "-m", "videochat", "probe", "--json", str(clips("plain.mp4"))], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["frame_count"] > 0
