"""`videochat ask` from the seed runtime for a model of the REAL current runtime: its own model process, across runtimes.

The test's interpreter (the seed runtime, transformers 4.48) cannot load Qwen2.5-VL; the command starts
`videochat serve` in the current runtime (a stand-in runtime folder whose interpreter execs the real
current runtime's, tests/support/current_runtime.py) and asks it over HTTP. The answer must be the one the
current runtime gives in-process (the same frames, times, text and told times), and on a clip with a held
frame it carries the times Qwen2.5-VL was told (`model_times`) into `--json`, the session file and its export,
and `videochat batch` records them too.
"""

from __future__ import annotations

import json

import pytest

from tests.runtimes.stand_in import make_runtime
from tests.support.current_fixtures import FAMILY, held_clip, python, qwen2_5_vl  # noqa: F401 (fixtures)
from tests.support.current_runtime import checked, run_in_current
from videochat.cli.commands import main
from videochat.frames.pipeline import sample_frames
from videochat.video.source import VideoSource

QUESTION = "Describe the video."
ASK = ["--frames", "8", "--max-new-tokens", "6", "--device", "cpu", "--json"]


@pytest.fixture
def current_runtime(python, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    make_runtime(python_script=f'#!/bin/sh\nexec "{python}" "$@"\n')


def in_process(python, folder, clip) -> dict:
    """The same question asked inside the current runtime, with no model process: what the answer must be."""
    result = run_in_current(python, "-m", "videochat.cli", "ask", str(clip), QUESTION, "--model", str(folder), "--no-save", *ASK)
    return json.loads(checked(result).strip().splitlines()[-1])


def across_runtimes(folder, clip, capsys, *more: str) -> dict:
    assert main(["ask", str(clip), QUESTION, "--model", str(folder), *ASK, *more]) == 0
    captured = capsys.readouterr()
    assert "in the current runtime" in captured.err  # it went through a model process of that runtime
    return json.loads(captured.out.strip().splitlines()[-1])


def test_ask_from_the_seed_runtime_answers_in_the_current_runtime_with_the_frames_the_model_saw(python, qwen2_5_vl, clips, capsys, current_runtime):
    clip = clips("plain.mp4")
    answer = across_runtimes(qwen2_5_vl, clip, capsys, "--no-save")
    with VideoSource.open(clip) as source:
        sample = sample_frames(source, FAMILY, 8)
    assert answer["family"] == FAMILY and answer["engine"].startswith("http://127.0.0.1:")
    assert answer["indices"] == [int(i) for i in sample.indices]
    assert answer["times"] == [round(float(t), 6) for t in sample.times]
    expected = in_process(python, qwen2_5_vl, clip)
    assert (answer["answer"], answer["indices"], answer["times"]) == (expected["answer"], expected["indices"], expected["times"])
    assert answer["model_times"] is None is expected["model_times"]  # an even clip: the model was told the true times


def test_on_a_held_frame_clip_the_times_qwen2_5_vl_was_told_reach_the_answer_its_session_and_the_export(python, qwen2_5_vl, held_clip, capsys, current_runtime):
    answer = across_runtimes(qwen2_5_vl, held_clip, capsys)
    expected = in_process(python, qwen2_5_vl, held_clip)
    assert expected["model_times"] is not None  # the in-process answer says so: the processor cannot be told these times
    assert answer["times"] == expected["times"] and answer["model_times"] == pytest.approx(expected["model_times"], abs=1e-6)
    assert max(abs(told - true) for told, true in zip(answer["model_times"], answer["times"])) > 0.05

    from videochat.sessions.store import SessionStore

    [saved] = SessionStore().read(held_clip).turns
    assert saved.model_times == answer["model_times"]
    assert main(["export", str(held_clip), "--format", "json"]) == 0
    [exported] = json.loads(capsys.readouterr().out)["turns"]
    assert exported["model_times"] == answer["model_times"]


def test_a_batch_from_the_seed_runtime_records_the_times_qwen2_5_vl_was_told(python, qwen2_5_vl, held_clip, tmp_path, current_runtime):
    folder = tmp_path / "clips"
    folder.mkdir()
    (folder / "held.mp4").write_bytes(held_clip.read_bytes())
    questions = tmp_path / "questions.txt"
    questions.write_text(f"{QUESTION}\n")
    out = tmp_path / "results.jsonl"
    assert main(["batch", str(folder), "--questions", str(questions), "--model", str(qwen2_5_vl), "--out", str(out), *ASK[:-1]]) == 0
    [record] = [json.loads(line) for line in out.read_text().splitlines()]
    expected = in_process(python, qwen2_5_vl, held_clip)
    assert record["status"] == "ok" and record["times"] == expected["times"]
    assert record["model_times"] == pytest.approx(expected["model_times"], abs=1e-6)


def test_a_stream_cut_short_after_its_first_piece_already_knows_the_times_the_model_was_told(qwen2_5_vl, held_clip, current_runtime):
    """A stopped answer keeps them: the model process says them before the first piece of text, not only at the end."""
    from videochat.engines.client import StreamEnd
    from videochat.engines.local_process import LocalModelProcess

    process = LocalModelProcess(str(qwen2_5_vl), device="cpu", runtime="current")
    try:
        process.start()
        process.wait_loaded()
        process.grant(held_clip)
        video = {"type": "video_url", "video_url": {"url": held_clip.resolve().as_uri()}}
        body = {"messages": [{"role": "user", "content": [video, {"type": "text", "text": QUESTION}]}], "num_frames": 8, "max_tokens": 40}
        end = StreamEnd()
        pieces = process.client.stream(body, end)
        next(pieces)
        told = end.model_times(len(end.video_frames["indices"]))
        pieces.close()
    finally:
        process.kill()
    assert told is not None and max(abs(a - b) for a, b in zip(told, end.video_frames["times"])) > 0.05
