"""What the engine tests share: a clip whose every frame carries its own index in its pixels."""

from __future__ import annotations

import pytest

from tests.support.clips import write_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("engine-clip") / "clip.mp4", frames=90)
