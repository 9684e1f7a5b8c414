"""The start-up's shortcuts: PySide6's feature scan answered for the app's own modules and the standard
library's without reading them."""

from __future__ import annotations

import inspect
import sys
import textwrap

import pytest

import desktop.player.pane
import videochat.video.timeline
from desktop.app import _answer_pyside_feature_scan


def test_the_app_and_standard_library_modules_are_answered_without_reading_their_source_and_others_are_read_as_before(monkeypatch):
    feature = sys.modules.get("shibokensupport.feature")
    if getattr(feature, "_mod_uses_pyside", None) is None:
        pytest.skip("this PySide6 has no feature scan")
    monkeypatch.setattr(feature, "_mod_uses_pyside", feature._mod_uses_pyside)  # put back after the test
    read = []
    real_getsource = inspect.getsource
    monkeypatch.setattr(inspect, "getsource", lambda module: read.append(module.__name__) or real_getsource(module))

    _answer_pyside_feature_scan()
    _answer_pyside_feature_scan()  # a second call does not wrap it again
    assert feature._mod_uses_pyside(desktop.player.pane) is True
    assert feature._mod_uses_pyside(videochat.video.timeline) is False
    assert feature._mod_uses_pyside(textwrap) is False and feature._mod_uses_pyside(inspect) is False
    assert read == []
    assert feature._mod_uses_pyside(pytest) is False and read == ["pytest"]  # installed beside PySide6: read


def test_after_the_first_paint_collection_resumes_without_walking_the_start_ups_objects_again():
    import gc

    from desktop.app import _collect_from_now_on

    gc.disable()
    gc.unfreeze()
    try:
        _collect_from_now_on()
        assert gc.isenabled() and gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()
        gc.enable()


def test_the_font_database_loads_on_a_thread_of_its_own_while_the_window_is_built(qapp):
    from PySide6.QtGui import QFontDatabase

    from desktop.app import _load_fonts_meanwhile

    thread = _load_fonts_meanwhile()
    assert thread.name == "videochat-fonts" and thread.daemon  # never keeps a failed start-up from exiting
    thread.join(30)
    assert not thread.is_alive() and QFontDatabase.families()


def test_a_start_without_arguments_gets_the_parsers_defaults_without_building_it(monkeypatch):
    import argparse

    from desktop import app

    expected = vars(app.build_parser().parse_args([]))
    monkeypatch.setattr(argparse.ArgumentParser, "__init__", lambda *_, **__: pytest.fail("the parser was built"))
    assert vars(app.parse_args([])) == expected
