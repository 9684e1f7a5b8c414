"""The timeline's conventions on a constant-rate and a variable-frame-rate clip: one frame, one time."""

from __future__ import annotations

import numpy as np
import pytest

from videochat import errors
from videochat.frames.sampling import sample_internvl2
from videochat.video.timecode import milliseconds
from videochat.video.timeline import InOut, Timeline
from videochat.video.info import probe


@pytest.fixture(params=["plain.mp4", "vfr.mp4"])
def info(request, clips):
    return probe(clips(request.param))


def test_the_frame_at_a_frames_time_is_that_frame_also_when_the_time_is_rounded_to_the_millisecond(info):
    timeline = Timeline.of(info)
    for index, seconds in enumerate(info.times):
        assert timeline.frame_at(seconds) == index
        assert timeline.frame_at(milliseconds(seconds) / 1000) == index
        assert timeline.time_of(index) == seconds


def test_the_frame_at_a_time_inside_a_frame_is_the_frame_on_screen(info):
    timeline = Timeline.of(info)
    for index in range(info.frame_count):
        middle = (timeline.time_of(index) + timeline.frame_end(index)) / 2
        assert timeline.frame_at(middle) == index
    assert timeline.frame_at(-5.0) == 0
    assert timeline.frame_at(info.duration + 5.0) == info.frame_count - 1


def test_a_frame_ends_at_the_next_frames_time_and_the_last_at_the_end_of_the_video(info):
    timeline = Timeline.of(info)
    for index in range(info.frame_count - 1):
        assert timeline.frame_end(index) == info.times[index + 1]
    assert timeline.frame_end(info.frame_count - 1) == pytest.approx(info.times[0] + info.duration)


def test_the_span_of_in_and_out_frames_maps_back_to_exactly_those_frames(info):
    timeline = Timeline.of(info)
    for first, last in [(0, 0), (0, info.frame_count - 1), (38, 39), (10, 42), (85, 89), (89, 89)]:
        start, end = timeline.span(first, last)
        assert (start, end) == (info.times[first], timeline.frame_end(last))
        assert timeline.frames_in(start, end) == (first, last)
        # as a note stores it: to the millisecond
        assert timeline.frames_in(milliseconds(start) / 1000, milliseconds(end) / 1000) == (first, last)


def test_a_span_too_short_for_a_frames_time_takes_the_frame_on_screen_at_its_start(info):
    timeline = Timeline.of(info)
    start = (info.times[40] + info.times[41]) / 2
    assert timeline.frames_in(start, start + 1e-3) == (40, 40)


@pytest.mark.parametrize(
    ("span", "words"),
    [((5.0, 6.0), "starts after the end"), ((2.0, 1.0), "comes before its in point"), ((1.0, 1.0), "both at 1.0 s"),
     ((-3.0, -1.0), "before the clip begins"), ((float("nan"), 1.0), "not a span of time")],
)
def test_bad_spans_are_refused_with_a_message(clips, span, words):
    timeline = Timeline.of(probe(clips("plain.mp4")))
    with pytest.raises(errors.InvalidSegment, match=words):
        timeline.frames_in(*span)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"start": 50.0}, "The segment starts after the end of the clip (3.0 s): its in point is 50.0 s; set it before 3.0 s."),
        ({"end": 0.0}, "The segment ends at the very start of the clip (0.0 s): set its out point after it."),
        ({"start": 5.0, "end": 3.0}, "The segment's out point (3.0 s) comes before its in point (5.0 s): set the out point after the in point."),
    ],
)
def test_a_segment_given_by_one_or_both_points_is_refused_naming_the_points_given(clips, given, message):
    timeline = Timeline.of(probe(clips("plain.mp4")))
    with pytest.raises(errors.InvalidSegment) as refused:
        timeline.segment(**given)
    assert str(refused.value) == message


def test_a_segment_missing_a_point_runs_from_the_start_or_to_the_end(clips):
    timeline = Timeline.of(probe(clips("plain.mp4")))
    assert timeline.segment(start=2.0) == (2.0, timeline.end)
    assert timeline.segment(end=1.0) == (timeline.start, 1.0)
    assert timeline.segment(1.01, 1.02) == (1.01, 1.02)  # too short for a frame's time: still a segment


def test_a_span_ending_at_the_end_of_the_video_holds_the_last_frame(info):
    timeline = Timeline.of(info)
    assert timeline.frames_in(timeline.time_of(80), timeline.end)[1] == info.frame_count - 1
    assert timeline.frame_ending_at(timeline.end) == info.frame_count - 1
    assert timeline.frame_ending_at(timeline.frame_end(40)) == 40


def test_in_and_out_are_frames_and_the_mark_just_made_wins(clips):
    timeline = Timeline.of(probe(clips("plain.mp4")))
    marks = InOut()
    assert marks.span(timeline) is None
    marks.set_in(30)
    assert marks.frames(timeline) == (30, 89)
    marks.set_out(30)  # one frame is a segment
    assert marks.frames(timeline) == (30, 30)
    assert marks.span(timeline) == (timeline.time_of(30), timeline.time_of(31))
    marks.set_out(20)  # before the in: the in goes
    assert marks.frames(timeline) == (0, 20)
    marks.set_in(50)  # after the out: the out goes
    assert marks.frames(timeline) == (50, 89)
    assert marks.span(timeline) == (timeline.time_of(50), timeline.end)
    marks.clear()
    assert marks.frames(timeline) is None


def test_the_sampler_takes_the_in_frame_to_the_out_frame_and_not_the_frame_after(info):
    timeline = Timeline.of(info)
    for first, last in [(10, 20), (38, 42), (0, 7), (80, 89)]:
        sample = sample_internvl2(info, 64, timeline.span(first, last))
        assert list(sample.indices) == list(range(first, last + 1))
        np.testing.assert_array_equal(sample.times, info.times[first : last + 1])


def test_on_vfr_the_sampler_the_note_from_an_answer_and_the_timeline_agree(clips):
    from videochat.chat import Answer
    from videochat.sessions.session import Session, VideoIdentity

    info = probe(clips("vfr.mp4"))
    timeline = Timeline.of(info)
    first, last = 38, 47  # frames of 17, 100, 33 and 50 ms
    sample = sample_internvl2(info, 4, timeline.span(first, last))
    seen = Answer(
        question="What happens?", text="A square moves.", stopped=False, indices=[int(i) for i in sample.indices],
        times=[float(t) for t in sample.times], model="Tiny", revision=None, family="internvl2", frames=4, segment=None,
        settings={}, device="cpu", precision="float32", asked_at=0.0, follow_up=False,
    )  # fmt: skip
    session = Session(VideoIdentity.of(info))
    session.add_answer(seen)
    note = session.note_from_answer(0, timeline)

    assert (note.start, note.end) == (milliseconds(sample.times[0]) / 1000, milliseconds(timeline.frame_end(sample.indices[-1])) / 1000)
    assert timeline.frames_in(note.start, note.end) == (sample.indices[0], sample.indices[-1])
    again = sample_internvl2(info, 64, (note.start, note.end))
    assert list(again.indices) == list(range(sample.indices[0], sample.indices[-1] + 1))


def test_a_typed_time_or_frame_number_names_a_frame(info):
    from videochat.video.timecode import format_time

    timeline = Timeline.of(info)
    for index in (0, 38, 39, 46, info.frame_count - 1):
        assert timeline.frame_from_text(str(index)) == index
        assert timeline.frame_from_text(f" #{index} ") == index
        assert timeline.frame_from_text(format_time(info.times[index])) == index  # the time the player shows
    assert timeline.frame_from_text("0:00:01.5") == timeline.frame_at(1.5)
    assert timeline.frame_from_text("1,5") == timeline.frame_at(1.5)


@pytest.mark.parametrize(("text", "words"), [("", "Type a time"), ("soon", "Type a time"), ("#", "Type a time"), ("-3", "Type a time"), ("#-1", "Type a time"), ("90", "past the last frame"), ("1:00", "past the end"), ("nan", "Type a time")])
def test_a_typed_position_that_names_no_frame_is_refused_with_what_to_type(clips, text, words):
    timeline = Timeline.of(probe(clips("plain.mp4")))
    with pytest.raises(errors.InvalidPosition, match=words):
        timeline.frame_from_text(text)
