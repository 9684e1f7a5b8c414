"""`videochat runtime list/install`, and `ask`/`batch` of a model whose runtime is not this one: its own model process.

The model process runs in a stand-in current runtime (tests/runtimes/stand_in.py: this test's own
Python behind the runtime's layout) on a tiny LLaVA-OneVision checkpoint whose family is told to
need the current runtime; the real current runtime's models are tested by their own family tests.
"""

from __future__ import annotations

import json

import pytest

from tests.runtimes.stand_in import make_runtime
from tests.support.tiny_native import build_llava_onevision
from videochat.cli.commands import main
from videochat.frames.pipeline import sample_frames
from videochat.models.resolve import ModelRef
from videochat.video.source import VideoSource


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return build_llava_onevision(tmp_path_factory.mktemp("llava"))


@pytest.fixture(autouse=True)
def data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture
def needs_current(monkeypatch):
    monkeypatch.setattr(ModelRef, "runtime", property(lambda self: "current"))


def test_ask_for_a_model_of_a_runtime_that_is_not_installed_says_how_to_install_it(tiny_model, clips, capsys, needs_current):
    assert main(["ask", str(clips("plain.mp4")), "What?", "--model", str(tiny_model), "--no-save"]) == 1
    assert "needs the current runtime (transformers 5.x): install it with `videochat runtime install current`" in capsys.readouterr().err


def test_ask_answers_through_a_model_process_of_the_model_s_runtime_with_the_frames_it_saw(tiny_model, clips, capsys, needs_current):
    make_runtime()
    clip = clips("plain.mp4")
    argv = ["ask", str(clip), "What?", "--model", str(tiny_model), "--frames", "8", "--max-new-tokens", "4", "--json", "--no-save",
            "--follow-up", "And then?", "--device", "cpu"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    first, second = (json.loads(line) for line in captured.out.strip().splitlines())
    with VideoSource.open(clip) as source:
        sample = sample_frames(source, "native", 8)
    assert first["indices"] == [int(i) for i in sample.indices] == second["indices"]
    assert first["times"] == [round(float(t), 6) for t in sample.times]  # the protocol carries microseconds
    assert first["engine"].startswith("http://127.0.0.1:") and first["model"] == tiny_model.name and first["family"] == "native"
    assert "in the current runtime" in captured.err


def test_batch_answers_through_a_model_process_of_the_model_s_runtime_and_resumes(tiny_model, clips, tmp_path, capsys, needs_current):
    make_runtime()
    folder = tmp_path / "clips"
    folder.mkdir()
    (folder / "a.mp4").write_bytes(clips("plain.mp4").read_bytes())
    questions = tmp_path / "questions.txt"
    questions.write_text("What?\nWho?\n")
    out = tmp_path / "results.jsonl"
    argv = ["batch", str(folder), "--questions", str(questions), "--model", str(tiny_model), "--out", str(out), "--frames", "4", "--max-new-tokens", "3", "--device", "cpu"]
    assert main(argv) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["question"] for line in lines] == ["What?", "Who?"] and all(line["status"] == "ok" and len(line["indices"]) == 4 for line in lines)
    assert main(argv) == 0  # all answered: nothing is asked again, no process started
    assert "nothing to do" in capsys.readouterr().err


def test_runtime_list_shows_each_runtime_with_its_versions(capsys):
    make_runtime()
    assert main(["runtime", "list", "--json"]) == 0
    listed = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert set(listed) == {"seed", "current"}
    assert all(listed[name]["installed"] and listed[name]["transformers"] for name in listed)
    assert main(["runtime", "list"]) == 0
    assert "current" in capsys.readouterr().out


def test_runtime_install_of_an_installed_runtime_says_so_without_installing(capsys):
    folder = make_runtime()
    assert main(["runtime", "install", "current"]) == 0
    captured = capsys.readouterr()
    assert "already installed" in captured.err and captured.out.strip() == str(folder)
