"""`videochat ask/batch --engine`: answers from a server with the true frame times, the key never printed, batches in flight and resumable."""

from __future__ import annotations

import json
import os
import stat

import pytest

from tests.support.clips import write_clip
from tests.support.engine_standin import EngineStandIn
from videochat.batch.results import read_results
from videochat.cli.commands import main
from videochat.frames.pipeline import sample_frames
from videochat.video.source import VideoSource

MODEL = "OpenGVLab/InternVL2-8B"
KEY = "sk-cli-standin-key-987654321"
LOCAL_JSON_KEYS = {"question", "answer", "stopped", "indices", "times", "model", "revision", "family", "frames", "segment",
                   "settings", "device", "precision", "asked_at", "follow_up", "answered_at", "id"}


@pytest.fixture(autouse=True)
def config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return tmp_path / "config"


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("cli-engine") / "clip.mp4", frames=60)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-engine-folder")
    for number in range(4):
        write_clip(root / f"clip{number}.mp4", frames=30 + number)
    (root / "broken.mp4").write_bytes(b"not a video")
    return root


def test_ask_through_an_engine_prints_the_answer_and_the_times_of_the_frames_sent_never_the_key(clip, capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with EngineStandIn(api_key=KEY) as standin:
        status = main(["ask", str(clip), "What happens?", "--engine", standin.url, "--model", MODEL, "--json", "--start", "0.5"])
    out, err = capsys.readouterr()
    answer = json.loads(out)
    with VideoSource.open(clip) as source:
        sample = sample_frames(source, "internvl2", 8, (0.5, source.info.duration))
    assert status == 0 and standin.received[-1].authorization == f"Bearer {KEY}"
    assert answer["indices"] == [int(i) for i in sample.indices] == standin.received[-1].frame_codes
    assert answer["times"] == [round(float(t), 6) for t in sample.times]
    assert LOCAL_JSON_KEYS <= set(answer) and answer["engine"] == standin.url and answer["model"] == MODEL
    assert KEY not in out + err


def test_a_refused_key_says_what_to_do_and_the_key_is_blanked(clip, capsys):
    with EngineStandIn(api_key=KEY) as standin:
        status = main(["ask", str(clip), "What?", "--engine", standin.url, "--model", MODEL, "--api-key", "sk-wrong-key-1234567890", "--no-save"])
    err = capsys.readouterr().err
    assert status == 1 and "OPENAI_API_KEY" in err and "sk-wrong-key" not in err


def test_a_stored_key_is_a_0600_file_in_the_config_folder_and_is_used_next_time(clip, capsys, config_home):
    with EngineStandIn(api_key=KEY) as standin:
        assert main(["ask", str(clip), "What?", "--engine", standin.url, "--model", MODEL, "--api-key", KEY, "--save-api-key", "--no-save"]) == 0
        stored = config_home / "videochat" / "engine-keys.json"
        assert stat.S_IMODE(os.stat(stored).st_mode) == 0o600
        assert json.loads(stored.read_text()) == {standin.url: KEY}
        assert main(["ask", str(clip), "Again?", "--engine", standin.url, "--model", MODEL, "--no-save"]) == 0
        assert standin.received[-1].authorization == f"Bearer {KEY}"
    assert KEY not in "".join(capsys.readouterr())
    settings = config_home / "videochat" / "settings.json"
    assert not settings.exists() or KEY not in settings.read_text()


def test_a_key_file_others_can_read_is_not_used(clip, capsys, config_home):
    stored = config_home / "videochat" / "engine-keys.json"
    stored.parent.mkdir(parents=True)
    with EngineStandIn(api_key=KEY) as standin:
        stored.write_text(json.dumps({standin.url: KEY}))
        stored.chmod(0o644)
        status = main(["ask", str(clip), "What?", "--engine", standin.url, "--model", MODEL, "--no-save"])
    assert status == 1 and "chmod 600" in capsys.readouterr().err


def test_an_engine_answer_is_saved_in_the_videos_conversation_with_its_address(clip):
    from videochat.sessions.export import saved_session

    with EngineStandIn() as standin:
        assert main(["ask", str(clip), "What happens?", "--engine", standin.url, "--model", MODEL]) == 0
    turn = saved_session(clip).turns[-1]
    assert turn.engine == standin.url and turn.indices == standin.received[-1].frame_codes


def test_batch_keeps_several_requests_in_flight_and_resumes_only_what_is_missing(folder, tmp_path, capsys):
    questions = tmp_path / "questions.txt"
    questions.write_text("What is shown?\nWhat colour is it?\nHow many?\n")
    out = tmp_path / "results.jsonl"
    argv = ["batch", str(folder), "--questions", str(questions), "--out", str(out), "--engine", "URL", "--model", MODEL, "--concurrency", "8"]
    with EngineStandIn(seconds_per_answer=0.2) as standin:
        argv[argv.index("URL")] = standin.url
        assert main(argv) == 0
        assert standin.most_in_flight >= 4  # 12 answers of 200 ms each, 8 at a time
        records = read_results(out)
        answers = [r for r in records if r["status"] == "ok"]
        errors = [r for r in records if r["status"] == "error"]
        assert len(answers) == 12 and [(r["clip"], r["error_type"]) for r in errors] == [(str(folder / "broken.mp4"), "UnreadableVideo")]
        for record in answers:
            with VideoSource.open(record["clip"]) as source:
                expected = [int(i) for i in sample_frames(source, "internvl2", 8).indices]
            assert record["indices"] == expected and record["engine"] == standin.url
        asked = len(standin.received)
        assert main(argv) == 0  # everything is there: nothing asked again
        assert len(standin.received) == asked
        questions.write_text("What is shown?\nWhat colour is it?\nHow many?\nWhere?\n")
        assert main(argv) == 0
        assert len(standin.received) == asked + 4  # one new question for each readable clip
    assert "nothing to do" in capsys.readouterr().err


def test_batch_resumes_after_an_engine_that_died_mid_answer(folder, tmp_path, capsys):
    questions = tmp_path / "questions.txt"
    questions.write_text("What is shown?\n")
    out = tmp_path / "results.jsonl"
    argv = ["batch", str(folder), "--questions", str(questions), "--out", str(out), "--engine", "URL", "--model", MODEL, "--concurrency", "2"]
    with EngineStandIn(break_after_pieces=1) as dying:
        argv[argv.index("URL")] = dying.url
        assert main(argv) == 1
    assert "closed the connection" in capsys.readouterr().err
    assert not [r for r in read_results(out) if r["status"] == "ok"]
    with EngineStandIn() as standin:
        argv[argv.index(dying.url)] = standin.url
        assert main(argv) == 0
    assert len([r for r in read_results(out) if r["status"] == "ok"]) == 4


def test_concurrency_must_be_a_positive_number(folder, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["batch", str(folder), "--questions", "q", "--out", "o", "--engine", "http://127.0.0.1:9", "--model", MODEL, "--concurrency", "0"])
    assert exit_.value.code == 2 and "--concurrency" in capsys.readouterr().err


def test_a_stopped_engine_batch_writes_no_cut_answer_and_the_next_run_finishes_without_duplicates(folder, tmp_path):
    from videochat.batch.concurrent import run_engine_batch
    from videochat.batch.inputs import find_clips
    from videochat.batch.plan import plan_batch as plan
    from videochat.batch.run import QuestionAnswered
    from videochat.engines.client import EngineClient
    from videochat.engines.remote import EngineModel
    from videochat.generation import GenerationSettings

    out = tmp_path / "results.jsonl"
    questions = ["What is shown?", "Where?"]
    stop = []

    def on_event(event):
        if isinstance(event, QuestionAnswered):
            stop.append(True)  # stop once the first answer is written, with others still streaming

    with EngineStandIn(seconds_per_piece=0.05) as standin:
        engine = EngineModel.connect(EngineClient(standin.url), MODEL)
        todo = plan(find_clips(folder), questions, out, MODEL, None, None, f"engine:{MODEL}")
        summary = run_engine_batch(engine, todo, GenerationSettings(), 3, on_event, lambda: bool(stop))
        assert summary.stopped and 1 <= summary.answered < 8
        written = [r for r in read_results(out) if r["status"] == "ok"]
        assert all(r["answer"] == f"I saw 8 frames: {' '.join(map(str, r['indices']))}." for r in written)  # whole answers only
        engine.client.reset_stop()
        todo = plan(find_clips(folder), questions, out, MODEL, None, None, f"engine:{MODEL}")
        assert len(todo.pending) == 8 - summary.answered
        run_engine_batch(engine, todo, GenerationSettings(), 3)
    pairs = [(r["clip"], r["question"]) for r in read_results(out) if r["status"] == "ok"]
    assert len(pairs) == len(set(pairs)) == 8


def test_batch_progress_lines_name_each_clip_with_its_own_answers_while_clips_overlap(folder, tmp_path, capsys):
    questions = tmp_path / "questions.txt"
    questions.write_text("What is shown?\nWhere?\n")
    out = tmp_path / "results.jsonl"
    with EngineStandIn(seconds_per_answer=0.05) as standin:
        assert main(["batch", str(folder), "--questions", str(questions), "--out", str(out), "--engine", standin.url, "--model", MODEL, "--concurrency", "8"]) == 0
    lines = capsys.readouterr().err.splitlines()
    finished = sorted(line.split(" ", 2)[2] for line in lines if line.endswith(" answers"))
    assert finished == [f"clip{n}.mp4: 2 answers" for n in range(4)]
