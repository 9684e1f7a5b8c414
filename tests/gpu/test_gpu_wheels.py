"""The wheels scripts/gpu-wheels.sh carries to the GPU machine are versions that pyproject.toml allows."""

from __future__ import annotations

import re

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support import REPO_ROOT


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
