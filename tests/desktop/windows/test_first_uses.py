"""The first uses prepared while the window is idle (desktop/windows/first_uses.py): once they are, the
first open, the first answer and the first model manager import nothing on the GUI thread, and no save starts a
thread there; the steps run one per turn of the event loop, a failing one leaves the rest to run,
and none runs once the window is gone."""

from __future__ import annotations

import importlib
import logging
import os
import subprocess
import sys
import textwrap
import threading
from types import SimpleNamespace

import pytest
import shiboken6
from PySide6.QtCore import QObject, QTimer

from desktop.windows import first_uses
from desktop.windows.main_window import MainWindow
from tests.support.clips import write_clip
from videochat.settings import Settings
from videochat.snapshot_writer import SnapshotWriter

WAIT_MS = 20_000


def make_window(qtbot, tmp_path) -> MainWindow:
    window = MainWindow(Settings(), settings_path=tmp_path / "settings.json")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


class Recorder:
    """Stands for the imports, the style step and the collector: which ran, on which thread, at which
    turn of the event loop (the process's own importlib and gc are left alone)."""

    def __init__(self, monkeypatch, real_imports: bool = False):
        self.turns = [0]
        self.done: list[tuple[str, bool, int]] = []  # (step, on the GUI thread, turn)
        turns = self.turns  # not self: no reference cycle through the timer (see `stop`)
        self._turns = QTimer(interval=0, timeout=lambda: turns.__setitem__(0, turns[0] + 1))
        self._turns.start()
        self._gui = threading.current_thread()

        def import_module(name):
            self._record(name)
            return importlib.import_module(name) if real_imports else None

        monkeypatch.setattr(first_uses, "importlib", SimpleNamespace(import_module=import_module))
        monkeypatch.setattr(first_uses, "_style_enums", lambda: self._record("style"))
        monkeypatch.setattr(first_uses, "gc", SimpleNamespace(collect=lambda: self._record("collect"), freeze=lambda: self._record("freeze")))

    def _record(self, step: str) -> None:
        self.done.append((step, threading.current_thread() is self._gui, self.turns[0]))

    def stop(self) -> None:
        # Deleted here, on the GUI thread: a Qt object left to the cyclic collector may be deleted on
        # whichever thread it runs on (a later test's server thread), and that crashed the process.
        self._turns.stop()
        shiboken6.delete(self._turns)

    def gui_steps(self) -> list[str]:
        return [name for name, on_gui, _turn in self.done if on_gui]


@pytest.fixture
def recorder(monkeypatch):
    made = Recorder(monkeypatch)
    yield made
    made.stop()


def test_plain_imports_and_the_writer_start_off_the_gui_thread_and_qt_steps_on_it_one_turn_each(qtbot, tmp_path, monkeypatch, recorder):
    starts = []
    monkeypatch.setattr(SnapshotWriter, "start", lambda writer: starts.append((writer._name, threading.current_thread() is threading.main_thread())))
    window = make_window(qtbot, tmp_path)
    first_uses.prepare(window)
    qtbot.waitUntil(lambda: "freeze" in recorder.gui_steps(), timeout=WAIT_MS)
    assert recorder.gui_steps() == ["style", *first_uses.QT_MODULES, "collect", "freeze"]  # collected, then frozen, last
    off = [name for name, on_gui, _turn in recorder.done if not on_gui]
    assert off == list(first_uses.PLAIN_MODULES) and starts == [("videochat-settings", False)]
    gui_turns = [turn for name, on_gui, turn in recorder.done if on_gui and name != "freeze"]
    assert len(set(gui_turns)) == len(gui_turns)  # never two steps in one turn


def test_a_step_that_fails_is_logged_and_the_steps_after_it_still_run(qtbot, tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(first_uses, "QT_MODULES", ("videochat_no_such_module", "desktop.chat.bubbles"))
    monkeypatch.setattr(first_uses, "STEP_GAP_MS", 1)
    recorder = Recorder(monkeypatch, real_imports=True)
    window = make_window(qtbot, tmp_path)
    try:
        with caplog.at_level(logging.WARNING, logger="desktop.windows.first_uses"):
            first_uses.prepare(window)
            qtbot.waitUntil(lambda: "freeze" in recorder.gui_steps(), timeout=WAIT_MS)
    finally:
        recorder.stop()
    assert recorder.gui_steps() == ["style", "videochat_no_such_module", "desktop.chat.bubbles", "collect", "freeze"]
    assert "videochat_no_such_module" in caplog.text and "ModuleNotFoundError" in caplog.text


class StandInWindow(QObject):
    """What `prepare` uses of the window: its settings' writer, and itself as the steps' owner."""

    def __init__(self):
        super().__init__()
        self.window_settings = SimpleNamespace(start_writer=lambda: None)


def test_no_step_runs_once_the_window_is_gone(qtbot, recorder):
    window = StandInWindow()
    first_uses.prepare(window)
    shiboken6.delete(window)
    qtbot.wait(5 * (first_uses.FIRST_STEP_MS + len(first_uses.QT_MODULES) * first_uses.STEP_GAP_MS))
    assert recorder.gui_steps() == []
    kept = StandInWindow()  # the same with the window kept: every step runs
    first_uses.prepare(kept)
    qtbot.waitUntil(lambda: "freeze" in recorder.gui_steps(), timeout=WAIT_MS)
    shiboken6.delete(kept)


def test_once_prepared_the_first_open_the_first_answer_and_the_model_manager_import_nothing_on_the_gui_thread(tmp_path):
    # The app as `videochat-desktop` starts it (desktop.app.main), in a process of its own: the test
    # process has every module imported already.
    code = textwrap.dedent(
        """
        import sys, threading
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        import desktop.windows.main_window
        from desktop.windows import first_uses

        windows = []
        made = desktop.windows.main_window.MainWindow.__init__
        desktop.windows.main_window.MainWindow.__init__ = lambda self, *a, **k: (windows.append(self), made(self, *a, **k))[1]
        gui = threading.current_thread()
        imported_on_gui = []
        manager_shown = []

        class RecordImports:
            def find_spec(self, name, path=None, target=None):
                if threading.current_thread() is gui:
                    imported_on_gui.append(name)
                return None

        frozen = []
        freeze = first_uses._freeze
        first_uses._freeze = lambda: (freeze(), frozen.append(True))

        def prepared():
            return bool(frozen) and all(m in sys.modules for m in first_uses.PLAIN_MODULES)

        def first_uses_now():
            window = windows[0]
            started = [t.name for t in threading.enumerate()]
            assert "videochat-settings" in started, started  # before any save
            sys.meta_path.insert(0, RecordImports())
            window.sessions_shown = []
            window.player.sig_opened.connect(lambda _info: window.sessions.sig_opened.connect(lambda *_: (
                window.sessions_shown.append(True), QTimer.singleShot(0, lambda: answer_and_manager(window)))))
            window.open_video(sys.argv[1])

        def answer_and_manager(window):
            from videochat.chat import Answer
            assert window.export_menu.isEnabled()  # the session was read and shown
            window.chat.begin_answer("What happens?")
            window.chat.append_answer_text("A ball rolls.")
            window.chat.finish_answer(Answer(
                question="What happens?", text="A ball rolls.", stopped=False, indices=[15, 30], times=[0.5, 1.0],
                model="InternVL2-1B", revision=None, family="internvl2", frames=2, segment=None,
                settings={}, device="cpu", precision="float32", asked_at=0.0, follow_up=False))
            window.show_model_manager()

            def when_shown():  # and its package check (seconds in a subprocess) has answered: nothing is left running
                manager = window.model_manager
                if manager is not None and manager.isVisible() and manager.table.packages is not None:
                    manager_shown.append(True)
                    QApplication.instance().quit()
            QTimer(window, interval=10, timeout=when_shown).start()

        def run_until_prepared_then_use():
            poll = QTimer(interval=10)
            poll.timeout.connect(lambda: prepared() and (poll.stop(), first_uses_now()))
            poll.start()
            QTimer.singleShot(30000, QApplication.instance().quit)
            return QApplication.exec_before_test()

        QApplication.exec_before_test = QApplication.exec
        QApplication.exec = staticmethod(run_until_prepared_then_use)
        from desktop.app import main
        main([])
        assert manager_shown
        assert windows[0].sessions_shown
        from desktop.threads import background
        assert background._stopped  # the app's quit: a job that ends now reports nothing
        assert imported_on_gui == [], imported_on_gui
        """
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path), "HF_HUB_CACHE": str(tmp_path / "hub")}
    clip = write_clip(tmp_path / "clip.mp4", frames=30)
    result = subprocess.run([sys.executable, "-c", code, str(clip)], capture_output=True, text=True, timeout=90, env=env)
    assert result.returncode == 0, result.stderr
