"""Session files that are not what they should be: damaged, another video's, a newer app's, not a
regular file, fields of the wrong type, too big to write. Each is kept aside or left alone, never
written over, and the conversation goes on."""

from __future__ import annotations

import errno
import json
import os
from types import SimpleNamespace

import pytest

from tests.support.sessions import answer, recorder
from videochat.errors import UnreadableVideo
from videochat.sessions.recorder import SessionRecorder
from videochat.sessions.session import SCHEMA_VERSION, Mark, Session, VideoIdentity
from videochat.sessions.store import SessionUnreadable


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


def test_a_session_with_a_bad_turn_is_refused_not_half_read():
    data = Session(VideoIdentity("/x.mp4", 1)).to_dict()
    data["turns"] = [{"question": "q", "answer": "a", "indices": [1, 2], "times": [0.1]}]
    with pytest.raises(ValueError):  # BadAppFile
        Session.from_dict(data)


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


def test_a_session_grown_past_the_readers_cap_is_not_written_and_the_file_on_disk_stays(store, video, monkeypatch):
    from videochat.sessions import store as store_module

    window = recorder(store, video)
    window.add_answer(answer("Small?"))
    path = store.path_for(video.path)
    before = path.read_bytes()
    monkeypatch.setattr(store_module, "MAX_SESSION_BYTES", len(before) + 100)  # a file this big still reads
    failures = []
    window = SessionRecorder(store, store.open(video), on_failure=failures.append)
    window.add_answer(answer("Big?", text="words " * 100))
    [failure] = failures
    assert failure.errno == errno.EFBIG and "grown past" in failure.strerror
    assert path.read_bytes() == before and [t.question for t in store.read(video.path).turns] == ["Small?"]
    with pytest.raises(OSError, match="grown past"):
        store.save(window.session)
