"""Session files: what is saved comes back, a bad file is kept aside, never written over; two
writers of one session merge under its lock; schema-1 files read forward (schema 3: tests/sessions/test_regenerated_turns.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from videochat.chat import Answer
from videochat.errors import UnreadableVideo
from videochat.sessions.recorder import SessionRecorder
from videochat.sessions.session import SCHEMA_VERSION, Mark, Session, VideoIdentity
from videochat.sessions.store import SessionStore, SessionUnreadable

V1_FIXTURE = Path(__file__).parent / "fixtures" / "session_v1.json"  # as the schema-1 app wrote it


def answer(question="What happens?", times=(0.0, 0.5, 1.0), segment=None, text="A dog runs.", asked_at=1_700_000_000.5) -> Answer:
    return Answer(
        question=question, text=text, stopped=False, indices=[int(t * 25) for t in times], times=list(times),
        model="Tiny", revision="abc123", family="native", frames=len(times), segment=segment,
        settings={"max_new_tokens": 8, "temperature": 0.0}, device="cpu", precision="float32", asked_at=asked_at, follow_up=False,
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


def test_two_videos_with_the_same_name_in_different_folders_have_their_own_files(store, tmp_path):
    assert store.path_for(tmp_path / "a" / "clip.mp4") != store.path_for(tmp_path / "b" / "clip.mp4")
    assert store.path_for(tmp_path / "a" / "clip.mp4").name.startswith("clip-")


def test_a_session_with_a_bad_turn_is_refused_not_half_read():
    data = Session(VideoIdentity("/x.mp4", 1)).to_dict()
    data["turns"] = [{"question": "q", "answer": "a", "indices": [1, 2], "times": [0.1]}]
    with pytest.raises(ValueError):  # BadAppFile
        Session.from_dict(data)


# -- two writers ------------------------------------------------------------------------------


def recorder(store, video) -> SessionRecorder:
    return SessionRecorder(store, store.open(video))


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
    from tests.sessions.test_sessions import answer
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


# -- files that are not sessions ----------------------------------------------------------------


def test_a_non_utf8_or_deeply_nested_session_file_is_set_aside_and_the_next_save_works(store, video):
    path = store.path_for(video.path)
    path.parent.mkdir(parents=True)
    for bad in (b'{"schema_version": 1, "turns": ["\xff\xfe"]}', b'{"schema_version": 1, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"):
        path.write_bytes(bad)
        with pytest.raises(SessionUnreadable):
            store.read(video.path)
        opened = store.open(video)
        assert opened.writable and "damaged" in opened.message and not path.exists()
        [kept] = [p for p in store.folder.glob("*.damaged-*.json") if p.read_bytes() == bad]
        assert str(kept) in opened.message
        SessionRecorder(store, opened).add_answer(answer())
        assert len(store.read(video.path).turns) == 1


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_session_file_that_is_a_fifo_or_a_link_to_dev_zero_is_refused_without_hanging(store, video, kind):
    path = store.path_for(video.path)
    path.parent.mkdir(parents=True)
    os.mkfifo(path) if kind == "fifo" else path.symlink_to("/dev/zero")
    with pytest.raises(SessionUnreadable, match="not a regular file" if kind == "fifo" else "is a link"):
        store.read(video.path)  # what `videochat export` reads
    opened = store.open(video)  # what `videochat ask` and the window open
    assert opened.writable and "damaged" in opened.message and not os.path.lexists(path)
    SessionRecorder(store, opened).add_answer(answer())
    assert len(store.read(video.path).turns) == 1


def test_session_fields_of_the_wrong_type_fall_back_or_set_the_file_aside(store, video):
    good = recorder(store, video)
    good.change(lambda session: session.set_in_out(Mark(1, 0.04), Mark(2, 0.08)))
    good.question_asked("Pending?")
    good.add_answer(answer())
    good.change(lambda session: session.add_note(0.0, 1.0, "a note"))
    good.question_asked("Pending?")
    path = store.path_for(video.path)
    saved = json.loads(path.read_text(encoding="utf-8"))

    def damaged_by(change) -> Session | None:
        data = json.loads(json.dumps(saved))
        change(data)
        path.write_text(json.dumps(data), encoding="utf-8")
        opened = store.open(video)
        return None if opened.message else opened.session

    # Provenance, times and marks fall back: the conversation still shows and exports.
    session = damaged_by(lambda d: d["turns"][0].update(model=7, revision=[1], settings="x", asked_at="now", stopped="no", segment=[1], device=None, id=5))
    turn = session.turns[0]
    assert (turn.model, turn.revision, turn.settings, turn.asked_at, turn.stopped, turn.segment, turn.device) == ("", None, {}, 0.0, False, None, "")
    assert turn.id and turn.text == "A dog runs."
    session = damaged_by(lambda d: d.update(interrupted={"question": 42}, in_out={"in": {"frame": "1", "time": 0.04}, "out": 3}, created_at="x"))
    assert session.interrupted is None and session.in_out() == (None, None) and session.created_at > 0
    session = damaged_by(lambda d: d["notes"][0].update(id=3, edited_at="x", answer_id=4))
    assert session.notes[0].id and session.notes[0].edited_at is None and session.notes[0].answer_id is None

    # What the user asked, read or wrote, and what says whose session it is: the file is set aside.
    for change in (
        lambda d: d["turns"][0].update(question=12),
        lambda d: d["turns"][0].update(answer=None),
        lambda d: d["turns"][0].update(times=["0.1", 0.2, 0.3]),
        lambda d: d["notes"][0].update(text=5),
        lambda d: d["notes"][0].update(start="0"),
        lambda d: d.update(turns={}),
        lambda d: d["video"].update(size="100"),
        lambda d: d.update(schema_version=True),
    ):
        assert damaged_by(change) is None
        [kept] = store.folder.glob("*.damaged-*.json")
        kept.unlink()
        path.write_text(json.dumps(saved), encoding="utf-8")


def test_every_export_format_renders_a_session_whose_provenance_had_the_wrong_types(store, video):
    from videochat.sessions.export import FORMATS, render

    recorder(store, video).add_answer(answer())
    path = store.path_for(video.path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["turns"][0].update(model=7, frames="8", asked_at=None, answered_at="later", revision=3)
    path.write_text(json.dumps(data), encoding="utf-8")
    session = store.read(video.path)
    for name in FORMATS:
        assert "A dog runs." in render(session, name)


def test_a_video_removed_since_it_was_opened_is_a_typed_error_not_a_traceback(tmp_path):
    info = SimpleNamespace(path=tmp_path / "gone.mp4", duration=1.0, fps=25.0, frame_count=25)
    with pytest.raises(UnreadableVideo, match="gone.mp4 is no longer there"):
        VideoIdentity.of(info)
