"""Regenerated turns in session files (schema 3): the new answer replaces the shown one in its turn,
the others stay reachable, two writers keep each other's answers, older schemas read forward, and
hostile alternatives are left out without losing the session."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from tests.support.sessions import answer
from videochat.sessions.alternatives import MAX_ANSWERS
from videochat.sessions.recorder import SessionRecorder
from videochat.sessions.session import SCHEMA_VERSION, Session, VideoIdentity

FIXTURES = Path(__file__).parent / "fixtures"


def regenerated(base, text: str, asked_at: float):
    """Another answer to `base`'s question, as a regenerate makes it (a new id the session replaces)."""
    return dataclasses.replace(base, text=text, asked_at=asked_at, answered_at=asked_at + 1, id="fresh" + text[:6])


def session_with_a_regenerated_turn(video) -> Session:
    session = Session(video)
    session.add_answer(answer("What happens?", text="A dog runs.", asked_at=10.0))
    session.add_answer(answer("Where?", text="In a park.", asked_at=20.0))
    session.note_from_answer(1)
    session.regenerated(session.turns[1].id, regenerated(session.turns[1], "On a beach.", 30.0))
    return session


def test_a_regenerated_answer_replaces_the_shown_one_in_its_turn_and_the_old_one_stays_reachable(video):
    session = session_with_a_regenerated_turn(video)
    turn_id = session.notes[0].answer_id
    assert [turn.text for turn in session.turns] == ["A dog runs.", "On a beach."]  # not a new turn
    assert session.turns[1].id == turn_id and session.turns[1].question == "Where?"
    answers = session.answers_of(1)
    assert [a.text for a in answers.answers] == ["In a park.", "On a beach."] and answers.shown == 1
    assert session.show_alternative(1, 0).text == "In a park." and session.turns[1].id == turn_id
    assert session.show_alternative(1, 7).text == "On a beach."  # clamped
    assert session.answers_of(0).answers == (session.turns[0],)
    assert session.regenerated("no such turn", answer()) is None


def test_a_note_made_from_a_turn_still_names_it_after_the_turn_is_regenerated(video):
    session = session_with_a_regenerated_turn(video)
    note = session.notes[0]
    assert session.turn_index(note.answer_id) == 1
    session.show_alternative(1, 0)
    assert session.turn_index(note.answer_id) == 1


def test_schema_3_round_trips_with_the_shown_answer_and_its_alternatives(store, video):
    session = session_with_a_regenerated_turn(video)
    session.show_alternative(1, 0)
    store.save(session)
    data = json.loads(store.path_for(video.path).read_text(encoding="utf-8"))
    assert data["schema_version"] == SCHEMA_VERSION == 3
    second = data["turns"][1]
    assert second["answer"] == "In a park." and second["shown"] == 0
    assert [other["answer"] for other in second["alternatives"]] == ["On a beach."]
    assert "alternatives" not in data["turns"][0]
    back = store.open(video).session
    assert back.turns == session.turns and back.alternatives == session.alternatives and back.notes == session.notes


def test_two_writers_keep_every_answer_of_a_turn_and_the_one_shown_where_it_was_changed(store, video):
    first = SessionRecorder(store, store.open(video))
    first.add_answer(answer("Where?", text="In a park.", asked_at=10.0))
    second = SessionRecorder(store, store.open(video))
    turn_id = first.session.turns[0].id
    first.change(lambda s: s.regenerated(turn_id, regenerated(s.turns[0], "On a beach.", 20.0)))
    second.change(lambda s: s.regenerated(turn_id, regenerated(s.turns[0], "In a garden.", 30.0)))
    second.add_answer(answer("Then?", text="It sleeps.", asked_at=40.0))
    saved = store.read(video.path)
    assert [turn.text for turn in saved.turns] == ["In a garden.", "It sleeps."]  # the last writer's choice
    assert [a.text for a in saved.answers_of(0).answers] == ["In a park.", "On a beach.", "In a garden."]
    first.change(lambda s: s.forget_question())  # an unrelated change does not undo their choice
    assert store.read(video.path).turns[0].text == "In a garden."


@pytest.mark.parametrize("fixture, version", [("session_v1.json", 1), ("session_v2.json", 2)])
def test_version_1_and_2_files_read_forward_and_are_written_as_version_3_only_when_changed(store, tmp_path, fixture, version):
    source = FIXTURES / fixture
    data = json.loads(source.read_text(encoding="utf-8"))
    assert data["schema_version"] == version
    recorded = data["video"]
    video = VideoIdentity(str(tmp_path / "parade day.mp4"), recorded["size"], recorded["duration"], recorded["fps"], recorded["frame_count"])
    path = store.path_for(video.path)
    path.parent.mkdir(parents=True)
    shutil.copyfile(source, path)

    opened = store.open(video)
    assert opened.message is None and opened.writable and list(store.folder.glob("*.damaged-*")) == []
    session = opened.session
    assert [turn.question for turn in session.turns] == ["What happens in this clip?", "What colour are the uniforms?", "Who leads?"]
    assert session.alternatives == {} and session.notes[0].answer_id == session.turns[2].id
    assert path.read_bytes() == source.read_bytes()  # read, not changed: not rewritten

    recorder = SessionRecorder(store, opened)
    turn_id = session.turns[2].id
    recorder.change(lambda s: s.regenerated(turn_id, regenerated(s.turns[2], "A woman with a flag.", 1733400000.0)))
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written["schema_version"] == 3 and written["turns"][2]["answer"] == "A woman with a flag."
    assert [other["answer"] for other in written["turns"][2]["alternatives"]] == ["A drum major with a baton."]
    assert written["notes"][0]["answer_id"] == written["turns"][2]["id"] == turn_id


def hostile_file(store, video, change) -> Session:
    session = session_with_a_regenerated_turn(video)
    store.save(session)
    path = store.path_for(video.path)
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data["turns"][1])
    path.write_text(json.dumps(data), encoding="utf-8")
    opened = store.open(video)
    assert opened.message is None and list(store.folder.glob("*.damaged-*")) == []  # never set aside for its alternatives
    assert [turn.question for turn in opened.session.turns] == ["What happens?", "Where?"]
    return opened.session


@pytest.mark.parametrize(
    "change, texts, shown",
    [
        (lambda t: t.update(alternatives="many"), ["On a beach."], 0),
        (lambda t: t.update(alternatives={"0": t["alternatives"][0]}), ["On a beach."], 0),
        (lambda t: t.update(alternatives=[5, None, "x", [], {"question": "Where?"}]), ["On a beach."], 0),
        (lambda t: t["alternatives"][0].update(answer=7), ["On a beach."], 0),
        (lambda t: t["alternatives"][0].update(question="Something else?"), ["On a beach."], 0),
        (lambda t: t["alternatives"][0].update(answer="x" * 2_000_000), ["On a beach."], 0),
        (lambda t: t["alternatives"][0].update(model=3, settings="hot", id=9), ["In a park.", "On a beach."], 1),
        (lambda t: t.update(shown=99), ["In a park.", "On a beach."], 1),
        (lambda t: t.update(shown=-5), ["On a beach.", "In a park."], 0),
        (lambda t: t.update(shown="first"), ["In a park.", "On a beach."], 1),
        (lambda t: t.update(shown=True), ["In a park.", "On a beach."], 1),
        (lambda t: t.update(alternatives=[t["alternatives"][0]] * 5000), ["In a park.", "On a beach."] + ["In a park."] * (MAX_ANSWERS - 2), 1),
    ],
    ids=["not-a-list", "a-dict", "not-turns", "answer-not-text", "another-question", "huge-text", "bad-provenance",
         "shown-too-high", "shown-negative", "shown-not-a-number", "shown-a-bool", "thousands"],
)
def test_hostile_alternatives_are_left_out_or_clamped_and_the_session_is_kept(store, video, change, texts, shown):
    session = hostile_file(store, video, change)
    answers = session.answers_of(1)
    assert [a.text for a in answers.answers] == texts and answers.shown == shown
    assert session.turns[1].text == "On a beach." and {a.id for a in answers.answers} == {session.turns[1].id}
    assert session.turn_index(session.notes[0].answer_id) == 1
    SessionRecorder(store, store.open(video)).forget_question()  # what was read writes back and reads again
    assert store.read(video.path).answers_of(1) == answers


def test_regenerating_or_choosing_an_answer_keeps_the_question_still_unanswered(video):
    session = session_with_a_regenerated_turn(video)
    session.question_asked("Still being answered?")
    session.show_alternative(1, 0)
    session.regenerated(session.turns[0].id, regenerated(session.turns[0], "A cat runs.", 40.0))
    assert session.interrupted["question"] == "Still being answered?"
