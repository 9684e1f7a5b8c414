"""Session files: what is saved comes back, a bad file is kept aside, never written over."""

from __future__ import annotations

import json
import os

import pytest

from videochat.chat import Answer
from videochat.sessions import SCHEMA_VERSION, Session, SessionStore, SessionUnreadable, VideoIdentity, write_atomically


def answer(question="What happens?", times=(0.0, 0.5, 1.0), segment=None, text="A dog runs.") -> Answer:
    return Answer(
        question=question, text=text, stopped=False, indices=[int(t * 25) for t in times], times=list(times),
        model="Tiny", revision="abc123", family="native", frames=len(times), segment=segment,
        settings={"max_new_tokens": 8, "temperature": 0.0}, device="cpu", precision="float32", asked_at=1_700_000_000.5, follow_up=False,
    )  # fmt: skip


@pytest.fixture
def video(tmp_path) -> VideoIdentity:
    path = tmp_path / "clip é.mp4"
    path.write_bytes(b"\0" * 100)
    return VideoIdentity(str(path), 100, duration=4.0, fps=25.0, frame_count=100)


@pytest.fixture
def store(tmp_path) -> SessionStore:
    return SessionStore(tmp_path / "sessions")


def test_a_saved_session_comes_back_whole(store, video):
    session = store.open(video).session
    session.add_answer(answer())
    session.add_answer(answer("Where?", segment=(1.0, 2.5), text="In a park."))
    session.note_from_answer(1)
    session.question_asked("And then?")
    store.save(session)

    opened = store.open(video)
    assert opened.message is None and opened.writable
    assert opened.session.turns == session.turns and opened.session.notes == session.notes
    assert opened.session.turns[1].segment == (1.0, 2.5)
    assert opened.session.interrupted["question"] == "And then?"
    assert store.read(video.path).turns == session.turns


def test_a_note_spans_the_segment_or_the_frames_seen_to_the_end_of_the_last_one(store, video):
    session = store.open(video).session
    session.add_answer(answer(times=(0.2, 1.0, 3.96)))
    session.add_answer(answer(segment=(1.0, 2.0)))
    frames = session.note_from_answer(0)
    segment = session.note_from_answer(1)
    assert (frames.start, frames.end) == (0.2, 4.0)  # 3.96 + 1/25, within the clip
    assert (segment.start, segment.end) == (1.0, 2.0)
    edited = session.edit_note(frames.id, start=3.0, end=2.0, text="edited")
    assert (edited.start, edited.end, edited.text) == (2.0, 3.0, "edited") and edited.edited_at


def test_a_damaged_file_is_kept_aside_and_a_new_session_starts(store, video):
    path = store.path_for(video.path)
    path.parent.mkdir(parents=True)
    path.write_text('{"schema_version": 1, "turns": [', encoding="utf-8")
    opened = store.open(video)
    [kept] = path.parent.glob("*.damaged-*.json")
    assert opened.writable and opened.session.turns == [] and str(kept) in opened.message
    assert kept.read_text(encoding="utf-8") == '{"schema_version": 1, "turns": ['
    store.save(opened.session)
    assert kept.read_text(encoding="utf-8") == '{"schema_version": 1, "turns": ['
    with pytest.raises(SessionUnreadable):
        path.write_text("[]", encoding="utf-8")
        store.read(video.path)


def test_a_file_replaced_by_another_video_keeps_the_old_conversation_aside(store, video):
    session = store.open(video).session
    session.add_answer(answer())
    store.save(session)
    other = VideoIdentity(video.path, 999, 10.0, 30.0, 300)
    opened = store.open(other)
    assert opened.session.turns == [] and "changed" in opened.message
    [kept] = store.folder.glob("*.earlier-*.json")
    assert len(json.loads(kept.read_text(encoding="utf-8"))["turns"]) == 1


def test_a_file_from_a_newer_app_is_left_alone(store, video):
    path = store.path_for(video.path)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"schema_version": SCHEMA_VERSION + 1, "whatever": 1}), encoding="utf-8")
    opened = store.open(video)
    assert not opened.writable and "newer" in opened.message
    assert json.loads(path.read_text(encoding="utf-8"))["whatever"] == 1


def test_a_failed_write_leaves_the_previous_file_and_no_partial_one(tmp_path, monkeypatch):
    path = tmp_path / "s.json"
    write_atomically(path, "old")

    def refuse(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        write_atomically(path, "new")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["s.json"]


def test_two_videos_with_the_same_name_in_different_folders_have_their_own_files(store, tmp_path):
    assert store.path_for(tmp_path / "a" / "clip.mp4") != store.path_for(tmp_path / "b" / "clip.mp4")
    assert store.path_for(tmp_path / "a" / "clip.mp4").name.startswith("clip-")


def test_a_session_with_a_bad_turn_is_refused_not_half_read():
    data = Session(VideoIdentity("/x.mp4", 1)).to_dict()
    data["turns"] = [{"question": "q", "answer": "a", "indices": [1, 2], "times": [0.1]}]
    with pytest.raises((ValueError, KeyError, TypeError)):
        Session.from_dict(data)
