"""`EngineSession` reads the key stored for its server at each request: a key changed (or deleted)
in "Servers…" after the connect is the one a later batch sends. Questions are covered against the
stand-in in tests/desktop/windows/test_server_management.py."""

from __future__ import annotations

from types import SimpleNamespace

from desktop.threads.engine_session import EngineRef, EngineSession
from videochat.engines.keys import forget_key, store_key

ADDRESS = "http://127.0.0.1:8000"


def session_with_key(key):
    engine = SimpleNamespace(client=SimpleNamespace(api_key=key), default_frames=8, check_frame_count=lambda count: None)
    ref = EngineRef(f"engine:{ADDRESS}|m", ADDRESS, "m", "internvl2", 8)
    return EngineSession(engine, ref)


def test_a_batch_started_after_a_key_change_sends_the_new_key_and_after_a_deletion_none(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    sent = []
    monkeypatch.setattr("videochat.batch.concurrent.run_engine_batch", lambda engine, *args, **kwargs: sent.append(engine.client.api_key))
    session = session_with_key("sk-connected-with-0001")
    store_key(ADDRESS, "sk-changed-since-0002")
    plan = SimpleNamespace(frames=None)
    session.run_batch(plan, None, None, None)
    forget_key(ADDRESS)
    session.run_batch(plan, None, None, None)
    assert sent == ["sk-changed-since-0002", None]
