"""Shared fixtures: generated frame-coded clips (made once per run) and a quiet, 1-thread torch."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# The app's data and logs (download records, log file) go to a folder of this run, never the user's.
_SCRATCH = tempfile.mkdtemp(prefix="videochat-tests-")
os.environ["XDG_DATA_HOME"] = os.path.join(_SCRATCH, "data")
os.environ["XDG_STATE_HOME"] = os.path.join(_SCRATCH, "state")


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    # The build machines have 2 cores; more torch threads only contend with the decoder.
    import torch

    torch.set_num_threads(1)


class ClipFactory:
    """Generates each named clip once per test session, on first use."""

    SPECS = {
        "plain.mp4": dict(frames=90),
        "long_gop.mp4": dict(frames=150, keyframe_interval=60),
        "vfr.mp4": dict(frames=90, durations_ms=[33, 50, 17, 100]),
        "phone.mp4": dict(frames=45, width=180, height=320, rotation=270),
        "rotated90.mp4": dict(frames=45, rotation=90),
        "vp9.webm": dict(frames=60, codec="libvpx-vp9"),
        "mpeg4.avi": dict(frames=40, codec="mpeg4", b_frames=0),
        "hevc.mkv": dict(frames=50, codec="libx265"),
        "one_frame.mp4": dict(frames=1),
        "short.mp4": dict(frames=5),
        "faststart.mp4": dict(frames=90, faststart=True),
    }

    def __init__(self, folder: Path):
        self.folder = folder

    def __call__(self, name: str) -> Path:
        from tests.support import clips as testing

        path = self.folder / name
        if not path.exists():
            testing.write_clip(path, **self.SPECS[name])
        return path


@pytest.fixture(scope="session")
def clips(tmp_path_factory) -> ClipFactory:
    return ClipFactory(tmp_path_factory.mktemp("clips"))
