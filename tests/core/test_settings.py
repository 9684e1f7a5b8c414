"""Settings survive a round trip, keep recent files in order, and a damaged file is kept aside."""

from __future__ import annotations

import json

import pytest

from tests.support.fifos import watched_fifo
from videochat.settings import MAX_RECENT_FILES, MAX_SETTINGS_BYTES, Settings


def set_aside_files(folder):
    """What `videochat.app_files.set_aside` made of settings.json: settings.damaged-<when>.json."""
    return sorted(folder.glob("settings.damaged-*.json"))


def test_settings_round_trip(tmp_path):
    path = tmp_path / "settings.json"
    settings = Settings(last_model="InternVL2-1B", frames=16, temperature=0.5)
    settings.remember_file(tmp_path / "a.mp4")
    settings.save(path)
    assert Settings.load(path) == settings


def test_recent_files_are_newest_first_without_repeats_and_bounded(tmp_path):
    settings = Settings()
    for number in range(MAX_RECENT_FILES + 3):
        settings.remember_file(tmp_path / f"{number}.mp4")
    settings.remember_file(tmp_path / "5.mp4")
    assert settings.recent_files[0].endswith("5.mp4") and len(settings.recent_files) == MAX_RECENT_FILES
    assert len(set(settings.recent_files)) == MAX_RECENT_FILES


def test_a_damaged_file_is_kept_aside_and_defaults_are_used(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("{ not json", encoding="utf-8")
    assert Settings.load(path) == Settings()
    [aside] = set_aside_files(tmp_path)
    assert aside.read_text(encoding="utf-8") == "{ not json" and not path.exists()


def test_a_value_of_the_wrong_kind_falls_back_to_its_default_alone(tmp_path):
    path = tmp_path / "settings.json"
    text = '{"max_new_tokens": "lots", "temperature": 0.3, "volume": true, "recent_files": ["/a.mp4", 3], "frames": 16, "unknown": 1}'
    path.write_text(text, encoding="utf-8")
    assert Settings.load(path) == Settings(temperature=0.3, frames=16, recent_files=["/a.mp4"])
    assert path.read_text(encoding="utf-8") == text  # nothing was lost to a rename


def test_numbers_the_controls_cannot_take_fall_back_too(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text('{"max_new_tokens": 99999999999, "volume": NaN, "temperature": Infinity, "frames": 12}', encoding="utf-8")
    assert Settings.load(path) == Settings(frames=12)


def test_a_file_that_is_not_an_object_is_kept_aside(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("[1, 2]", encoding="utf-8")
    assert Settings.load(path) == Settings()
    assert len(set_aside_files(tmp_path)) == 1


def test_every_setting_is_checked_on_load_and_the_generation_defaults_are_the_backends():
    from videochat.generation import GenerationSettings
    from videochat.settings import _KINDS

    assert set(_KINDS) == set(Settings.__annotations__) == set(Settings().as_dict())
    defaults = GenerationSettings()
    assert (Settings().max_new_tokens, Settings().temperature) == (defaults.max_new_tokens, defaults.temperature)


@pytest.mark.parametrize(
    "content",
    [
        b"[" * 100_000 + b"]" * 100_000,  # json.loads raises RecursionError, which nothing caught: no start at all
        b'{"recent_files": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"last_model": "Intern\xffVL"}',  # not UTF-8
        b"\x00" * 100,
    ],
    ids=["deep list", "deep value", "not UTF-8", "binary"],
)
def test_a_file_that_cannot_be_read_as_settings_is_set_aside_and_defaults_are_used(tmp_path, content):
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    assert Settings.load(path) == Settings()
    [aside] = set_aside_files(tmp_path)
    assert aside.read_bytes() == content and not path.exists()


def test_a_second_damaged_file_is_set_aside_beside_the_first_not_over_it(tmp_path):
    path = tmp_path / "settings.json"
    for text in ("{ one", "{ two"):
        path.write_text(text, encoding="utf-8")
        Settings.load(path)
    assert sorted(aside.read_text(encoding="utf-8") for aside in set_aside_files(tmp_path)) == ["{ one", "{ two"]


def test_recent_files_keep_the_first_valid_entries_up_to_the_limit(tmp_path):
    path = tmp_path / "settings.json"
    entries = [None, "", "/bad\u0000name.mp4", "/" + "x" * 10_000, "/a.mp4", "/a.mp4", *(f"/{n}.mp4" for n in range(5000))]
    path.write_text(json.dumps({"recent_files": entries, "volume": 0.5}), encoding="utf-8")
    settings = Settings.load(path)
    assert settings.recent_files == ["/a.mp4", *(f"/{n}.mp4" for n in range(MAX_RECENT_FILES - 1))]
    assert settings.volume == 0.5


def test_a_settings_file_of_300k_recent_files_is_too_large_and_set_aside(tmp_path):
    """The window would build a menu entry for each before its first paint."""
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"recent_files": [f"/videos/{n}.mp4" for n in range(300_000)]}), encoding="utf-8")
    assert path.stat().st_size > MAX_SETTINGS_BYTES
    assert Settings.load(path) == Settings()
    assert len(set_aside_files(tmp_path)) == 1


def test_a_fifo_in_place_of_the_settings_file_is_never_opened_for_reading(tmp_path):
    """Opening it would block the app's start until something writes to it."""
    with watched_fifo(tmp_path / "settings.json") as fifo:
        assert Settings.load(fifo.path) == Settings()
    assert not fifo.opened


def test_frame_counts_and_token_limits_below_one_fall_back_to_their_defaults(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text('{"frames": 0, "max_new_tokens": -1, "volume": 7, "temperature": -0.5}', encoding="utf-8")
    assert Settings.load(path) == Settings()


def test_saving_replaces_the_file_whole_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("{}", encoding="utf-8")
    Settings(volume=0.25).save(path)
    assert json.loads(path.read_text(encoding="utf-8"))["volume"] == 0.25
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.json"]


def test_the_notes_panel_height_is_kept_and_a_height_that_cannot_be_shown_falls_back_to_the_default(tmp_path):
    path = tmp_path / "settings.json"
    Settings(notes_height=320).save(path)
    assert Settings.load(path).notes_height == 320
    for bad in ("0", "-5", "39", "100000", "1.5e2", "true", '"tall"', "null", "[200]"):
        path.write_text(f'{{"notes_height": {bad}, "volume": 0.5}}', encoding="utf-8")
        loaded = Settings.load(path)
        assert (loaded.notes_height, loaded.volume) == (Settings.notes_height, 0.5), bad
