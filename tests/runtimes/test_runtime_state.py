"""Whether a runtime counts as installed: only a complete install of ours; anything else is never run."""

from __future__ import annotations

import json
import os

import pytest

from tests.runtimes.stand_in import make_runtime
from videochat import errors
from videochat.runtimes import MARKER, interpreter, problem, require_interpreter, runtime_for_version, this_runtime
from videochat.runtimes.versions import list_runtimes


@pytest.fixture(autouse=True)
def data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


def test_a_runtime_that_was_never_installed_says_how_to_install_it():
    assert interpreter("current") is None and problem("current") == "not installed"
    with pytest.raises(errors.RuntimeNotInstalled, match=r"InternVL3-1B needs the current runtime \(transformers 5.x\): install it with `videochat runtime install current` or from the model manager") as caught:
        require_interpreter("current", "InternVL3-1B")
    assert caught.value.runtime == "current"


def test_a_complete_install_is_found_and_listed_with_the_versions_its_own_interpreter_reports():
    folder = make_runtime()
    assert interpreter("current") == folder / "bin" / "python"
    listed = {state.name: state.to_dict() for state in list_runtimes()}
    assert listed["current"]["installed"] and listed["current"]["location"] == str(folder)
    assert listed["current"]["transformers"] and listed["current"]["python"] and listed["current"]["size_bytes"] > 0
    assert listed["seed"]["installed"]


RAN = "ran.txt"


def booby_trapped(tmp_path) -> str:
    return f"#!/bin/sh\necho ran > {tmp_path / RAN}\n"


@pytest.mark.parametrize("damage, why", [
    (lambda folder: (folder / MARKER).write_text("{not json"), "marker"),
    (lambda folder: (folder / MARKER).unlink(), "marker"),
    (lambda folder: (folder / MARKER).write_text(json.dumps({"name": "current", "format": 1, "complete": False})), "marker"),
    (lambda folder: (folder / MARKER).write_text(json.dumps({"name": "seed", "format": 1, "complete": True})), "marker"),
    (lambda folder: ((folder / MARKER).unlink(), os.mkfifo(folder / MARKER)), "marker"),
    (lambda folder: (folder / "bin" / "python").unlink(), "interpreter"),
    (lambda folder: (folder / "pyvenv.cfg").unlink(), "interpreter"),
    (lambda folder: folder.chmod(0o777), "others may write"),
])
def test_a_damaged_or_hostile_runtime_folder_is_not_installed_and_its_interpreter_never_runs(tmp_path, damage, why):
    folder = make_runtime(python_script=booby_trapped(tmp_path))
    damage(folder)
    assert why in problem("current")
    assert interpreter("current") is None
    listed = {state.name: state for state in list_runtimes(with_sizes=False)}
    assert not listed["current"].installed and why in listed["current"].problem
    with pytest.raises(errors.RuntimeNotInstalled):
        require_interpreter("current", "Qwen3-VL-8B-Instruct")
    assert not (tmp_path / RAN).exists()


def test_a_link_in_place_of_the_runtime_folder_is_not_followed(tmp_path):
    elsewhere = make_runtime()
    moved = tmp_path / "elsewhere"
    elsewhere.rename(moved)
    elsewhere.symlink_to(moved)
    assert problem("current") == "its folder is not a folder"


def test_the_runtime_of_an_interpreter_and_of_a_config_follow_transformers_4_49():
    assert this_runtime() == "seed"  # the test suite runs on the seed's transformers 4.48
    assert [runtime_for_version(v) for v in [(), (4, 48), (4, 49), (5, 25)]] == ["seed", "seed", "current", "current"]


def test_listed_from_inside_the_current_runtime_the_seed_is_not_taken_for_that_interpreter(monkeypatch):
    import videochat.runtimes

    make_runtime()
    monkeypatch.setattr(videochat.runtimes, "this_runtime", lambda: "current")
    listed = {state.name: state for state in list_runtimes(with_sizes=False)}
    assert not listed["seed"].installed and "app's own" in listed["seed"].problem
    assert listed["current"].installed
