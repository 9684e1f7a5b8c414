"""The frozen app installs a runtime's copy of VideoChat from the one wheel the build put in `_internal/runtime/`,
and refuses, saying what to do, when that wheel is missing, doubled, or reached through a link out of the app."""

from __future__ import annotations

import os
import sys

import pytest

from videochat import errors
from videochat.runtimes.sources import BUNDLE_WHEELS, bundled_wheel, project_source

WHEEL = "videochat_desktop-0.1.0-py3-none-any.whl"


@pytest.fixture
def app(tmp_path, monkeypatch):
    """A one-folder app as PyInstaller lays it out, and this process pretending to be its frozen program."""
    folder = tmp_path / "VideoChat"
    internal = folder / "_internal"
    internal.mkdir(parents=True)
    (folder / "videochat-console").write_bytes(b"")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(internal), raising=False)
    monkeypatch.setattr(sys, "executable", str(folder / "videochat-console"))
    return folder


def wheels(app):
    folder = app / "_internal" / BUNDLE_WHEELS
    folder.mkdir(exist_ok=True)
    return folder


def test_the_frozen_app_installs_its_code_from_the_one_wheel_the_build_put_in_its_runtime_folder(app, tmp_path):
    (wheels(app) / WHEEL).write_bytes(b"PK")
    with project_source(tmp_path / "work") as source:
        assert source == app / "_internal" / BUNDLE_WHEELS / WHEEL
    assert not (tmp_path / "work").exists()  # nothing copied: the source tree is not there to copy


def test_an_app_built_without_the_wheel_says_to_build_it_again(app):
    with pytest.raises(errors.RuntimeInstallError, match="built without the wheel .*scripts/build-app.sh"):
        bundled_wheel()
    wheels(app)
    with pytest.raises(errors.RuntimeInstallError, match=r"exactly one wheel .* holds 0 \(none\).*scripts/build-app.sh"):
        bundled_wheel()


def test_several_wheels_are_refused_rather_than_one_picked(app):
    (wheels(app) / WHEEL).write_bytes(b"PK")
    (wheels(app) / "videochat_desktop-0.0.9-py3-none-any.whl").write_bytes(b"PK")
    with pytest.raises(errors.RuntimeInstallError, match=r"exactly one wheel .* holds 2 \(videochat_desktop-0.0.9.*, videochat_desktop-0.1.0"):
        bundled_wheel()


def test_a_wheel_of_another_project_or_for_one_python_is_refused(app):
    (wheels(app) / "videochat_desktop-0.1.0-cp311-cp311-linux_x86_64.whl").write_bytes(b"PK")
    with pytest.raises(errors.RuntimeInstallError, match="is not a wheel of VideoChat's own code"):
        bundled_wheel()


def test_a_link_in_place_of_the_wheel_that_leads_out_of_the_app_is_refused(app, tmp_path):
    elsewhere = tmp_path / "elsewhere.whl"
    elsewhere.write_bytes(b"PK")
    (wheels(app) / WHEEL).symlink_to(elsewhere)
    with pytest.raises(errors.RuntimeInstallError, match=f"is a link to .*{elsewhere.name}, outside the app's folder: build the app again"):
        bundled_wheel()


def test_a_link_in_place_of_the_runtime_folder_that_leads_out_of_the_app_is_refused(app, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / WHEEL).write_bytes(b"PK")
    (app / "_internal" / BUNDLE_WHEELS).symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(errors.RuntimeInstallError, match="is a link to .*elsewhere, outside the app's folder"):
        bundled_wheel()


def test_a_link_within_the_app_is_followed_as_macos_bundles_link_their_data(app):
    # PyInstaller's .app keeps data in Contents/Resources and links it from Contents/Frameworks (_MEIPASS).
    resources = app / "Resources" / BUNDLE_WHEELS
    resources.mkdir(parents=True)
    (resources / WHEEL).write_bytes(b"PK")
    (app / "_internal" / BUNDLE_WHEELS).symlink_to(resources, target_is_directory=True)
    assert bundled_wheel() == app / "_internal" / BUNDLE_WHEELS / WHEEL


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX's")
def test_a_wheel_that_is_not_a_regular_file_is_refused_before_pip_would_hang_on_it(app):
    os.mkfifo(wheels(app) / WHEEL)
    with pytest.raises(errors.RuntimeInstallError, match="is not a regular file: build the app again"):
        bundled_wheel()


def test_a_folder_named_like_the_wheel_or_a_link_to_nothing_is_not_a_wheel(app):
    (wheels(app) / WHEEL).mkdir()
    with pytest.raises(errors.RuntimeInstallError, match="is not a regular file"):
        bundled_wheel()
    (wheels(app) / WHEEL).rmdir()
    (wheels(app) / WHEEL).symlink_to(app / "_internal" / "gone.whl")
    with pytest.raises(errors.RuntimeInstallError, match="is not a regular file"):
        bundled_wheel()


def test_a_file_in_place_of_the_runtime_folder_is_refused(app):
    (app / "_internal" / BUNDLE_WHEELS).write_bytes(b"")
    with pytest.raises(errors.RuntimeInstallError, match="is not a folder"):
        bundled_wheel()
