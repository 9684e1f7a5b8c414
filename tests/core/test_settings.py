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
