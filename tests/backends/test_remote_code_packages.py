"""The seed families' code imports timm (which imports torchvision): where it is missing or broken, the load says what to run.

The stand-ins import `timm.models.layers.DropPath` as the real code does. Here a test-only timm
(tests/support/timm_stub) is put first on the path and told to behave as missing or as a timm
whose torchvision was built for another torch, so that these paths are the same wherever the
tests run, whether a real timm is installed or not.
"""

from __future__ import annotations

import importlib
import sys
from types import SimpleNamespace

import pytest

from tests.support.standins import build_hub_extras, build_internvideo2, build_internvideo25, build_internvl2, isolate_hf_caches
from tests.support.standins.builders import TIMM_STUB
from videochat import errors
from videochat.backends import create_backend
from videochat.backends.base import LoadOptions
from videochat.models.resolve import resolve_model
from videochat.models.torch_pairs import NEEDS, fix_command, installed_torch

BUILDERS = {"internvl2": build_internvl2, "internvideo2.5": build_internvideo25, "internvideo2": build_internvideo2}


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("timm-home")
    with isolate_hf_caches(root) as (hub_cache, modules_cache):
        build_hub_extras(hub_cache, root / "scratch")
        folders = {family: build(root / "models" / f"{family.replace('.', '_')}-tiny") for family, build in BUILDERS.items()}
        yield SimpleNamespace(folders=folders, modules_cache=modules_cache)


@pytest.fixture
def timm_as(monkeypatch):
    """Make `import timm` in this process fail as `mode` says, whatever timm is installed."""

    def hide(mode: str) -> None:
        for name in [name for name in sys.modules if name == "timm" or name.startswith("timm.")]:
            monkeypatch.delitem(sys.modules, name)
        monkeypatch.syspath_prepend(str(TIMM_STUB))
        monkeypatch.setenv("VIDEOCHAT_TEST_TIMM", mode)
        importlib.invalidate_caches()

    return hide


def load(folder):
    backend = create_backend(resolve_model(str(folder)), LoadOptions(trust_remote_code=True))
    backend.load()
    return backend


@pytest.mark.parametrize("family", BUILDERS)
def test_a_seed_model_whose_timm_is_missing_fails_to_load_with_the_one_command_that_installs_the_pair(checkpoints, timm_as, family):
    timm_as("absent")
    with pytest.raises(errors.MissingPackages) as raised:
        load(checkpoints.folders[family])
    message = str(raised.value)
    assert NEEDS in message and "timm is not installed" in message and sys.executable in message
    assert message.endswith(fix_command(sys.executable, installed_torch()))
    assert "\n" not in message


def test_a_timm_that_fails_to_import_beside_this_torch_is_the_same_typed_error_with_the_cause(checkpoints, timm_as):
    timm_as("broken")
    with pytest.raises(errors.MissingPackages) as raised:
        load(checkpoints.folders["internvl2"])
    assert "RuntimeError: operator torchvision::nms does not exist" in str(raised.value)
    assert str(raised.value).endswith(fix_command(sys.executable, installed_torch()))


def test_the_same_model_loads_once_timm_imports_again(checkpoints, timm_as, monkeypatch):
    timm_as("absent")
    with pytest.raises(errors.MissingPackages):
        load(checkpoints.folders["internvl2"])
    monkeypatch.setenv("VIDEOCHAT_TEST_TIMM", "")
    backend = load(checkpoints.folders["internvl2"])
    try:
        assert backend.model is not None
    finally:
        backend.unload()


def test_a_missing_package_that_is_not_timm_keeps_its_own_message():
    from videochat.backends.remote_code import load_error

    ref = SimpleNamespace(display_name="Some model", family="internvl2")
    error = ImportError("This modeling file requires the following packages that were not found in your environment: somepkg. Run `pip install somepkg`")
    typed = load_error(ref, "/nowhere", error)
    assert type(typed) is errors.ModelLoadError and "pip install somepkg" in str(typed)
