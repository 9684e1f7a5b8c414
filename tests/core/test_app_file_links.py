"""Which readers follow a link, caller by caller (`app_files.read_regular_file`'s `follow_links`).

The app's own files (settings, sessions, the consent file, the download record, a runtime's
marker; the engine keys in tests/engines) are never read through a link planted in their place:
the link is refused as a damaged file is, and the file it points to is neither read nor changed.
A model folder's files are read through links (the Hugging Face cache's snapshots link to its
blobs), and so is a results file the user named.
"""

from __future__ import annotations

import json

import pytest

from videochat.app_files import read_json

PLANTED = {"last_model": "planted/model", "allowed": {"f" * 64: {"model": "planted"}}, "repos": {}, "schema_version": 3}


@pytest.fixture
def homes(tmp_path, monkeypatch):
    for name in ("CONFIG", "DATA", "CACHE", "STATE"):
        monkeypatch.setenv(f"XDG_{name}_HOME", str(tmp_path / name.lower()))
    return tmp_path


@pytest.fixture
def outside(tmp_path):
    """A file elsewhere that a planted link points to: it must come out of the read untouched and unused."""
    target = tmp_path / "elsewhere" / "target.json"
    target.parent.mkdir()
    target.write_text(json.dumps(PLANTED))
    return target


def plant(link, target):
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    return link


def test_settings_behind_a_planted_link_are_not_read_and_the_linked_file_is_left_alone(homes, outside):
    from videochat.settings import Settings, default_path

    link = plant(default_path(), outside)
    assert Settings.load(link).last_model is None
    assert json.loads(outside.read_text()) == PLANTED


def test_the_consent_file_behind_a_planted_link_grants_nothing(homes, outside):
    from videochat.backends.consent import allowed_digests, consent_path

    plant(consent_path(), outside)
    assert allowed_digests() == {}


def test_a_session_file_behind_a_planted_link_is_unreadable_and_says_what_to_do(homes, outside, tmp_path):
    from videochat.sessions.store import SessionStore, SessionUnreadable

    store = SessionStore(tmp_path / "sessions")
    video = tmp_path / "clip.mp4"
    plant(store.path_for(video), outside)
    with pytest.raises(SessionUnreadable, match="is a link .*delete the link"):
        store.read(video)


def test_a_download_record_behind_a_planted_link_is_set_aside_and_the_linked_file_kept(homes, outside):
    from videochat.models.record import read_record, record_path

    plant(record_path(), outside)
    assert read_record() == {"repos": {}}
    assert json.loads(outside.read_text()) == PLANTED and not record_path().is_symlink()


def test_a_runtime_whose_marker_is_a_planted_link_is_not_taken_as_installed(homes, outside):
    from videochat.runtimes import MANAGED, MARKER, MARKER_FORMAT, problem, runtime_folder

    name = next(iter(MANAGED))
    folder = runtime_folder(name)
    folder.mkdir(parents=True, mode=0o755)
    outside.write_text(json.dumps({"name": name, "format": MARKER_FORMAT, "complete": True}))  # a marker as the app writes it
    plant(folder / MARKER, outside)
    assert problem(name) == "its install did not finish (no readable marker)"


def test_a_model_folders_json_is_read_through_the_caches_links_to_its_blobs(tmp_path):
    from videochat.models.model_json import read_model_json

    blob = tmp_path / "blobs" / "0123abcd"
    blob.parent.mkdir()
    blob.write_text('{"model_type": "llava_onevision"}')
    snapshot = tmp_path / "snapshots" / "main"
    plant(snapshot / "config.json", "../../blobs/0123abcd")
    assert read_model_json(snapshot, "config.json") == {"model_type": "llava_onevision"}


def test_a_results_file_the_user_named_through_a_link_is_read(tmp_path):
    from videochat.batch.results import read_result_lines

    real = tmp_path / "runs" / "results.jsonl"
    real.parent.mkdir()
    real.write_text(json.dumps({"clip": "a.mp4", "status": "error", "error": "x"}) + "\n")
    lines, left_out = read_result_lines(plant(tmp_path / "results.jsonl", real))
    assert [line["clip"] for line in lines] == ["a.mp4"] and left_out == 0


def test_every_reader_of_the_apps_own_files_refuses_links_by_default(tmp_path, outside):
    from videochat.app_files import BadAppFile

    with pytest.raises(BadAppFile):
        read_json(plant(tmp_path / "own.json", outside))
