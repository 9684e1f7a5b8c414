"""The build refuses a package list that a runtime install would refuse (an option, a URL, a range), before it
builds anything, so that no bundle ships a list its users' installs then stop at."""

from __future__ import annotations

import pytest

from tests.support.build_scripts import runtime_wheel


def test_a_package_list_that_is_not_plain_pins_fails_the_build_before_the_wheel_is_made(tmp_path, monkeypatch):
    module = runtime_wheel()
    listed = tmp_path / "current-requirements.txt"
    listed.write_text("torch==2.13.0\n--extra-index-url https://evil.example/simple\n")
    monkeypatch.setattr(module, "requirements_file", lambda name: listed)
    monkeypatch.setattr(module, "make_wheel", lambda *args: pytest.fail("the wheel was built"))
    with pytest.raises(SystemExit, match="line 2"):
        module.bundle_datas(tmp_path)
