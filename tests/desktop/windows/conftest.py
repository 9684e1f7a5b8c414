"""The server tests' app folders: `homes`, with the models on disk the window lists."""

from __future__ import annotations

import pytest

LOCAL = [("InternVL2-1B", "OpenGVLab/InternVL2-1B")]


@pytest.fixture
def homes(tmp_path, monkeypatch):
    """The app's folders, all under this test's tmp_path: every file the app writes can be read back."""
    for name in ("CONFIG", "DATA", "CACHE", "STATE"):
        monkeypatch.setenv(f"XDG_{name}_HOME", str(tmp_path / name.lower()))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setattr("desktop.threads.model_choices.models_on_disk", lambda: list(LOCAL))
    return tmp_path
