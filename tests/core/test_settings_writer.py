"""The settings writer: saves return at once, are written on its own thread in order, the newest wins, flush waits for them."""

from __future__ import annotations

import threading

import videochat.settings
from videochat.settings import Settings, SettingsWriter


class HeldWrites:
    """Stands for the atomic write: records each write's thread and content, and holds writes while `gate` is closed."""

    def __init__(self, monkeypatch):
        self.real = videochat.settings.write_atomically
        self.gate = threading.Event()
        self.started = threading.Event()
        self.writes: list[tuple[str, str]] = []
        monkeypatch.setattr(videochat.settings, "write_atomically", self.write)

    def write(self, path, data, **kwargs):
        self.started.set()
        assert self.gate.wait(10)
        self.writes.append((threading.current_thread().name, data))
        self.real(path, data, **kwargs)


def test_a_save_returns_before_the_file_is_written_and_is_written_on_the_writer_s_thread(tmp_path, monkeypatch):
    held = HeldWrites(monkeypatch)
    writer = SettingsWriter()
    path = tmp_path / "settings.json"
    writer.save(Settings(last_model="InternVL2-1B"), path)
    assert held.started.wait(10) and not path.exists()  # the caller did not wait for the write
    assert not writer.flush(0.05)
    held.gate.set()
    assert writer.flush(10)
    assert Settings.load(path).last_model == "InternVL2-1B"
    assert [thread for thread, _data in held.writes] == ["videochat-settings"]


def test_the_newest_save_wins_and_saves_waiting_behind_a_write_are_written_once(tmp_path, monkeypatch):
    held = HeldWrites(monkeypatch)
    writer = SettingsWriter()
    path = tmp_path / "settings.json"
    settings = Settings(volume=0.1)
    writer.save(settings, path)
    assert held.started.wait(10)
    for volume in (0.2, 0.3, 0.4):
        settings.volume = volume
        writer.save(settings, path)
    settings.volume = 0.9  # changed after the save: the snapshot saved is what was saved
    held.gate.set()
    assert writer.flush(10)
    assert len(held.writes) == 2 and Settings.load(path).volume == 0.4


def test_a_failed_write_is_reported_and_the_next_save_is_written(tmp_path):
    failures = []
    writer = SettingsWriter(failures.append)
    (tmp_path / "a file").write_text("")
    writer.save(Settings(), tmp_path / "a file" / "settings.json")  # its folder is a file
    assert writer.flush(10) and len(failures) == 1 and isinstance(failures[0], OSError)
    writer.save(Settings(frames=8), tmp_path / "settings.json")
    assert writer.flush(10) and Settings.load(tmp_path / "settings.json").frames == 8


def test_start_starts_the_writer_s_thread_once_and_a_save_after_it_starts_none(tmp_path, monkeypatch):
    started = []
    real_start = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda thread: (started.append((thread.name, threading.current_thread().name)), real_start(thread))[1])
    writer = SettingsWriter()
    starter = threading.Thread(target=writer.start, name="starter")  # as the window does: from a thread that may wait
    real_start(starter)
    starter.join(10)
    writer.start()
    writer.save(Settings(frames=12), tmp_path / "settings.json")
    assert writer.flush(10) and Settings.load(tmp_path / "settings.json").frames == 12
    assert started == [("videochat-settings", "starter")]
