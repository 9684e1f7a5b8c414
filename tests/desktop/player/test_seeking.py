"""Where the player puts Qt's position for a frame: plain functions on the core's Timeline, no Qt."""

from __future__ import annotations

import pytest

from desktop.player.seeking import last_shown_frame, seek_target
from videochat.video.timeline import Timeline


def test_a_seek_on_constant_rate_video_aims_at_the_frame_time_plus_half_a_frame():
    timeline = Timeline([0.0, 0.04, 0.08, 0.12], end=0.16)
    assert [seek_target(timeline, 0.04, index) for index in range(4)] == pytest.approx([0.02, 0.06, 0.10, 0.14])


def test_a_seek_lands_inside_the_frames_true_interval_on_variable_rate_video():
    timeline = Timeline([0.0, 0.04, 0.10, 0.14], end=0.2)
    for index in range(4):
        target = seek_target(timeline, 0.05, index)
        assert timeline.frame_at(target) == index


def test_frames_past_the_players_end_are_held_back_to_the_last_one_it_can_show():
    # As in vfr.mp4: the container's duration ends before the last frames' times.
    timeline = Timeline([0.0, 1.0, 2.0, 3.0], end=4.0)
    assert last_shown_frame(timeline, 1.0, end_ms=2600) == 2
    assert last_shown_frame(timeline, 1.0, end_ms=0) == 3  # the end not known yet: nothing held back
