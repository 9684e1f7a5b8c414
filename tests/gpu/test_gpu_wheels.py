"""The wheels scripts/gpu-wheels.sh carries to the GPU machine are versions that pyproject.toml allows."""

from __future__ import annotations

import re
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support import REPO_ROOT


# What the carried packages may take from the GPU machine's python3 rather than carry: what its own torch 2.11,
# torchvision 0.26, transformers 5.17, huggingface_hub 1.x, accelerate and timm need, so it stays there while
# they do (read off their metadata in the rehearsal of docs/gpu-check.md). Not requests: huggingface_hub 1.x
# moved to httpx, and the image holds requests by chance.
FROM_THE_GPU_MACHINE = {
    "torch", "numpy", "packaging", "pyyaml", "regex", "tqdm", "safetensors", "filelock", "fsspec", "hf-xet",
    "typing-extensions", "psutil", "accelerate", "pillow", "certifi", "idna",
}
# The GPU machine's interpreter, for the requirements' markers.
GPU_MACHINE = {"python_version": "3.12", "python_full_version": "3.12.3", "sys_platform": "linux",
               "platform_system": "Linux", "platform_machine": "x86_64", "implementation_name": "cpython"}


def carried_pins() -> dict[str, str]:
    script = (REPO_ROOT / "scripts" / "gpu-wheels.sh").read_text(encoding="utf-8")
    return {canonicalize_name(name): version for name, version in re.findall(r"([A-Za-z0-9_.-]+)==([0-9][0-9A-Za-z.]*)", script)}


def test_every_carried_wheel_is_a_version_the_project_allows():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11 and later
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [Requirement(text) for text in project["dependencies"]]
    pins = carried_pins()
    assert {"transformers", "tokenizers", "huggingface-hub", "peft"} <= set(pins)
    outside = {
        requirement.name: (pins[canonicalize_name(requirement.name)], str(requirement.specifier))
        for requirement in requirements
        if canonicalize_name(requirement.name) in pins and pins[canonicalize_name(requirement.name)] not in requirement.specifier
    }
    assert outside == {}


def test_what_the_carried_wheels_need_is_carried_or_on_the_gpu_machine():
    pins = carried_pins()
    # Read off this venv where it has the carried version (bitsandbytes and its CUDA libraries are not installed here).
    read = {name for name, version in pins.items() if _installed_version(name) == version}
    assert {"transformers", "tokenizers", "huggingface-hub", "peft"} <= read
    needed = {
        canonicalize_name(requirement.name): name
        for name in read
        for requirement in map(Requirement, metadata.requires(name) or [])
        if requirement.marker is None or requirement.marker.evaluate({**GPU_MACHINE, "extra": ""})
    }
    missing = {need: wanted_by for need, wanted_by in needed.items() if need not in pins and need not in FROM_THE_GPU_MACHINE}
    assert missing == {}


def _installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
