"""The whole window as a user drives it: open a clip, ask a tiny model, click frame times, stop, segment, quit.

The clip codes each frame's index in its pixels, so "the chip seeks to frame 37" is read back
from the picture on screen, not assumed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel

from desktop.windows.main_window import MainWindow
from tests.support.main_window import WAIT_MS, ask, bubble_text, open_clip
from tests.support.player_pane import frame_interval, shown_frame
from videochat.settings import Settings

def test_an_asked_question_streams_an_answer_whose_chips_seek_the_player_to_their_frames(qtbot, window, clips):
    info = open_clip(qtbot, window, clips("plain.mp4"))
    texts = []
    window.worker.sig_text.connect(texts.append)
    answer = ask(qtbot, window, "What happens in this video?", tokens=12)

    assert texts and "".join(texts) == answer.text
    bubble = window.chat.answer_bubbles()[-1]
    assert bubble.text == answer.text and len(bubble.chips) == len(answer.times) == 8
    assert window.player.answer_ticks == pytest.approx(answer.times)

    chip = 5
    QTest.mouseClick(bubble.chips[chip], Qt.MouseButton.LeftButton)
    index = answer.indices[chip]
    start, end = frame_interval(info, index)
    qtbot.waitUntil(lambda: shown_frame(window.player) == index, timeout=WAIT_MS)
    assert start <= window.player.position_seconds() < end
    assert window.player.current_frame_index() == index


def test_stop_mid_answer_keeps_the_partial_answer_and_the_next_question_works(qtbot, window, clips):
    open_clip(qtbot, window, clips("plain.mp4"))
    window.chat.tokens_spin.setValue(400)
    window.worker.sig_text.connect(lambda _text: window.chat.sig_stop_requested.emit())
    with qtbot.waitSignal(window.worker.sig_answer_finished, timeout=WAIT_MS) as blocker:
        window.chat.question_box.setPlainText("Tell me everything.")
        QTest.keyClick(window.chat.question_box, Qt.Key.Key_Return)
    stopped = blocker.args[0]
    assert stopped.stopped and stopped.text
    assert "stopped" in window.chat.answer_bubbles()[-1].meta_label.text()
    window.worker.sig_text.disconnect()
    assert not ask(qtbot, window, "And now briefly?").stopped


def test_in_and_out_keys_scope_the_next_answer_to_the_segment(qtbot, window, clips):
    info = open_clip(qtbot, window, clips("long_gop.mp4"))
    window.player.setFocus()
    window.player.seek_to_frame(30)
    qtbot.waitUntil(lambda: window.player.current_frame_index() == 30, timeout=WAIT_MS)
    QTest.keyClick(window, Qt.Key.Key_I)
    window.player.seek_to_frame(90)
    qtbot.waitUntil(lambda: window.player.current_frame_index() == 90, timeout=WAIT_MS)
    QTest.keyClick(window, Qt.Key.Key_O)
    start, end = window.player.segment()
    assert start == pytest.approx(float(info.times[30])) and end == pytest.approx(frame_interval(info, 90)[1])

    answer = ask(qtbot, window, "What happens in this part?")
    assert all(30 <= index <= 90 for index in answer.indices) and answer.segment == (start, end)
    assert "0:00:01.000" in window.chat.answer_bubbles()[-1].meta_label.text()

    QTest.keyClick(window, Qt.Key.Key_Escape)
    assert window.player.segment() is None


def test_a_bad_file_shows_an_inline_message_and_the_app_keeps_working(qtbot, window, clips, tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("meeting notes, not a video", encoding="utf-8")
    with qtbot.waitSignal(window.player.sig_open_failed, timeout=WAIT_MS) as blocker:
        window.open_video(fake)
    assert "notes.mp4" in blocker.args[0]
    assert any("notes.mp4" in label.text() for label in window.player.findChildren(QLabel) if label.isVisible())
    open_clip(qtbot, window, clips("plain.mp4"))
    assert ask(qtbot, window, "Is it readable now?").text is not None
    assert window.errors.shown == []


def test_asking_before_a_video_is_open_says_what_to_do_in_the_chat(qtbot, window):
    window.chat.question_box.setPlainText("What is this?")
    QTest.keyClick(window.chat.question_box, Qt.Key.Key_Return)
    notices = [bubble for bubble in window.chat.bubbles() if "Open a video first" in bubble_text(bubble)]
    assert notices and not window.worker.is_busy


QUIT_DURING_ANSWER = textwrap.dedent(
    """
    import sys, time
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from desktop.windows.main_window import MainWindow
    from videochat.settings import Settings
    from pathlib import Path
    window = MainWindow(Settings(), settings_path=Path(sys.argv[3]))
    window.show()
    window.worker.start()
    window.open_video(sys.argv[2])
    window.worker.sig_loaded.connect(lambda ref: QTimer.singleShot(0, ask))
    def ask():
        window.chat.tokens_spin.setValue(2000)
        window.chat.sig_ask_requested.emit("Talk for a long time.")
    def quit_now(_text):
        window.worker.sig_text.disconnect()
        global started, child
        child = window.worker._process.process
        started = time.perf_counter()
        window.close()
        app.quit()
    window.worker.sig_text.connect(quit_now)
    window.player.sig_opened.connect(lambda info: window.load_model(sys.argv[1]))
    app.exec()
    closed = time.perf_counter() - started
    heavy = sorted(name for name in ("torch", "transformers") if name in sys.modules)
    print(f"model_process_ended={child.poll() is not None} heavy={','.join(heavy) or 'none'}", flush=True)
    print(f"closed in {closed:.3f}", flush=True)
    """
)


def test_quitting_during_an_answer_ends_the_model_process_and_exits_cleanly_within_two_seconds(tiny_model, clips, tmp_path):
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", QUIT_DURING_ANSWER, str(tiny_model), str(clips("plain.mp4")), str(tmp_path / "settings.json")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == 0, result.stderr
    closed_in = float(result.stdout.split("closed in ")[1])
    print(f"quit during an answer: {closed_in:.3f} s")
    assert closed_in < 2.0
    # The model ran in its own process, which the quit ended; the window's process never imported torch.
    assert "model_process_ended=True heavy=none" in result.stdout
    assert "QThread" not in result.stderr and "Traceback" not in result.stderr
    assert time.perf_counter() - started < 120


def test_a_model_process_killed_mid_answer_is_said_in_the_chat_the_question_is_kept_and_the_next_one_works(qtbot, window, clips):
    open_clip(qtbot, window, clips("plain.mp4"))
    first = ask(qtbot, window, "What happens?")
    child = window.worker._process.process
    window.chat.tokens_spin.setValue(4000)
    window.worker.sig_text.connect(lambda _text: child.poll() is None and os.kill(child.pid, signal.SIGKILL))
    with qtbot.waitSignal(window.worker.sig_answer_failed, timeout=WAIT_MS):
        window.chat.question_box.setPlainText("Talk for a long time.")
        QTest.keyClick(window.chat.question_box, Qt.Key.Key_Return)
    window.worker.sig_text.disconnect()
    shown = "\n".join(label.text() for label in window.chat.findChildren(QLabel))
    assert "SIGKILL" in shown and "Talk for a long time." in shown
    assert window.chat.question_box.toPlainText() == "Talk for a long time."  # kept, to send again
    assert window.chat.answer_bubbles()[0].answer is first  # the conversation stays
    assert window.worker.loaded_ref is not None and window.player.info is not None
    answer = ask(qtbot, window, "Talk for a long time.")  # a new model process answers
    assert answer.text and window.worker._process.process.pid != child.pid


def test_unloading_the_model_ends_its_process_and_the_next_load_starts_another(qtbot, window, tiny_model):
    child = window.worker._process.process
    with qtbot.waitSignal(window.worker.sig_unloaded, timeout=WAIT_MS):
        window.worker.unload()
    assert child.poll() is not None
    with qtbot.waitSignal(window.worker.sig_loaded, timeout=WAIT_MS):
        window.load_model(str(tiny_model))
    assert window.worker._process.process.pid != child.pid


def test_a_dropped_file_opens_and_joins_the_saved_recent_files(qtbot, window, clips, tmp_path):
    from PySide6.QtCore import QMimeData, QPoint, QUrl
    from PySide6.QtGui import QDropEvent

    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(clips("short.mp4")))])
    drop = QDropEvent(QPoint(10, 10), Qt.DropAction.CopyAction, data, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.player.sig_opened, timeout=WAIT_MS):
        window.dropEvent(drop)
    assert window.window_settings.flush()  # written on the settings' own thread
    saved = Settings.load(tmp_path / "settings.json")
    assert saved.recent_files[0] == str(clips("short.mp4").resolve())
    assert [action.text() for action in window.recent_menu.actions()] == saved.recent_files


def test_a_video_is_probed_once_for_the_player_the_model_and_the_thumbnails(qtbot, window, clips, monkeypatch):
    import videochat.video
    import videochat.video.source

    probed = []
    real_probe = videochat.video.info.probe
    counting = lambda path, *args, **kwargs: probed.append(path) or real_probe(path, *args, **kwargs)  # noqa: E731
    monkeypatch.setattr(videochat.video.info, "probe", counting)
    monkeypatch.setattr(videochat.video.source, "probe", counting)  # VideoSource.open's
    open_clip(qtbot, window, clips("plain.mp4"))
    with qtbot.waitSignal(window.chat.thumbnails.sig_ready, timeout=WAIT_MS):
        ask(qtbot, window, "What happens?")
    ask(qtbot, window, "And then?")
    assert probed == [clips("plain.mp4")]


def test_the_generation_controls_and_the_volume_are_remembered_for_the_next_start(qtbot, tmp_path):
    path = tmp_path / "settings.json"
    window = MainWindow(Settings.load(path), settings_path=path)
    qtbot.addWidget(window)
    assert window.chat.generation_values() == (Settings.max_new_tokens, Settings.temperature)
    window.chat.tokens_spin.setValue(77)
    window.chat.temperature_spin.setValue(0.4)
    window.player.set_volume(0.3)
    window.shutdown()

    again = MainWindow(Settings.load(path), settings_path=path)
    qtbot.addWidget(again)
    assert again.chat.generation_values() == (77, 0.4) and again.player.volume() == 0.3
    assert again.chat.settings().max_new_tokens == 77

    other = Settings.load(path)  # another window saves its model meanwhile
    other.last_model = "InternVL2-1B"
    other.save(path)
    again.player.set_volume(0.6)
    again.shutdown()
    assert Settings.load(path).last_model == "InternVL2-1B" and Settings.load(path).volume == 0.6


def test_the_window_is_painted_before_any_model_batch_media_bubble_preview_or_notes_table_code_is_loaded(tmp_path):
    # Started as `videochat-desktop` starts it. Its first paint pays for every module imported and
    # every thread started by then: the model thread and the logging start after it, and so do
    # automatic garbage collections.
    code = textwrap.dedent(
        """
        import gc
        import sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        import desktop.windows.main_window

        desktop.windows.main_window.FIRST_PAINT_WAIT_MS = 600_000  # only the paint can release what waits for it
        at_first_paint = {}
        paint = desktop.windows.main_window.MainWindow.paintEvent

        def watching_paint(window, event):
            if not at_first_paint:
                at_first_paint.update(modules=set(sys.modules), worker=window._worker, window=window, collecting=gc.isenabled())
            paint(window, event)

        desktop.windows.main_window.MainWindow.paintEvent = watching_paint
        run_event_loop = QApplication.exec

        def run_until_the_models_start():
            def check():
                window = at_first_paint.get("window")
                if window is not None and window._worker is not None:
                    QApplication.instance().quit()
            poll = QTimer(interval=10, timeout=check)
            poll.start()
            QTimer.singleShot(20000, QApplication.instance().quit)
            return run_event_loop()

        QApplication.exec = staticmethod(run_until_the_models_start)
        from desktop.app import main
        main([])
        later = {"torch", "transformers", "videochat.backends", "videochat.batch.run", "desktop.threads.model_worker", "PySide6.QtMultimedia", "dataclasses", "videochat.logs",
                 "desktop.chat.bubbles", "desktop.chat.streamed_text", "desktop.player.scrub_preview", "videochat.safe_text"}
        assert not later & at_first_paint["modules"], later & at_first_paint["modules"]
        assert at_first_paint["worker"] is None and at_first_paint["window"]._worker is not None
        assert at_first_paint["window"].notes.table is None
        assert not at_first_paint["collecting"] and gc.isenabled()  # garbage collection waits for the paint
        """
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path)}
    (tmp_path / "videochat").mkdir()
    Settings(recent_files=[str(tmp_path / "Tom & Jerry.mp4")]).save(tmp_path / "videochat" / "settings.json")  # as most users start
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr


def test_work_queued_for_after_the_first_paint_runs_after_it_or_after_a_wait_without_one(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr("desktop.windows.main_window.FIRST_PAINT_WAIT_MS", 600_000)  # only the paint can release it
    window = MainWindow(Settings(), settings_path=tmp_path / "settings.json")
    qtbot.addWidget(window)
    ran = []

    def fails():
        raise RuntimeError("a callback that fails")

    window.after_first_paint(lambda: ran.append("first"))
    window.after_first_paint(fails)
    window.after_first_paint(lambda: ran.append("after the one that failed"))
    window.show()
    assert ran == []  # not during show(): the paint comes first
    with qtbot.captureExceptions() as raised:
        qtbot.waitUntil(lambda: len(ran) == 2, timeout=WAIT_MS)
    assert ran == ["first", "after the one that failed"] and [str(error) for _, error, _ in raised] == ["a callback that fails"]
    window.after_first_paint(lambda: ran.append("later"))  # once painted: at the next turn
    qtbot.waitUntil(lambda: ran[-1] == "later", timeout=WAIT_MS)

    monkeypatch.setattr("desktop.windows.main_window.FIRST_PAINT_WAIT_MS", 50)
    hidden = MainWindow(Settings(), settings_path=tmp_path / "settings.json")
    qtbot.addWidget(hidden)
    hidden.after_first_paint(lambda: ran.append("never painted"))
    qtbot.waitUntil(lambda: ran[-1] == "never painted", timeout=WAIT_MS)


def test_with_no_model_on_disk_the_chat_points_to_the_manager_with_a_suggestion_for_this_machine(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    window = MainWindow(Settings(), settings_path=tmp_path / "settings.json")
    qtbot.addWidget(window)
    window.show()
    try:
        window.start_models()
        qtbot.waitUntil(lambda: "Suggested for this machine" in window.chat.status_label.text(), timeout=WAIT_MS)
        from videochat.models.fit import machine_budget, recommend

        assert "Model manager" in window.chat.status_label.text()
        assert recommend(machine_budget()).name in window.chat.status_label.text()  # InternVL2-1B on a CPU
        window.show_model_manager()
        qtbot.waitUntil(lambda: window.model_manager is not None, timeout=WAIT_MS)
        manager = window.model_manager
        assert manager.isVisible()
        with qtbot.waitSignal(window.worker.sig_load_failed, timeout=WAIT_MS):  # "Use" goes to the model thread
            manager.sig_use_model.emit(str(tmp_path))  # a folder with no model in it
        assert "config.json" in window.chat.status_label.text()
    finally:
        window.shutdown()


def test_the_model_list_shows_labels_and_the_loaded_catalog_model_is_its_listed_item(qtbot, tmp_path):
    from videochat.models.resolve import resolve_model

    window = MainWindow(Settings(), settings_path=tmp_path / "settings.json")
    qtbot.addWidget(window)
    try:
        window.model_loading._on_models_found([("InternVideo2-Chat-8B-HD", "OpenGVLab/InternVideo2_chat_8B_HD"), ("InternVL2-1B", "OpenGVLab/InternVL2-1B")])
        combo = window.chat.model_combo
        count = combo.count()
        assert combo.itemText(0) == "InternVideo2-Chat-8B-HD" and "2 model(s) on disk" in window.chat.status_label.text()
        window.model_loading._on_model_loaded(resolve_model("InternVideo2_chat_8B_HD"))  # the old name still loads it
        assert combo.currentIndex() == 0 and combo.count() == count
        assert window.chat.status_label.text().startswith("InternVideo2-Chat-8B-HD ready")
    finally:
        window.shutdown()


def test_the_notes_panel_height_as_dragged_is_restored_at_the_next_start(qtbot, tmp_path):
    path = tmp_path / "settings.json"
    window = MainWindow(Settings.load(path), settings_path=path)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    splitter = window._notes_splitter
    assert splitter.sizes()[1] == Settings.notes_height
    splitter.moveSplitter(splitter.height() - 320 - splitter.handleWidth(), 1)  # as a drag of the handle does
    dragged = splitter.sizes()[1]
    assert dragged != Settings.notes_height
    window.shutdown()
    assert Settings.load(path).notes_height == dragged

    again = MainWindow(Settings.load(path), settings_path=path)
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    try:
        assert again._notes_splitter.sizes()[1] == dragged
    finally:
        again.shutdown()


WINDOW_CONTROLLERS = [
    "desktop.chat.asking",
    "desktop.session.marks_controller",
    "desktop.session.notes_controller",
    "desktop.windows.model_loading",
    "desktop.windows.remote_code_dialog",
    "desktop.windows.tool_windows",
    "desktop.windows.window_settings",
]


def test_the_window_controllers_import_without_the_main_window_that_composes_them():
    # The window imports its controllers; one that imported the window back would make a cycle.
    code = textwrap.dedent(
        f"""
        import importlib, sys
        for name in {WINDOW_CONTROLLERS!r}:
            importlib.import_module(name)
        assert "desktop.windows.main_window" not in sys.modules
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
