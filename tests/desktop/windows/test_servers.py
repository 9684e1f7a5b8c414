"""Models on servers in the window: "Add a server…", their models beside the local ones, asking one
(the frames the app sent, their times clickable, the engine in the provenance), Stop, a server that
does not answer, and the key kept out of every settings, session, export and log file. "Servers…"
(changing a key, checking again, removing a server) is in tests/desktop/windows/test_server_management.py.

The server is the vLLM-strict stand-in (tests/support/engine_standin.py): it reads every frame it
keeps back from its pixels, so "the answer's frames are the ones sent" is checked, not assumed.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop.chat.model_list import ADD_SERVER_ITEM, MODEL_FOLDER_ITEM, SERVERS_ITEM
from desktop.windows.add_server_dialog import AddServerDialog
from tests.support.engine_standin import EngineStandIn
from tests.support.player_pane import shown_frame
from tests.support.window_with_servers import (
    KEY, MODEL, WAIT_MS, add_server, app_log, ask, choose_and_load, make_window, notices, rows, use_the_key_everywhere,
)
from videochat.engines.servers import engine_choice
from videochat.frames.pipeline import sample_frames
from videochat.settings import Settings
from videochat.video.source import VideoSource


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_dialog_refuses_an_address_with_credentials_or_another_scheme_and_says_why(qtbot):
    dialog = AddServerDialog()
    qtbot.addWidget(dialog)
    for typed, said in [("http://admin:hunter2@gpu-box:8000", "user name or password"), ("file:///srv/model", "not an http or https"), ("ftp://gpu-box", "not an http or https")]:
        dialog.url_edit.setText(typed)
        dialog.accept()
        assert dialog.result() != AddServerDialog.DialogCode.Accepted and dialog.address is None
        assert said in dialog.error_label.text() and "hunter2" not in dialog.error_label.text()
    dialog.url_edit.setText("http://127.0.0.1:8000/v1?x=1")
    dialog.accept()
    assert dialog.result() == AddServerDialog.DialogCode.Accepted and dialog.address == "http://127.0.0.1:8000"


def test_an_added_server_lists_its_models_beside_the_local_ones_and_is_kept_for_the_next_start(qtbot, homes, monkeypatch):
    with EngineStandIn(models=(MODEL, "llava-hf/llava-onevision-qwen2-0.5b-ov-hf"), api_key=KEY) as standin:
        window = make_window(qtbot, homes)
        try:
            window.start_models()
            qtbot.waitUntil(lambda: [text for text, _data, _on in rows(window)][:1] == ["InternVL2-1B"], timeout=WAIT_MS)
            add_server(qtbot, window, monkeypatch, standin.url + "/v1", KEY)
            host = standin.url.removeprefix("http://")
            wanted = f"InternVL2-8B @ {host}"
            qtbot.waitUntil(lambda: any(text == wanted for text, _data, _on in rows(window)), timeout=WAIT_MS)
            texts = [text for text, _data, _on in rows(window)]
            assert texts == ["InternVL2-1B", wanted, f"llava-onevision-qwen2-0.5b-ov-hf @ {host}", ADD_SERVER_ITEM, SERVERS_ITEM, MODEL_FOLDER_ITEM]
            assert rows(window)[1][1] == engine_choice(standin.url, MODEL)
        finally:
            window.shutdown()
        assert Settings.load(homes / "config" / "videochat" / "settings.json").engine_servers == [standin.url]

        again = make_window(qtbot, homes)  # the next start lists it again, with the stored key
        try:
            again.start_models()
            qtbot.waitUntil(lambda: any(text == wanted for text, _data, _on in rows(again)), timeout=WAIT_MS)
        finally:
            again.shutdown()


def test_asking_a_served_model_streams_an_answer_on_the_frames_sent_with_clickable_times_and_the_engine_named(qtbot, homes, monkeypatch, clips):
    clip = clips("plain.mp4")
    with EngineStandIn(models=(MODEL,), api_key=KEY) as standin:
        window = make_window(qtbot, homes)
        try:
            window.start_models()
            add_server(qtbot, window, monkeypatch, standin.url, KEY)
            label = f"InternVL2-8B @ {standin.url.removeprefix('http://')}"
            qtbot.waitUntil(lambda: window.chat.model_combo.findText(label) >= 0, timeout=WAIT_MS)
            ref = choose_and_load(qtbot, window, label)
            assert ref.family == "internvl2" and ref.default_frames == 8
            assert window.chat.status_label.text().startswith(f"{label} ready")
            with qtbot.waitSignal(window.player.sig_opened, timeout=WAIT_MS):
                window.open_video(clip)
            texts = []
            window.worker.sig_text.connect(texts.append)
            answer = ask(qtbot, window, "What happens in this video?")

            with VideoSource.open(clip) as source:
                sample = sample_frames(source, "internvl2", 8, None)
            sent = standin.received[-1]
            assert sent.authorization == f"Bearer {KEY}" and sent.model == MODEL
            assert answer.indices == [int(i) for i in sample.indices] == sent.frame_codes
            assert answer.times == [round(float(t), 6) for t in sample.times]
            assert "".join(texts) == answer.text == standin.answer_text(sent)
            assert answer.engine == standin.url and answer.model == MODEL
            bubble = window.chat.answer_bubbles()[-1]
            assert f"on {standin.url}" in bubble.meta_label.text() and len(bubble.chips) == 8
            assert window.player.answer_ticks == pytest.approx(answer.times)
            chip = 5  # a time seeks the player to the frame the server was sent
            QTest.mouseClick(bubble.chips[chip], Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: shown_frame(window.player) == answer.indices[chip], timeout=WAIT_MS)
            assert window.player.current_frame_index() == answer.indices[chip]
        finally:
            window.shutdown()


def test_stop_closes_the_servers_stream_and_the_partial_answer_is_kept(qtbot, homes, monkeypatch, clips):
    with EngineStandIn(models=(MODEL,), seconds_per_piece=0.2) as standin:
        window = make_window(qtbot, homes, [standin.url])
        try:
            window.start_models()
            label = f"InternVL2-8B @ {standin.url.removeprefix('http://')}"
            qtbot.waitUntil(lambda: window.chat.model_combo.findText(label) >= 0, timeout=WAIT_MS)
            choose_and_load(qtbot, window, label)
            with qtbot.waitSignal(window.player.sig_opened, timeout=WAIT_MS):
                window.open_video(clips("plain.mp4"))
            window.worker.sig_text.connect(lambda _text: window.chat.sig_stop_requested.emit())
            stopped = ask(qtbot, window, "Tell me everything.")
            assert stopped.stopped and stopped.text and len(stopped.text) < len(standin.answer_text(standin.received[-1]))
            assert "stopped" in window.chat.answer_bubbles()[-1].meta_label.text()
            qtbot.waitUntil(lambda: standin.in_flight == 0, timeout=WAIT_MS)  # the server saw the stream close
            window.worker.sig_text.disconnect()
            assert not ask(qtbot, window, "And now?").stopped  # the next question works
        finally:
            window.shutdown()


def test_an_unreachable_server_is_one_line_that_cannot_be_chosen_and_the_chat_says_why(qtbot, homes, monkeypatch, clips):
    address = f"http://127.0.0.1:{closed_port()}"
    window = make_window(qtbot, homes, [address])
    try:
        window.start_models()
        qtbot.waitUntil(lambda: any(text == f"{address}: unreachable" for text, _data, _on in rows(window)), timeout=WAIT_MS)
        line = next(row for row in rows(window) if row[0] == f"{address}: unreachable")
        assert line[1] is None and line[2] is False
        qtbot.waitUntil(lambda: [text for text, _data, _on in rows(window)][:1] == ["InternVL2-1B"], timeout=WAIT_MS)  # the local models too
        assert any(f"Cannot reach the engine at {address}" in text and "Check again" in text for text in notices(window))
        with qtbot.waitSignal(window.player.sig_opened, timeout=WAIT_MS):  # the window goes on
            window.open_video(clips("plain.mp4"))
    finally:
        window.shutdown()


def test_an_older_vllm_is_said_in_the_chat_when_its_model_loads(qtbot, homes, monkeypatch):
    with EngineStandIn(models=(MODEL,), version="0.10.1") as standin:
        window = make_window(qtbot, homes, [standin.url])
        try:
            window.start_models()
            label = f"InternVL2-8B @ {standin.url.removeprefix('http://')}"
            qtbot.waitUntil(lambda: window.chat.model_combo.findText(label) >= 0, timeout=WAIT_MS)
            ref = choose_and_load(qtbot, window, label)
            assert ref.notes and any("vLLM 0.10 is older than 0.18" in text for text in notices(window))
        finally:
            window.shutdown()


def test_the_stored_key_is_in_no_settings_session_export_or_log_file(qtbot, homes, monkeypatch, clips):
    with app_log(monkeypatch) as log_path, EngineStandIn(models=(MODEL,), api_key=KEY) as standin:
        window = make_window(qtbot, homes)
        try:
            use_the_key_everywhere(qtbot, window, monkeypatch, standin, clips, homes)
        finally:
            window.shutdown()
    assert log_path.is_relative_to(homes) and log_path.stat().st_size > 0
    keys = homes / "config" / "videochat" / "engine-keys.json"
    assert KEY in keys.read_text()  # stored where it belongs ...
    written = [path for path in homes.rglob("*") if path.is_file() and path != keys]
    names = {path.name for path in written}
    assert "settings.json" in names and any(path.suffix == ".json" and "sessions" in path.parts for path in written)
    for path in written:  # ... and nowhere else
        assert KEY.encode() not in path.read_bytes(), path


def test_tools_batch_with_a_served_model_answers_every_pair_on_the_server_and_a_second_run_asks_nothing(qtbot, homes, monkeypatch, tmp_path):
    import json

    from tests.support.clips import write_clip

    folder = tmp_path / "clips"
    folder.mkdir()
    for name in ("a.mp4", "b.mp4"):
        write_clip(folder / name, frames=24, width=64, height=64)
    (folder / "broken.mp4").write_bytes(b"not a video" * 50)
    out = tmp_path / "results.jsonl"
    with EngineStandIn(models=(MODEL,)) as standin:
        window = make_window(qtbot, homes, [standin.url])
        try:
            window.start_models()
            label = f"InternVL2-8B @ {standin.url.removeprefix('http://')}"
            qtbot.waitUntil(lambda: window.chat.model_combo.findText(label) >= 0, timeout=WAIT_MS)
            choose_and_load(qtbot, window, label)
            window.show_batch_window()
            batch = window.batch_window
            batch.set_source(folder)
            batch.out_edit.setText(str(out))
            batch.questions_edit.setPlainText("What is shown?\nWhat colour is it?\n")
            batch.frames_spin.setValue(4)
            with qtbot.waitSignal(batch.sig_finished, timeout=60_000):
                QTest.mouseClick(batch.start_button, Qt.MouseButton.LeftButton)
            assert batch.message.text().startswith("Done: 4 answer(s)")
            QTest.mouseClick(batch.start_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: batch.message.text().startswith("Nothing to do"), timeout=WAIT_MS)
        finally:
            window.shutdown()
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    answers = [line for line in written if line["status"] == "ok"]
    assert len(standin.received) == len(answers) == 4  # the second run asked nothing
    assert {(Path(line["clip"]).name, line["question"]) for line in answers} == {(c, q) for c in ("a.mp4", "b.mp4") for q in ("What is shown?", "What colour is it?")}
    assert all(line["model_source"] == f"engine:{MODEL}" and line["engine"] == standin.url and len(line["indices"]) == 4 for line in answers)
    assert sorted(tuple(line["indices"]) for line in answers) == sorted(tuple(r.frame_codes) for r in standin.received)
    assert [Path(line["clip"]).name for line in written if line["status"] == "error"] == ["broken.mp4"]


def test_asking_a_served_model_imports_neither_torch_nor_transformers_in_the_windows_process(tmp_path):
    import os
    import subprocess
    import sys
    import textwrap

    from tests.support import REPO_ROOT

    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from desktop.threads.engine_session import EngineSession
        from desktop.threads.model_worker import AskRequest
        from tests.support.clips import write_clip
        from tests.support.engine_standin import EngineStandIn
        from videochat.engines.servers import engine_choice

        clip = write_clip(Path({str(tmp_path)!r}) / "clip.mp4", frames=30)
        with EngineStandIn() as standin:
            session = EngineSession.connect(engine_choice(standin.url, {MODEL!r}), lambda *args: None)
            answer = session.answer(AskRequest(clip, "What?"), lambda: False, lambda chat: None, lambda *args: None, lambda piece: None)
        assert len(answer.indices) == 8, answer
        print(sorted(name for name in ("torch", "transformers", "torchvision") if name in sys.modules))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_server_that_breaks_off_mid_answer_fails_that_answer_in_the_chat_and_the_next_question_works(qtbot, homes, clips):
    with EngineStandIn(models=(MODEL,), break_after_pieces=2) as standin:
        window = make_window(qtbot, homes, [standin.url])
        try:
            window.start_models()
            label = f"InternVL2-8B @ {standin.url.removeprefix('http://')}"
            qtbot.waitUntil(lambda: window.chat.model_combo.findText(label) >= 0, timeout=WAIT_MS)
            choose_and_load(qtbot, window, label)
            with qtbot.waitSignal(window.player.sig_opened, timeout=WAIT_MS):
                window.open_video(clips("plain.mp4"))
            with qtbot.waitSignal(window.worker.sig_answer_failed, timeout=WAIT_MS) as failed:
                window.chat.question_box.setPlainText("What happens?")
                QTest.keyClick(window.chat.question_box, Qt.Key.Key_Return)
            bubble = window.chat.answer_bubbles()[-1]
            assert bubble.error_label.isVisible() and bubble.error_label.text() == str(failed.args[0])
            assert standin.url in bubble.error_label.text()
            standin.break_after_pieces = None
            assert not ask(qtbot, window, "And now?").stopped
        finally:
            window.shutdown()
