"""`videochat ask` end to end on a tiny checkpoint of every family, as a user runs it.

Each family's checkpoint is built into a folder (remote-code families with their stand-in
code, InternVideo2-Chat with the bert and Mistral repos it reads at load time in an isolated
Hugging Face cache) and named to `--model` by its path; everything runs offline.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.support.standins import build_hub_extras, build_internvideo2, build_internvideo25, build_internvl2, isolate_hf_caches
from tests.support.tiny_native import build_llava_onevision, build_qwen2_vl
from videochat.cli.commands import main
from videochat.video.timecode import format_time
from videochat.frames.pipeline import sample_frames
from videochat.video.source import VideoSource

FRAMES = 8
REMOTE = {"internvl2", "internvideo2.5", "internvideo2", "internvideo2-hd"}
BUILDERS = {
    "internvl2": build_internvl2,
    "internvideo2.5": build_internvideo25,
    "internvideo2": build_internvideo2,
    "internvideo2-hd": lambda folder: build_internvideo2(folder, hd=True),
    "llava-onevision": build_llava_onevision,
    "qwen2-vl": build_qwen2_vl,
}
# The family whose frame rule samples for each checkpoint ("native" for transformers' own models).
SAMPLING_FAMILY = {**{name: name for name in REMOTE}, "llava-onevision": "native", "qwen2-vl": "native"}


@pytest.fixture(scope="module")
def hf(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf-home")
    with isolate_hf_caches(root) as (hub_cache, _modules_cache):
        build_hub_extras(hub_cache, root / "scratch")
        models = root / "models"
        folders = {name: build(models / f"{name}-tiny") for name, build in BUILDERS.items()}
        yield SimpleNamespace(root=root, hub_cache=hub_cache, folders=folders)


def ask(hf, family: str, clip: Path, *extra: str, question: str = "What happens here?"):
    consent = ["--trust-remote-code"] if family in REMOTE else []
    argv = ["ask", str(clip), question, "--model", str(hf.folders[family]), "--frames", str(FRAMES), "--max-new-tokens", "6", *consent, *extra]
    return main(argv)


def sampled_times(clip: Path, family: str, segment=None) -> list[float]:
    with VideoSource.open(clip) as source:
        return [float(t) for t in sample_frames(source, SAMPLING_FAMILY[family], FRAMES, segment).times]


@pytest.mark.parametrize("family", list(BUILDERS))
def test_ask_streams_an_answer_then_the_times_of_the_frames_seen_on_every_family(hf, family, clips, capsys):
    clip = clips("plain.mp4")
    assert ask(hf, family, clip) == 0
    captured = capsys.readouterr()
    answer, footer = captured.out.rstrip("\n").rsplit("\n", 1)
    assert answer.strip(), "the model's answer is printed before the frame times"
    times = ", ".join(format_time(t) for t in sampled_times(clip, family))
    assert footer == f"[{family}-tiny, {FRAMES} frames: {times}]"
    assert "loading" in captured.err


@pytest.mark.parametrize("family", ["internvl2", "llava-onevision"])
def test_json_answers_with_follow_ups_on_the_same_frames(hf, family, clips, capsys):
    clip = clips("plain.mp4")
    assert ask(hf, family, clip, "--json", "--follow-up", "And then?", "--start", "1", "--end", "2.5") == 0
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    for key in ("answer", "indices", "times", "model", "revision", "settings", "frames", "segment", "family", "precision", "device"):
        assert key in first, key
    assert first["question"] == "What happens here?" and second["question"] == "And then?"
    assert (first["follow_up"], second["follow_up"]) == (False, True)
    assert first["indices"] == second["indices"] and first["segment"] == [1.0, 2.5]
    assert first["times"] == pytest.approx(sampled_times(clip, family, (1.0, 2.5)), abs=1e-6)
    assert all(1.0 <= t <= 2.5 for t in first["times"])
    assert first["settings"]["max_new_tokens"] == 6 and first["precision"] == "float32" and first["device"] == "cpu"


def test_interactive_mode_reads_questions_until_an_empty_line(hf, clips, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("Who is there?\n\nnever asked\n"))
    assert ask(hf, "qwen2-vl", clips("plain.mp4"), "--json", "--interactive") == 0
    answers = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [a["question"] for a in answers] == ["What happens here?", "Who is there?"]


def test_remote_code_without_consent_is_refused_before_anything_loads(hf, clips, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))  # the other tests' --trust-remote-code is remembered for the same code
    status = main(["ask", str(clips("plain.mp4")), "Hi?", "--model", str(hf.folders["internvl2"])])
    err = capsys.readouterr().err
    assert status == 1 and "--trust-remote-code" in err and "runs its own Python code" in err
    assert "loading" not in err


def test_a_catalog_model_that_is_not_downloaded_says_how_to_get_it(hf, clips, capsys):
    status = main(["ask", str(clips("plain.mp4")), "Hi?", "--model", "InternVL2-1B"])
    err = capsys.readouterr().err
    assert status == 1 and "OpenGVLab/InternVL2-1B is not downloaded" in err


@pytest.mark.parametrize(
    "question,message", [("   ", "question is empty"), ("Is <video> the same as <image>?", "control mark")]
)
def test_questions_the_model_would_misread_are_refused_with_a_reason(hf, clips, capsys, question, message):
    assert ask(hf, "llava-onevision", clips("plain.mp4"), question=question) == 1
    assert message in capsys.readouterr().err


def test_a_bad_video_is_reported_before_the_model_loads(hf, tmp_path, capsys):
    fake = tmp_path / "notes.mp4"
    fake.write_text("not a video", encoding="utf-8")
    assert ask(hf, "llava-onevision", fake) == 1
    err = capsys.readouterr().err
    assert "notes.mp4" in err and "loading" not in err


def test_the_installed_command_answers_in_a_fresh_process(hf, clips):
    command = Path(sys.executable).with_name("videochat")
    assert command.exists(), "the project is installed with its `videochat` console script"
    result = subprocess.run(
        [str(command), "ask", str(clips("plain.mp4")), "Describe it.", "--model", str(hf.folders["llava-onevision"]), "--frames", str(FRAMES), "--max-new-tokens", "4", "--json"],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["model"] == "llava-onevision-tiny" and len(answer["times"]) == FRAMES


def test_answers_asked_from_the_command_line_join_the_video_s_saved_conversation_and_export(hf, tmp_path, capsys, monkeypatch):
    from tests.support.clips import write_clip

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    clip = write_clip(tmp_path / "asked.mp4", frames=20, width=64, height=64)
    assert ask(hf, "llava-onevision", clip, "--follow-up", "And then?", "--json") == 0
    assert ask(hf, "llava-onevision", clip, "--no-save", question="Not kept?") == 0
    capsys.readouterr()

    assert main(["export", str(clip), "--format", "json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert [turn["question"] for turn in exported["turns"]] == ["What happens here?", "And then?"]
    assert exported["turns"][1]["follow_up"] is True and len(exported["turns"][0]["times"]) == FRAMES
    assert exported["interrupted"] is None


def test_two_asks_in_parallel_each_adding_ten_turns_to_one_video_keep_all_twenty(hf, tmp_path):
    from videochat.sessions.store import SessionStore
    from tests.support.clips import write_clip

    clip = write_clip(tmp_path / "shared.mp4", frames=20, width=64, height=64)
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "OMP_NUM_THREADS": "1"}

    def ask_ten(name: str):
        follow_ups = [part for number in range(1, 10) for part in ("--follow-up", f"{name} {number}?")]
        argv = ["ask", str(clip), f"{name} 0?", *follow_ups, "--model", str(hf.folders["llava-onevision"]), "--frames", "4", "--max-new-tokens", "2", "--json"]
        return subprocess.Popen([sys.executable, "-m", "videochat.cli", *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)

    processes = [ask_ten("one"), ask_ten("two")]
    for process in processes:
        _out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    os.environ["XDG_DATA_HOME"], saved_home = env["XDG_DATA_HOME"], os.environ["XDG_DATA_HOME"]
    try:
        session = SessionStore().read(clip)
    finally:
        os.environ["XDG_DATA_HOME"] = saved_home
    assert sorted(turn.question for turn in session.turns) == sorted(f"{name} {number}?" for name in ("one", "two") for number in range(10))


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_ask_and_export_refuse_a_session_file_that_is_a_fifo_or_a_link_to_dev_zero(hf, tmp_path, capsys, monkeypatch, kind):
    from videochat.sessions.store import SessionStore
    from tests.support.clips import write_clip

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    clip = write_clip(tmp_path / "clip.mp4", frames=20, width=64, height=64)
    path = SessionStore().path_for(clip)
    path.parent.mkdir(parents=True)
    os.mkfifo(path) if kind == "fifo" else path.symlink_to("/dev/zero")

    assert main(["export", str(clip), "--format", "markdown"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ("not a regular file" if kind == "fifo" else "is a link") in err

    assert ask(hf, "llava-onevision", clip) == 0
    err = capsys.readouterr().err
    assert "damaged" in err and "kept at" in err
    assert [turn.question for turn in SessionStore().read(clip).turns] == ["What happens here?"]


def test_a_video_removed_while_the_model_loads_is_one_line_not_a_traceback(hf, tmp_path, capsys, monkeypatch):
    import videochat.cli.commands
    from tests.support.clips import write_clip

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    clip = write_clip(tmp_path / "going.mp4", frames=20, width=64, height=64)
    load = videochat.cli.commands.load_backend

    def load_and_remove(*args):
        backend = load(*args)
        clip.unlink()
        return backend

    monkeypatch.setattr(videochat.cli.commands, "load_backend", load_and_remove)
    assert ask(hf, "llava-onevision", clip) == 1
    err = capsys.readouterr().err
    assert "going.mp4 is no longer there" in err and "Traceback" not in err
