"""The model manager window against the local stand-in of the Hub: download, pause, resume, token, offline."""

from __future__ import annotations

import os

import pytest
from PySide6.QtWidgets import QInputDialog

from desktop.windows.model_manager import ModelManager
from tests.support.hub_server import serving_this_process
from videochat.models import record as download_record, downloads, plan as planning

WAIT_MS = 60_000
LLAVA = "llava-hf/llava-onevision-qwen2-0.5b-ov-hf"
LLAVA_NAME = "llava-onevision-qwen2-0.5b-ov-hf"
BIG = "test/big-weights"
BIG_SIZE = 16 << 20
GATED = "mistralai/Mistral-7B-Instruct-v0.3"
ALICE = "hf_" + "a" * 34
BOB = "hf_" + "b" * 34


@pytest.fixture(scope="module")
def tiny_llava(tmp_path_factory):
    from tests.support.tiny_native import build_llava_onevision

    return build_llava_onevision(tmp_path_factory.mktemp("llava"))


@pytest.fixture
def fake_hub(tmp_path, monkeypatch, tiny_llava):
    with serving_this_process(tmp_path, monkeypatch) as server:
        server.add_repo(LLAVA, tiny_llava)
        server.add_repo(BIG, {"config.json": b"{}", "model.safetensors": os.urandom(BIG_SIZE)})
        server.add_repo(GATED, {"config.json": b"{}", "model.safetensors": b"m" * 4000}, gated=True)
        server.add_token(ALICE, user="alice", gated_access={GATED})
        server.add_token(BOB, user="bob")
        yield server


@pytest.fixture
def manager(qtbot, fake_hub):
    window = ModelManager()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.status_text(LLAVA_NAME) == "not downloaded", timeout=WAIT_MS)
    yield window
    window.worker.shutdown()


def answers(monkeypatch, *replies: str) -> None:
    """QInputDialog.getText answers these, in order."""
    queue = list(replies)
    monkeypatch.setattr(QInputDialog, "getText", lambda *args, **kwargs: (queue.pop(0), True))


def test_a_model_downloads_with_moving_progress_then_is_ready_to_use(qtbot, manager, fake_hub):
    fake_hub.bytes_per_second = 4 << 20
    progress = []
    manager.worker.sig_progress.connect(lambda model, p: progress.append(p.fraction))
    manager.select(LLAVA_NAME)
    with qtbot.waitSignal(manager.sig_models_changed, timeout=WAIT_MS):
        manager.download_button.click()
        qtbot.waitUntil(lambda: manager.status_text(LLAVA_NAME).startswith("downloading"), timeout=WAIT_MS)
    assert len(progress) >= 3 and progress == sorted(progress) and progress[-1] == 1.0
    qtbot.waitUntil(lambda: manager.status_text(LLAVA_NAME) == "ready", timeout=WAIT_MS)
    assert manager.use_button.isEnabled()
    with qtbot.waitSignal(manager.sig_use_model) as used:
        manager.use_button.click()
    assert used.args == [LLAVA_NAME]


def test_pause_keeps_what_came_and_resume_fetches_only_the_rest(qtbot, manager, fake_hub, monkeypatch):
    fake_hub.bytes_per_second = 8 << 20
    answers(monkeypatch, BIG)
    fractions = [0.0]
    manager.worker.sig_progress.connect(lambda model, p: fractions.append(p.fraction))
    manager.add_button.click()  # adds the repo to the table and starts it
    qtbot.waitUntil(lambda: fractions[-1] > 0.25, timeout=WAIT_MS)
    with qtbot.waitSignal(manager.worker.sig_stopped, timeout=WAIT_MS) as stopped:
        manager.pause_button.click()
    assert stopped.args == [BIG, True]
    qtbot.waitUntil(lambda: manager.status_text(BIG).startswith("partial"), timeout=WAIT_MS)
    manager.select(BIG)
    assert manager.download_button.text() == "Resume"
    fake_hub.wait_idle()
    on_disk = planning.plan(BIG).on_disk_bytes
    fake_hub.reset_counters()
    fake_hub.bytes_per_second = None

    with qtbot.waitSignal(manager.worker.sig_finished, timeout=WAIT_MS):
        manager.download_button.click()
    assert fake_hub.bytes_sent(BIG) <= BIG_SIZE + 2 - on_disk + downloads.CHUNK_BYTES
    qtbot.waitUntil(lambda: manager.status_text(BIG) == "ready", timeout=WAIT_MS)


def test_a_gated_model_asks_for_the_token_checks_it_stores_it_and_goes_on(qtbot, manager, monkeypatch):
    from huggingface_hub import get_token

    answers(monkeypatch, GATED, ALICE)  # the repo id, then the token when the hub asks for one
    with qtbot.waitSignal(manager.worker.sig_finished, timeout=WAIT_MS):
        manager.add_button.click()
    assert get_token() == ALICE
    assert "Token of alice saved" in manager.message_label.text()
    assert ALICE not in manager.message_label.text()


def test_a_licence_not_accepted_is_explained_with_a_link(qtbot, manager, monkeypatch):
    from videochat.models import hub

    hub.save_token(BOB)
    answers(monkeypatch, GATED)
    with qtbot.waitSignal(manager.worker.sig_failed, timeout=WAIT_MS):
        manager.add_button.click()
    text = manager.message_label.text()
    assert "accept its licence" in text and f"https://huggingface.co/{GATED}" in text


def test_with_the_hub_gone_the_manager_says_offline_and_models_on_disk_stay_ready(qtbot, manager, fake_hub):
    manager.select(LLAVA_NAME)
    with qtbot.waitSignal(manager.worker.sig_finished, timeout=WAIT_MS):
        manager.download_button.click()
    fake_hub.go_offline()
    manager.refresh()
    qtbot.waitUntil(lambda: "offline" in manager.hub_label.text(), timeout=5000)
    qtbot.waitUntil(lambda: manager.status_text(LLAVA_NAME) == "ready", timeout=WAIT_MS)


def test_an_update_on_the_hub_is_shown_and_fetched_only_when_asked(qtbot, manager, fake_hub):
    manager.select(LLAVA_NAME)
    with qtbot.waitSignal(manager.worker.sig_finished, timeout=WAIT_MS):
        manager.download_button.click()
    first = download_record.recorded_revision(LLAVA)
    newer = fake_hub.update_repo(LLAVA, {"README.md": b"newer"}, keep_others=True)
    manager.refresh()
    qtbot.waitUntil(lambda: manager.status_text(LLAVA_NAME) == "ready · update available", timeout=WAIT_MS)
    assert download_record.recorded_revision(LLAVA) == first
    manager.select(LLAVA_NAME)
    with qtbot.waitSignal(manager.worker.sig_finished, timeout=WAIT_MS):
        manager.update_button.click()
    assert download_record.recorded_revision(LLAVA) == newer


def test_the_manager_shows_each_catalog_model_by_its_label_with_the_repo_id_on_hover(manager):
    from videochat.models.catalog import CATALOG

    shown = {manager.table.item(row, 0).text(): manager.table.item(row, 0).toolTip() for row in range(manager.table.rowCount())}
    assert shown["InternVideo2-Chat-8B-HD"] == "OpenGVLab/InternVideo2_chat_8B_HD"
    assert shown["InternVideo2.5-Chat-8B"] == "OpenGVLab/InternVideo2_5_Chat_8B"
    assert set(shown) >= {entry.label for entry in CATALOG}


def test_adding_a_repo_keeps_the_other_rows_fit_and_status(qtbot, manager, monkeypatch):
    from desktop.windows.model_table import FITS

    fits = lambda: [manager.table.item(row, FITS).text() for row in range(manager.table.rowCount())]  # noqa: E731
    qtbot.waitUntil(lambda: all(fits()), timeout=WAIT_MS)
    before = fits()
    answers(monkeypatch, BIG)
    with qtbot.waitSignal(manager.worker.sig_finished, timeout=WAIT_MS):
        manager.add_button.click()
        assert fits() == before + ["?"]
        assert manager.status_text(LLAVA_NAME) == "not downloaded"
