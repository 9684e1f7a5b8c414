"""The model manager is built at one turn of the event loop and shown at the next, and a quit in between stops it."""

from __future__ import annotations

from PySide6.QtCore import QTimer

import desktop.windows.model_manager as manager_module
from desktop.windows.main_window import MainWindow
from videochat.settings import Settings


def test_the_model_manager_is_shown_at_a_turn_after_the_one_that_builds_it(qtbot, tmp_path, monkeypatch):
    order = []
    real_init = manager_module.ModelManager.__init__

    def building(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        order.append("built")
        QTimer.singleShot(0, lambda: order.append("the next turn"))

    monkeypatch.setattr(manager_module.ModelManager, "__init__", building)
    window = MainWindow(Settings(), settings_path=tmp_path / "settings.json")
    qtbot.addWidget(window)
    window.show()
    try:
        window.show_model_manager()
        qtbot.waitUntil(lambda: window.model_manager is not None and window.model_manager.isVisible(), timeout=10_000)
        shown_at = len(order)  # the manager is public only once shown
        qtbot.waitUntil(lambda: "the next turn" in order, timeout=10_000)
        assert order == ["built", "the next turn"] and shown_at == 2
    finally:
        window.shutdown()


def test_a_quit_between_building_and_showing_the_model_manager_stops_its_worker(qtbot, tmp_path, monkeypatch):
    made = []
    real_init = manager_module.ModelManager.__init__
    monkeypatch.setattr(manager_module.ModelManager, "__init__", lambda self, *a, **k: (real_init(self, *a, **k), made.append(self)) and None)
    window = MainWindow(Settings(), settings_path=tmp_path / "settings.json")
    qtbot.addWidget(window)
    window.tools._make_model_manager()  # the turn that builds it; the one that shows it has not run
    stopped = []
    monkeypatch.setattr(made[0].worker, "shutdown", lambda *a, **k: stopped.append(True))
    window.shutdown()
    qtbot.wait(50)  # the showing turn comes, and shows nothing
    assert stopped and not made[0].isVisible()
