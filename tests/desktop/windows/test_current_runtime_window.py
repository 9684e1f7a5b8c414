"""The window loads a model of the REAL current runtime (tiny Qwen2.5-VL) in its model process and answers with the true frame times.

The window's interpreter is the seed runtime; the model process runs in the current runtime (a stand-in
runtime folder whose interpreter execs the real current runtime's, tests/support/current_runtime.py). On a
clip with a held frame the answer also carries the times Qwen2.5-VL was told, and its bubble says so.
"""

from __future__ import annotations

import pytest

from desktop.windows.main_window import MainWindow
from tests.support.main_window import ask, open_clip
from tests.runtimes.stand_in import make_runtime
from tests.support.current_fixtures import FAMILY, held_clip, python, qwen2_5_vl  # noqa: F401 (fixtures)
from videochat.frames.pipeline import sample_frames
from videochat.settings import Settings
from videochat.video.source import VideoSource

LOAD_MS = 120_000


@pytest.fixture
def window(qtbot, tmp_path, python, qwen2_5_vl):
    make_runtime(python_script=f'#!/bin/sh\nexec "{python}" "$@"\n')  # in this test's data folder (own_app_data)
    window = MainWindow(Settings(), settings_path=tmp_path / "settings.json")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.worker.start()
    with qtbot.waitSignal(window.worker.sig_loaded, timeout=LOAD_MS):
        window.load_model(str(qwen2_5_vl))
    yield window
    window.shutdown()


def test_a_current_runtime_model_answers_in_the_window_with_the_true_frame_times_and_what_it_was_told(qtbot, window, held_clip):
    open_clip(qtbot, window, held_clip)
    answer = ask(qtbot, window, "What happens in this video?")
    with VideoSource.open(held_clip) as source:
        sample = sample_frames(source, FAMILY, answer.frames)
    assert answer.family == FAMILY and answer.text
    assert answer.indices == [int(i) for i in sample.indices]
    assert answer.times == [round(float(t), 6) for t in sample.times]
    assert window.player.answer_ticks == pytest.approx(answer.times)

    told = answer.model_times
    assert told is not None and len(told) == len(answer.times)
    assert max(abs(a - b) for a, b in zip(told, answer.times)) > 0.05
    bubble = window.chat.answer_bubbles()[-1]
    assert "the model was told other frame times" in bubble.meta_label.text()
    assert any("the model was told" in chip.toolTip() for chip in bubble.chips)
