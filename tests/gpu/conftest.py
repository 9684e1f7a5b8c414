"""Fixtures of the GPU tests: the checkpoints, built once for this folder, and models loaded once per device and precision.

Tests marked `gpu` are skipped where torch sees no CUDA device (CI, this build machine); their CPU
twins (the same body with device "cpu") run everywhere, so the code of every test runs in CI too.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.gpu.checkpoints import build_checkpoints, load, prepared_in_memory
from tests.support.standins import isolate_hf_caches
from videochat.models.resolve import resolve_model


def pytest_collection_modifyitems(config, items):
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="no CUDA device here (torch.cuda.is_available() is False): scripts/gpu-check.sh runs these on a GPU")
    for item in items:
        if item.get_closest_marker("gpu") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="package")
def hf(tmp_path_factory):
    root = tmp_path_factory.mktemp("gpu-hf-home")
    with isolate_hf_caches(root) as (hub_cache, modules_cache):
        yield SimpleNamespace(root=root, hub_cache=hub_cache, modules_cache=modules_cache)


@pytest.fixture(scope="package")
def checkpoints(hf):
    return build_checkpoints(hf.root / "models", hf.hub_cache)


@pytest.fixture(scope="package")
def prepared(checkpoints):
    """Each family's frames, prepared from pictures in memory."""
    return {family: prepared_in_memory(resolve_model(str(folder)).family) for family, folder in checkpoints.items()}


class Loaded:
    """Models loaded once per (family, device, precision) for the tests that only ask; unloaded at the end."""

    def __init__(self, checkpoints):
        self.checkpoints = checkpoints
        self.backends = {}

    def __call__(self, family: str, device: str, precision: str = "bfloat16"):
        key = (family, device, precision)
        if key not in self.backends:
            self.backends[key] = load(self.checkpoints[family], device=device, precision=precision)
        return self.backends[key]

    def unload_all(self) -> None:
        for backend in self.backends.values():
            backend.unload()
        self.backends.clear()


@pytest.fixture(scope="package")
def loaded(checkpoints):
    models = Loaded(checkpoints)
    yield models
    models.unload_all()
