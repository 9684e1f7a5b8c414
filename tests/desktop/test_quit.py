"""Quitting the real app, in a fresh process: File ▸ Quit, the window's close, SIGTERM and SIGINT.

Each way exits 0 with no traceback on stderr, and the last session write lands first.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

WAIT_S = 60

# Runs the real entry (`desktop.app.main`, what `videochat-desktop` calls) and, once the window is
# up, does what argv[1] says: "menu" triggers File ▸ Quit, "close" closes the window as its close
# button does, "note" adds a timeline note to the opened clip's session and then says "ready" (the
# test then sends a signal).
DRIVER = textwrap.dedent(
    """
    import sys
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QApplication
    from desktop.app import main
    from desktop.windows.main_window import MainWindow

    how, argv = sys.argv[1], sys.argv[2:]
    app = QApplication(sys.argv[:1])

    def window():
        return next((w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()), None)

    def act():
        shown = window()
        if shown is None or (how == "note" and (shown._sessions is None or shown.sessions.current() is None)):
            QTimer.singleShot(100, act)
            return
        if how == "menu":
            [quit_action] = [a for a in shown.findChildren(QAction) if a.text() == "&Quit"]
            quit_action.trigger()
        elif how == "close":
            shown.close()
        else:
            shown.notes_control._on_note_added()
            print("ready", flush=True)

    QTimer.singleShot(100, act)
    sys.exit(main(argv))
    """
)


def app_environment(tmp_path: Path) -> dict:
    env = dict(os.environ)
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "HF_HOME"):
        env[name] = str(tmp_path / name.lower())
    env.update(HF_HUB_OFFLINE="1", QT_QPA_PLATFORM="offscreen", QT_LOGGING_RULES="qt.multimedia.*=false;qt.qpa.*=false")
    return env


def finish(process: subprocess.Popen) -> tuple[int, str]:
    try:
        _, stderr = process.communicate(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
        pytest.fail(f"the app did not quit: {stderr}")
    return process.returncode, stderr


@pytest.mark.parametrize("how", ["menu", "close"])
def test_file_quit_and_closing_the_window_exit_0_without_a_traceback(tmp_path, how):
    process = subprocess.Popen([sys.executable, "-c", DRIVER, how], env=app_environment(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    status, stderr = finish(process)
    assert (status, "Traceback" in stderr) == (0, False), stderr


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_quit_the_app_as_file_quit_does(tmp_path, number):
    env = app_environment(tmp_path)
    process = subprocess.Popen([sys.executable, "-m", "desktop"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The log file is made once the window has been painted: the app is running its event loop.
    log_file = tmp_path / "xdg_state_home" / "videochat" / "log" / "videochat.log"
    deadline = time.monotonic() + WAIT_S
    while not log_file.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert log_file.exists(), finish(process)
    process.send_signal(number)
    status, stderr = finish(process)
    assert (status, "Traceback" in stderr) == (0, False), stderr


def test_a_signal_quits_only_after_the_last_session_change_is_on_disk(tmp_path, clips):
    clip = clips("plain.mp4")
    env = app_environment(tmp_path)
    process = subprocess.Popen([sys.executable, "-c", DRIVER, "note", str(clip)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready", finish(process)
    process.send_signal(signal.SIGTERM)
    status, stderr = finish(process)
    assert (status, "Traceback" in stderr) == (0, False), stderr
    [session_file] = (tmp_path / "xdg_data_home" / "videochat" / "sessions").glob("*.json")
    assert len(json.loads(session_file.read_text())["notes"]) == 1


def test_with_no_display_the_app_says_so_in_one_line_before_qt_aborts(tmp_path):
    env = app_environment(tmp_path)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        env.pop(name, None)
    process = subprocess.run([sys.executable, "-m", "desktop"], env=env, capture_output=True, text=True, timeout=WAIT_S)
    lines = process.stderr.strip().splitlines()
    assert (process.returncode, len(lines)) == (1, 1), process.stderr
    assert "no display" in lines[0] and "xvfb-run" in lines[0] and "QT_QPA_PLATFORM=offscreen" in lines[0]


def test_a_server_that_never_answers_its_listing_does_not_hold_the_quit(tmp_path):
    """The listing waits up to its 5 s limit; the app's exit must not (it waited for it on Qt's pool)."""
    listener = socket.create_server(("127.0.0.1", 0))
    asked = threading.Event()
    held = []
    threading.Thread(target=lambda: (held.append(listener.accept()[0]), asked.set()), daemon=True).start()
    env = app_environment(tmp_path)
    settings = Path(env["XDG_CONFIG_HOME"]) / "videochat" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"engine_servers": [f"http://127.0.0.1:{listener.getsockname()[1]}"]}))
    process = subprocess.Popen([sys.executable, "-m", "desktop"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert asked.wait(WAIT_S), finish(process)  # the window is up and its listing waits for an answer
        process.send_signal(signal.SIGTERM)
        quit_at = time.monotonic()
        status, stderr = finish(process)
        assert time.monotonic() - quit_at < 2.0 and (status, "Traceback" in stderr) == (0, False), stderr
    finally:
        listener.close()
        for connection in held:
            connection.close()
