"""Settings survive a round trip, keep recent files in order, and a damaged file is kept aside."""

from __future__ import annotations

from videochat.settings import MAX_RECENT_FILES, Settings


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
    assert (tmp_path / "settings.json.damaged").read_text(encoding="utf-8") == "{ not json"


def test_a_value_of_the_wrong_kind_falls_back_to_its_default_alone(tmp_path):
    path = tmp_path / "settings.json"
    text = '{"max_new_tokens": "lots", "temperature": 0.3, "volume": true, "recent_files": ["/a.mp4", 3], "frames": 16, "unknown": 1}'
    path.write_text(text, encoding="utf-8")
    assert Settings.load(path) == Settings(temperature=0.3, frames=16)
    assert path.read_text(encoding="utf-8") == text  # nothing was lost to a rename


def test_numbers_the_controls_cannot_take_fall_back_too(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text('{"max_new_tokens": 99999999999, "volume": NaN, "temperature": Infinity, "frames": 12}', encoding="utf-8")
    assert Settings.load(path) == Settings(frames=12)


def test_a_file_that_is_not_an_object_is_kept_aside(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("[1, 2]", encoding="utf-8")
    assert Settings.load(path) == Settings()
    assert (tmp_path / "settings.json.damaged").exists()


def test_every_setting_is_checked_on_load_and_the_generation_defaults_are_the_backends():
    from videochat.generation import GenerationSettings
    from videochat.settings import _KINDS

    assert set(_KINDS) == set(Settings.__annotations__) == set(Settings().as_dict())
    defaults = GenerationSettings()
    assert (Settings().max_new_tokens, Settings().temperature) == (defaults.max_new_tokens, defaults.temperature)
