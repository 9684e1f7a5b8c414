""""Servers…" in the model list: change a server's key, check an unreachable one again, remove one
(its address, its rows, its stored key, and its model if loaded), and the key in no file or chat
message after a whole add, ask, remove cycle. Against the loopback stand-in (tests/support/engine_standin.py).
"""

from __future__ import annotations

import json
import os
import stat

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from desktop.chat.model_list import SERVERS_ITEM
from desktop.windows.add_server_dialog import AddServerDialog
from tests.support.engine_standin import EngineStandIn
from tests.support.window_with_servers import (
    KEY, MODEL, WAIT_MS, add_server, app_log, ask, choose_and_load, label_of,
    load_served_model_on_a_clip, make_window, notices, rows, use_the_key_everywhere,
)
from videochat.settings import Settings


def open_servers(qtbot, window):
    combo = window.chat.model_combo
    index = combo.findText(SERVERS_ITEM)
    assert index >= 0, rows(window)
    combo.activated.emit(index)
    dialog = window.servers.dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def choose_server(dialog, address: str) -> None:
    for row in range(dialog.server_list.count()):
        if dialog.server_list.item(row).text().startswith(address):
            dialog.server_list.setCurrentRow(row)
            return
    raise AssertionError(f"{address} not in the dialog")


def remove(qtbot, window, monkeypatch, address: str) -> None:
    dialog = open_servers(qtbot, window)
    choose_server(dialog, address)
    asked = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: asked.append(box.text()) or QMessageBox.StandardButton.Yes)
    dialog.remove_button.click()
    assert asked and address in asked[0] and "key is deleted" in asked[0]


def type_key(monkeypatch, key: str) -> None:
    def filled(dialog: AddServerDialog) -> int:
        assert dialog.url_edit.isReadOnly()
        dialog.key_edit.setText(key)
        dialog.accept()
        return dialog.result()

    monkeypatch.setattr(AddServerDialog, "exec", filled)


def keys_file(homes):
    return homes / "config" / "videochat" / "engine-keys.json"


def test_servers_lists_each_server_with_what_it_said_and_is_there_only_once_a_server_is_added(qtbot, homes, monkeypatch):
    window = make_window(qtbot, homes)
    try:
        window.start_models()
        assert window.chat.model_combo.findText(SERVERS_ITEM) < 0  # nothing to manage yet
        with EngineStandIn(models=(MODEL,)) as standin:
            add_server(qtbot, window, monkeypatch, standin.url)
            qtbot.waitUntil(lambda: window.chat.model_combo.findText(label_of(standin)) >= 0, timeout=WAIT_MS)
            dialog = open_servers(qtbot, window)
            assert [dialog.server_list.item(i).text() for i in range(dialog.server_list.count())] == [f"{standin.url}  —  1 model(s)"]
            assert dialog.remove_button.isEnabled() and dialog.change_key_button.isEnabled() and dialog.check_button.isEnabled()
    finally:
        window.shutdown()


def test_removing_a_server_takes_its_models_address_and_stored_key_away_and_keeps_the_others(qtbot, homes, monkeypatch):
    with EngineStandIn(models=(MODEL,), api_key=KEY) as first, EngineStandIn(models=(MODEL,), api_key="sk-other-server-key-777777") as second:
        window = make_window(qtbot, homes)
        try:
            window.start_models()
            add_server(qtbot, window, monkeypatch, first.url, KEY)
            add_server(qtbot, window, monkeypatch, second.url, "sk-other-server-key-777777")
            for standin in (first, second):
                qtbot.waitUntil(lambda s=standin: window.chat.model_combo.findText(label_of(s)) >= 0, timeout=WAIT_MS)
            remove(qtbot, window, monkeypatch, first.url)
            assert window.chat.model_combo.findText(label_of(first)) < 0 and window.chat.model_combo.findText(label_of(second)) >= 0
            assert window.settings.engine_servers == [second.url]
            qtbot.waitUntil(lambda: KEY not in keys_file(homes).read_text(), timeout=WAIT_MS)
            assert stat.S_IMODE(os.stat(keys_file(homes)).st_mode) == 0o600
            assert json.loads(keys_file(homes).read_text()) == {second.url: "sk-other-server-key-777777"}
            assert [window.servers.dialog.server_list.item(i).text().split()[0] for i in range(window.servers.dialog.server_list.count())] == [second.url]
        finally:
            window.shutdown()
    assert Settings.load(homes / "config" / "videochat" / "settings.json").engine_servers == [second.url]


def test_removing_the_server_of_the_loaded_model_unloads_it_first_with_a_note_in_the_chat(qtbot, homes, monkeypatch):
    with EngineStandIn(models=(MODEL,)) as standin:
        window = make_window(qtbot, homes, [standin.url])
        try:
            window.start_models()
            qtbot.waitUntil(lambda: window.chat.model_combo.findText(label_of(standin)) >= 0, timeout=WAIT_MS)
            choose_and_load(qtbot, window, label_of(standin))
            assert window.settings.last_model.startswith("engine:")
            with qtbot.waitSignal(window.worker.sig_unloaded, timeout=WAIT_MS):
                remove(qtbot, window, monkeypatch, standin.url)
            assert window.worker.loaded_ref is None
            qtbot.waitUntil(lambda: not window.worker.is_busy, timeout=WAIT_MS)
            gone = f"No model loaded: {standin.url} was removed. Choose another model."
            assert window.chat.status_label.text() == gone == window.model_loading.no_model_text()  # not "choose it again"
            assert window.chat.model_combo.currentIndex() == -1 and window.chat.model_combo.findText(label_of(standin)) < 0
            notes = [widget.text() for widget in window.chat.bubbles() if widget.objectName() == "conversationNote"]
            assert any(f"{label_of(standin)} was unloaded: its server {standin.url} was removed" in text for text in notes)
            assert window.settings.last_model is None  # the next start does not connect to it again
        finally:
            window.shutdown()


def test_changing_a_refused_key_stores_the_new_one_and_lists_the_servers_models(qtbot, homes, monkeypatch):
    with EngineStandIn(models=(MODEL,), api_key=KEY) as standin:
        window = make_window(qtbot, homes)
        try:
            window.start_models()
            add_server(qtbot, window, monkeypatch, standin.url, "sk-wrong-key-000000000")
            qtbot.waitUntil(lambda: any(text == f"{standin.url}: key refused" for text, _d, _on in rows(window)), timeout=WAIT_MS)
            assert any("Change key" in text for text in notices(window))
            dialog = open_servers(qtbot, window)
            assert dialog.server_list.item(0).text().endswith("key refused")
            type_key(monkeypatch, KEY)
            dialog.change_key_button.click()
            qtbot.waitUntil(lambda: window.chat.model_combo.findText(label_of(standin)) >= 0, timeout=WAIT_MS)
            assert json.loads(keys_file(homes).read_text()) == {standin.url: KEY}
            assert dialog.server_list.item(0).text().endswith("1 model(s)")
            choose_and_load(qtbot, window, label_of(standin))  # the new key is the one sent
        finally:
            window.shutdown()


def test_changing_the_key_of_the_loaded_models_server_sends_the_new_key_with_the_next_question(qtbot, homes, monkeypatch, clips):
    rotated = "sk-rotated-standin-key-8880123"
    with EngineStandIn(models=(MODEL,), api_key=KEY) as standin:
        window = make_window(qtbot, homes)
        try:
            ref = load_served_model_on_a_clip(qtbot, window, monkeypatch, standin, clips)
            ask(qtbot, window, "What happens?")
            standin.api_key = rotated  # the server's key was changed: the old one is refused from now on
            dialog = open_servers(qtbot, window)
            type_key(monkeypatch, rotated)
            dialog.change_key_button.click()
            qtbot.waitUntil(lambda: dialog.server_list.item(0).text().endswith("1 model(s)"), timeout=WAIT_MS)
            notes = [widget.text() for widget in window.chat.bubbles() if widget.objectName() == "conversationNote"]
            assert any(f"uses the new key for {standin.url} from the next question on" in text for text in notes)

            failed, finished = [], []
            window.worker.sig_answer_failed.connect(failed.append)
            window.worker.sig_answer_finished.connect(finished.append)
            window.chat.question_box.setPlainText("And then?")
            QTest.keyClick(window.chat.question_box, Qt.Key.Key_Return)
            qtbot.waitUntil(lambda: bool(failed or finished), timeout=WAIT_MS)
            assert not failed, [str(error) for error in failed]
            assert standin.received[-1].authorization == f"Bearer {rotated}"
            assert window.worker.loaded_ref is ref  # the same session, not a reload: the conversation goes on
            assert finished[0].follow_up
        finally:
            window.shutdown()


def test_changing_a_key_to_nothing_deletes_the_stored_one(qtbot, homes, monkeypatch):
    with EngineStandIn(models=(MODEL,)) as standin:
        window = make_window(qtbot, homes)
        try:
            window.start_models()
            add_server(qtbot, window, monkeypatch, standin.url, KEY)
            qtbot.waitUntil(lambda: window.chat.model_combo.findText(label_of(standin)) >= 0, timeout=WAIT_MS)
            dialog = open_servers(qtbot, window)
            type_key(monkeypatch, "")
            dialog.change_key_button.click()
            qtbot.waitUntil(lambda: KEY not in keys_file(homes).read_text(), timeout=WAIT_MS)
            qtbot.waitUntil(lambda: window.chat.model_combo.findText(label_of(standin)) >= 0, timeout=WAIT_MS)
        finally:
            window.shutdown()


def refused_at_start(qtbot, homes, standin):
    """A window started with `standin`'s address but no key stored: its listing was refused."""
    window = make_window(qtbot, homes, [standin.url])
    try:
        window.start_models()
        qtbot.waitUntil(lambda: any(text == f"{standin.url}: key refused" for text, _d, _on in rows(window)), timeout=WAIT_MS)
    except BaseException:
        window.shutdown()
        raise
    return window


def test_check_again_lists_a_server_that_answers_now(qtbot, homes, monkeypatch):
    with EngineStandIn(models=(MODEL,), api_key=KEY) as standin:
        window = refused_at_start(qtbot, homes, standin)
        try:
            standin.api_key = None  # the server was restarted without a key
            dialog = open_servers(qtbot, window)
            dialog.check_button.click()
            qtbot.waitUntil(lambda: window.chat.model_combo.findText(label_of(standin)) >= 0, timeout=WAIT_MS)
        finally:
            window.shutdown()


def test_removing_a_server_whose_key_file_is_a_link_says_so_and_leaves_the_linked_file_alone(qtbot, homes, monkeypatch):
    address = "http://127.0.0.1:9"
    elsewhere = homes / "elsewhere.json"
    elsewhere.write_text(json.dumps({address: KEY}))
    keys_file(homes).parent.mkdir(parents=True, exist_ok=True)
    keys_file(homes).symlink_to(elsewhere)
    window = make_window(qtbot, homes, [address])
    try:
        window.start_models()
        qtbot.waitUntil(lambda: any(text.startswith(f"{address}: ") and "asking" not in text for text, _d, _on in rows(window)), timeout=WAIT_MS)
        remove(qtbot, window, monkeypatch, address)
        assert window.settings.engine_servers == []
        qtbot.waitUntil(lambda: any("could not be deleted" in text and "link" in text for text in notices(window)), timeout=WAIT_MS)
        assert keys_file(homes).is_symlink() and json.loads(elsewhere.read_text()) == {address: KEY}
        assert not any(KEY in text for text in notices(window))
    finally:
        window.shutdown()


def test_after_add_ask_and_remove_the_key_is_in_no_file_and_no_chat_message(qtbot, homes, monkeypatch, clips):
    with app_log(monkeypatch) as log_path, EngineStandIn(models=(MODEL,), api_key=KEY) as standin:
        window = make_window(qtbot, homes)
        try:
            use_the_key_everywhere(qtbot, window, monkeypatch, standin, clips, homes)
            with qtbot.waitSignal(window.worker.sig_unloaded, timeout=WAIT_MS):
                remove(qtbot, window, monkeypatch, standin.url)
            qtbot.waitUntil(lambda: KEY not in keys_file(homes).read_text(), timeout=WAIT_MS)
            shown = [widget.text() for widget in window.chat.findChildren(type(window.chat.status_label))]
            assert not any(KEY in text for text in shown + notices(window))
        finally:
            window.shutdown()
    assert log_path.is_relative_to(homes) and log_path.stat().st_size > 0
    written = [path for path in homes.rglob("*") if path.is_file()]
    assert any(path.suffix == ".json" and "sessions" in path.parts for path in written)
    assert any("exports" in path.parts for path in written) and any(path.name == "settings.json" for path in written)
    for path in written:  # the key file included: the key left it with its server
        assert KEY.encode() not in path.read_bytes(), path


def test_a_listing_that_answers_after_its_server_was_removed_adds_no_rows_and_leaves_no_key(qtbot, homes, monkeypatch):
    import threading

    import desktop.windows.engine_servers as engine_servers
    from videochat.engines.keys import store_key
    from videochat.engines.servers import engine_choice

    address = "http://127.0.0.1:9"
    removed, listed = threading.Event(), threading.Event()

    def slow_listing(url, key, replace_key=False):  # the add's job, still storing the key when the user removes the server
        removed.wait(WAIT_MS / 1000)
        store_key(url, key)
        listed.set()
        return [(f"late @ {url}", engine_choice(url, "late"), "late")], None

    monkeypatch.setattr(engine_servers, "list_served_models", slow_listing)
    window = make_window(qtbot, homes)
    try:
        window.start_models()
        add_server(qtbot, window, monkeypatch, address, KEY)
        remove(qtbot, window, monkeypatch, address)
        removed.set()
        qtbot.waitUntil(listed.is_set, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: KEY not in keys_file(homes).read_text(), timeout=WAIT_MS)
        assert not any(address in text for text, _d, _on in rows(window))
        assert window.chat.model_combo.findText(SERVERS_ITEM) < 0
    finally:
        window.shutdown()


def test_a_key_the_server_refuses_mid_conversation_is_told_in_the_windows_words(qtbot, homes, monkeypatch, clips):
    with EngineStandIn(models=(MODEL,), api_key=KEY) as standin:
        window = make_window(qtbot, homes)
        try:
            load_served_model_on_a_clip(qtbot, window, monkeypatch, standin, clips)
            standin.api_key = "sk-rotated-on-the-server-4417"  # changed there, not yet here
            failed = []
            window.worker.sig_answer_failed.connect(failed.append)
            window.chat.question_box.setPlainText("What happens?")
            QTest.keyClick(window.chat.question_box, Qt.Key.Key_Return)
            qtbot.waitUntil(lambda: bool(failed), timeout=WAIT_MS)
            message = str(failed[0])
            assert f"{standin.url} refused the key given" in message and "“Servers…”" in message and "“Change key…”" in message
            assert "--api-key" not in message and "OPENAI_API_KEY" not in message and KEY not in message
        finally:
            window.shutdown()


def test_a_server_that_cannot_be_used_says_why_in_its_rows_tooltip_not_only_in_the_chat(qtbot, homes):
    with EngineStandIn(models=(MODEL,), api_key=KEY) as standin:
        window = refused_at_start(qtbot, homes, standin)
        try:
            dialog = open_servers(qtbot, window)
            item = dialog.server_list.item(0)
            assert item.text() == f"{standin.url}  —  key refused"
            assert "Change key" in item.toolTip() and item.toolTip() in notices(window)
        finally:
            window.shutdown()
