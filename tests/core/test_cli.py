"""The `videochat` command line: probe, sample, preprocess, and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import torch

from tests.core import card_reference as card
from videochat.cli import main
from videochat.timecode import format_time


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
    assert result.returncode == 1 and "groups of 4" in result.stderr


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
