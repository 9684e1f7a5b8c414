"""`videochat ask --continue`: the video's saved conversation goes on, on its frames, and the new turns join it;
a new conversation starts, with the reason on stderr, where it cannot."""

from __future__ import annotations

import json

import pytest

from tests.support.clips import write_clip
from tests.support.tiny_native import build_llava_onevision
from videochat.cli.commands import main
from videochat.sessions.store import SessionStore

QUESTIONS = ["What happens here?", "And then?", "Who is there?"]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return build_llava_onevision(tmp_path_factory.mktemp("llava") / "llava-onevision-tiny", layers=2)


@pytest.fixture
def clip(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return write_clip(tmp_path / "clip.mp4", frames=30, width=64, height=48)


def ask(model, clip, question, *extra) -> int:
    return main(["ask", str(clip), question, "--model", str(model), "--max-new-tokens", "8", "--json", *extra])


def answers(capsys) -> tuple[list[dict], str]:
    captured = capsys.readouterr()
    return [json.loads(line) for line in captured.out.splitlines()], captured.err


def saved_file(clip):
    path = SessionStore().path_for(clip)
    return path, json.loads(path.read_text())


def test_continue_answers_as_the_uninterrupted_conversation_on_the_saved_frames_and_appends_the_turn(model, clip, capsys):
    assert ask(model, clip, QUESTIONS[0], "--follow-up", QUESTIONS[1], "--frames", "4", "--start", "0.1") == 0
    first, _ = answers(capsys)
    assert ask(model, clip, QUESTIONS[0], "--follow-up", QUESTIONS[1], "--follow-up", QUESTIONS[2], "--frames", "4", "--start", "0.1", "--no-save") == 0
    uninterrupted, _ = answers(capsys)

    assert ask(model, clip, QUESTIONS[2], "--continue") == 0
    [continued], err = answers(capsys)
    assert "continuing the saved conversation (2 turns, 4 frames)" in err
    assert continued["answer"] == uninterrupted[2]["answer"] and continued["follow_up"] is True
    assert (continued["indices"], continued["times"]) == (first[0]["indices"], first[0]["times"])
    assert (continued["frames"], continued["segment"]) == (4, first[0]["segment"])
    assert set(continued) == set(first[0])  # --json gains no key
    turns = SessionStore().read(clip).turns
    assert [turn.question for turn in turns] == QUESTIONS and turns[-1].text == continued["answer"]


def test_another_writer_s_turn_added_meanwhile_is_kept_beside_the_continued_one(model, clip, capsys, monkeypatch):
    from videochat.chat import Answer, VideoChat
    from videochat.sessions.recorder import SessionRecorder
    from videochat.video.info import probe

    assert ask(model, clip, QUESTIONS[0]) == 0
    [first], _ = answers(capsys)
    window = SessionRecorder.open(probe(clip))  # the window has the video open too
    original_ask = VideoChat.ask

    def ask_while_the_window_answers(self, *args, **kwargs):
        window.add_answer(Answer.from_dict({**first, "question": "Asked in the window?", "id": "window-turn", "asked_at": first["asked_at"] + 1}))
        yield from original_ask(self, *args, **kwargs)

    monkeypatch.setattr(VideoChat, "ask", ask_while_the_window_answers)
    assert ask(model, clip, QUESTIONS[1], "--continue") == 0
    window.add_answer(Answer.from_dict({**first, "question": "Asked in the window later?", "id": "window-later", "asked_at": first["asked_at"] + 2}))
    questions = [turn.question for turn in SessionStore().read(clip).turns]
    assert sorted(questions) == sorted([QUESTIONS[0], "Asked in the window?", QUESTIONS[1], "Asked in the window later?"])


def test_another_frame_count_or_segment_says_a_new_conversation_starts(model, clip, capsys):
    assert ask(model, clip, QUESTIONS[0], "--frames", "8") == 0
    capsys.readouterr()
    assert ask(model, clip, QUESTIONS[1], "--continue", "--frames", "4") == 0
    [answer], err = answers(capsys)
    assert "A new conversation starts: the saved conversation was about 8 frames, and this question asks for 4." in err
    assert answer["follow_up"] is False and len(answer["indices"]) == 4
    assert ask(model, clip, QUESTIONS[2], "--continue", "--start", "0.5") == 0  # the saved 4 frames, on another segment
    [answer], err = answers(capsys)
    assert "A new conversation starts: the saved conversation was about the whole clip, and this question is about 0:00:00.500–" in err
    assert answer["follow_up"] is False


def test_a_video_whose_frames_moved_since_it_was_saved_starts_afresh_with_the_reason(model, clip, capsys):
    assert ask(model, clip, QUESTIONS[0], "--frames", "4") == 0
    capsys.readouterr()
    path, data = saved_file(clip)
    data["turns"][0]["times"] = [time + 0.25 for time in data["turns"][0]["times"]]  # as if another clip of the same size replaced it
    path.write_text(json.dumps(data))
    assert ask(model, clip, QUESTIONS[1], "--continue") == 0
    [answer], err = answers(capsys)
    frame = data["turns"][0]["indices"][0]
    assert f"A new conversation starts: the video changed since it was saved: frame {frame} was at " in err
    assert answer["follow_up"] is False and "Traceback" not in err


@pytest.mark.parametrize(
    "indices, said",
    [
        ([0, 5, 10, 3000], "its saved frames are not frames of this video in order (it has 30 frames)"),
        ([-4, 0, 1, 2], "its saved frames are not frames of this video in order"),
        (list(range(100_000)), "its 100000 saved frames are not a count this model takes"),
        ([0, "1", 2, 3], "is damaged and could not be read"),
    ],
)
def test_hostile_saved_frames_start_afresh_safely(model, clip, capsys, indices, said):
    assert ask(model, clip, QUESTIONS[0], "--frames", "4") == 0
    capsys.readouterr()
    path, data = saved_file(clip)
    data["turns"][0]["indices"] = indices
    data["turns"][0]["times"] = [0.0] * len(indices)
    path.write_text(json.dumps(data))
    assert ask(model, clip, QUESTIONS[1], "--continue") == 0
    [answer], err = answers(capsys)
    assert said in err and "Traceback" not in err and answer["follow_up"] is False


def test_continue_with_an_engine_is_a_usage_error(clip, capsys):
    assert main(["ask", str(clip), "Q?", "--model", "m", "--engine", "http://127.0.0.1:9", "--continue"]) == 2
    assert "--continue goes on with a model loaded here" in capsys.readouterr().err
