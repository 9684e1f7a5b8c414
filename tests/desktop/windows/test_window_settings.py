"""The window's settings are written on the settings writer's thread, and quitting loses none of them."""

from __future__ import annotations

import threading
import time

import videochat.settings
from desktop.windows.main_window import MainWindow
from videochat.settings import Settings


def test_the_window_s_saves_are_written_off_the_gui_thread_and_all_are_on_disk_after_quit(qtbot, tmp_path, monkeypatch):
    real_write = videochat.settings.write_atomically
    on_gui_thread = []

    def slow_write(path, data, **kwargs):  # a slow disk: the GUI thread would have waited for this
        on_gui_thread.append(threading.current_thread() is threading.main_thread())
        time.sleep(0.3)
        real_write(path, data, **kwargs)

    monkeypatch.setattr(videochat.settings, "write_atomically", slow_write)
    path = tmp_path / "settings.json"
    window = MainWindow(Settings.load(path), settings_path=path)
    qtbot.addWidget(window)
    window.window_settings.settings.remember_file(tmp_path / "a.mp4")
    window.window_settings.save()
    assert not path.exists()  # save returned before the file was written
    window.window_settings.settings.last_model = "InternVL2-1B"
    window.window_settings.save()
    window.player.set_volume(0.3)
    window.shutdown()  # at once, with a save still being written
    saved = Settings.load(path)
    assert saved.recent_files == [str((tmp_path / "a.mp4").resolve())] and saved.last_model == "InternVL2-1B" and saved.volume == 0.3
    assert on_gui_thread and not any(on_gui_thread)


def test_a_save_that_fails_is_said_in_the_status_bar(qtbot, tmp_path):
    (tmp_path / "a file").write_text("")
    window = MainWindow(Settings(), settings_path=tmp_path / "a file" / "settings.json")  # its folder is a file
    qtbot.addWidget(window)
    window.window_settings.save()
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Settings could not be saved"), timeout=5000)
    window.shutdown()
