"""Session files: what is saved comes back; two writers of one session merge under its lock;
schema-1 files read forward (schema 3: tests/sessions/test_regenerated_turns.py; files that are
not sessions: tests/sessions/test_session_files.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.sessions import answer, recorder
from videochat.sessions.recorder import SessionRecorder
from videochat.sessions.session import SCHEMA_VERSION, Mark, VideoIdentity

V1_FIXTURE = Path(__file__).parent / "fixtures" / "session_v1.json"  # as the schema-1 app wrote it


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


def test_two_videos_with_the_same_name_in_different_folders_have_their_own_files(store, tmp_path):
    assert store.path_for(tmp_path / "a" / "clip.mp4") != store.path_for(tmp_path / "b" / "clip.mp4")
    assert store.path_for(tmp_path / "a" / "clip.mp4").name.startswith("clip-")


# -- two writers ------------------------------------------------------------------------------


def test_two_recorders_of_one_video_keep_each_other_s_turns_notes_and_edits(store, video):
    window, cli = recorder(store, video), recorder(store, video)  # both read the file before either wrote
    window.question_asked("First?")
    cli.question_asked("From the terminal?")
    window.add_answer(answer("First?", asked_at=1.0))
    cli.add_answer(answer("From the terminal?", asked_at=2.0))
    note = window.change(lambda session: session.note_from_answer(0))
    window.add_answer(answer("Second?", asked_at=3.0))
    cli.change(lambda session: session.add_note(0.0, 1.0, "from the cli"))
    window.change(lambda session: session.edit_note(note.id, text="edited"))

    on_disk = store.read(video.path)
    assert [turn.question for turn in on_disk.turns] == ["First?", "From the terminal?", "Second?"]
    assert sorted(n.text for n in on_disk.notes) == ["edited", "from the cli"]
    assert on_disk.interrupted is None
    assert next(n for n in on_disk.notes if n.text == "edited").answer_id == on_disk.turns[0].id

    window.change(lambda session: session.remove_note(note.id))
    assert [n.text for n in store.read(video.path).notes] == ["from the cli"]


def test_one_writer_answering_does_not_clear_the_question_another_is_still_asking(store, video):
    window, cli = recorder(store, video), recorder(store, video)
    window.question_asked("Window asks")
    cli.question_asked("Terminal asks")  # the terminal's question is the one on disk now
    window.add_answer(answer("Window asks"))
    assert store.read(video.path).interrupted["question"] == "Terminal asks"
    cli.forget_question()
    assert store.read(video.path).interrupted is None


def test_the_in_and_out_frames_are_kept_restored_and_merged(store, video):
    first, second = recorder(store, video), recorder(store, video)
    first.change(lambda session: session.set_in_out(Mark(25, 1.0), Mark(50, 2.0)))
    second.add_answer(answer())  # it never touched the marks: the first one's stay
    opened = store.open(video).session
    assert opened.in_out() == (Mark(25, 1.0), Mark(50, 2.0)) and len(opened.turns) == 1
    second.change(lambda session: session.set_in_out(Mark(10, 0.4), None))
    assert store.read(video.path).in_out() == (Mark(10, 0.4), None)
    with pytest.raises(ValueError):
        opened.set_in_out(Mark(50, 2.0), Mark(25, 1.0))


TEN_TURNS = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from types import SimpleNamespace
    from tests.support.sessions import answer
    from videochat.sessions.recorder import SessionRecorder
    from videochat.sessions.store import SessionStore
    folder, clip, name, go = sys.argv[1:5]
    recorder = SessionRecorder.open(SimpleNamespace(path=clip, duration=4.0, fps=25.0, frame_count=100), SessionStore(Path(folder)))
    while not Path(go).exists():  # both have read the session before either writes
        time.sleep(0.005)
    for number in range(10):
        recorder.question_asked(f"{name} {number}?")
        recorder.add_answer(answer(f"{name} {number}?", asked_at=time.time()))
    """
)


def test_two_processes_adding_ten_turns_each_to_one_session_keep_all_twenty(store, video, tmp_path):
    go = tmp_path / "go"
    processes = [
        subprocess.Popen([sys.executable, "-c", TEN_TURNS, str(store.folder), video.path, name, str(go)], stderr=subprocess.PIPE, text=True)
        for name in ("one", "two")
    ]
    go.touch()
    for process in processes:
        assert process.wait(timeout=120) == 0, process.stderr.read()
        process.stderr.close()
    questions = [turn.question for turn in store.read(video.path).turns]
    assert sorted(questions) == sorted(f"{name} {number}?" for name in ("one", "two") for number in range(10))
    assert store.read(video.path).interrupted is None


# -- schema 1 ---------------------------------------------------------------------------------


def v1_video(tmp_path) -> VideoIdentity:
    data = json.loads(V1_FIXTURE.read_text(encoding="utf-8"))["video"]
    return VideoIdentity(str(tmp_path / "parade day.mp4"), data["size"], data["duration"], data["fps"], data["frame_count"])


def test_a_version_1_file_reads_forward_whole_and_is_written_as_version_3_only_when_changed(store, tmp_path):
    video = v1_video(tmp_path)
    path = store.path_for(video.path)
    path.parent.mkdir(parents=True)
    shutil.copyfile(V1_FIXTURE, path)

    opened = store.open(video)
    session = opened.session
    assert opened.message is None and opened.writable and list(store.folder.glob("*.damaged-*")) == []
    assert [turn.question for turn in session.turns] == ["What happens in this clip?", "What colour are the uniforms?", "Who leads?"]
    assert session.turns[2].segment == (2.0, 4.0) and session.turns[1].follow_up and len(session.turns[0].times) == 8
    assert [(note.start, note.end, note.text) for note in session.notes] == [(2.0, 4.0, "A drum major with a baton."), (6.0, 7.5, "Crowd cheers")]
    assert session.notes[0].answer_id == session.turns[2].id and session.notes[1].answer_id is None
    assert session.interrupted["question"] == "How many musicians are there?"
    assert len({turn.id for turn in session.turns}) == 3
    assert [turn.id for turn in store.read(video.path).turns] == [turn.id for turn in session.turns]  # the same ids in every reader
    assert path.read_bytes() == V1_FIXTURE.read_bytes()  # opened and read, not changed: not rewritten

    SessionRecorder(store, opened).forget_question()
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["schema_version"] == SCHEMA_VERSION == 3
    assert [turn["question"] for turn in data["turns"]] == [turn.question for turn in session.turns]
    assert data["notes"][0]["answer_id"] == data["turns"][2]["id"] and data["interrupted"] is None


def test_two_writers_of_a_version_1_file_do_not_double_its_turns(store, tmp_path):
    video = v1_video(tmp_path)
    store.path_for(video.path).parent.mkdir(parents=True)
    shutil.copyfile(V1_FIXTURE, store.path_for(video.path))
    first, second = recorder(store, video), recorder(store, video)
    first.add_answer(answer("One?"))
    second.add_answer(answer("Two?"))
    assert len(store.read(video.path).turns) == 5 and len(store.read(video.path).notes) == 2
