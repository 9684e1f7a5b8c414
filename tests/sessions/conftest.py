from __future__ import annotations

import pytest

from videochat.sessions.session import VideoIdentity
from videochat.sessions.store import SessionStore


@pytest.fixture
def video(tmp_path) -> VideoIdentity:
    path = tmp_path / "clip é.mp4"
    path.write_bytes(b"\0" * 100)
    return VideoIdentity(str(path), 100, duration=4.0, fps=25.0, frame_count=100)


@pytest.fixture
def store(tmp_path) -> SessionStore:
    return SessionStore(tmp_path / "sessions")
