"""A request to `videochat serve` carrying numbers JSON can hold but a float cannot (an integer of 400 digits)
is refused as a bad field (400, its name), not answered with the server's internal error."""

from __future__ import annotations

import json

import pytest

from videochat.engines.server_requests import RequestError, parse_chat_request

GIANT = "1" + "0" * 400


@pytest.mark.parametrize(
    "fields, param",
    [
        ({"temperature": "GIANT"}, "temperature"),
        ({"segment": [0, "GIANT"]}, "segment"),
        ({"frame_indices": [1], "frame_times": ["GIANT"]}, "frame_times"),
    ],
)
def test_a_number_too_large_for_a_float_is_a_bad_field_not_an_internal_error(tmp_path, fields, param):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"")
    content = [{"type": "video_url", "video_url": {"url": video.as_uri()}}, {"type": "text", "text": "What happens?"}]
    body = json.dumps({"messages": [{"role": "user", "content": content}], **fields}).replace('"GIANT"', GIANT)
    with pytest.raises(RequestError) as refused:
        parse_chat_request(body.encode(), [tmp_path], 64)
    assert refused.value.param == param


@pytest.mark.parametrize("swap", ["the file, for a link outside", "its folder, for a link outside"])
def test_a_file_swapped_after_its_check_is_refused_when_the_model_thread_opens_it(tmp_path, swap):
    from collections import OrderedDict
    from types import SimpleNamespace

    from tests.support.clips import write_clip
    from videochat.engines.server_requests import check_unchanged
    from videochat.engines.server_runner import ModelRunner

    media, outside = tmp_path / "media", tmp_path / "private"
    (media / "sub").mkdir(parents=True), outside.mkdir()
    bait = write_clip(media / "sub" / "bait.mp4", frames=12, width=64, height=48)
    secret = write_clip(outside / "bait.mp4", frames=10, width=64, height=48)
    content = [{"type": "video_url", "video_url": {"url": bait.as_uri()}}, {"type": "text", "text": "What happens?"}]
    request = parse_chat_request(json.dumps({"messages": [{"role": "user", "content": content}]}).encode(), [media], 64)
    check_unchanged(request.video)  # as it was checked: fine

    if swap == "the file, for a link outside":
        bait.unlink()
        bait.symlink_to(secret)
    else:
        (media / "sub").rename(media / "old")
        (media / "sub").symlink_to(outside, target_is_directory=True)
    runner = SimpleNamespace(_prepared=OrderedDict(), backend=SimpleNamespace(ref=SimpleNamespace(family="internvl2", default_frames=4)))
    with pytest.raises(RequestError) as refused:
        ModelRunner._prepared_video(runner, request, lambda: False)
    assert refused.value.status == 403 and "after the request was checked" in str(refused.value)


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
@pytest.mark.parametrize("tokens", [0, 32769, 10**15])
def test_max_tokens_beyond_what_a_model_can_write_is_refused_and_the_cli_and_settings_keep_the_same_bounds(tmp_path, tokens, field):
    import argparse

    from videochat.cli.arguments import token_count
    from videochat.generation import MAX_NEW_TOKENS
    from videochat.settings import Settings

    video = tmp_path / "clip.mp4"
    video.write_bytes(b"")
    content = [{"type": "video_url", "video_url": {"url": video.as_uri()}}, {"type": "text", "text": "What happens?"}]
    with pytest.raises(RequestError, match=f"from 1 to {MAX_NEW_TOKENS}") as refused:  # named as sent
        parse_chat_request(json.dumps({"messages": [{"role": "user", "content": content}], field: tokens}).encode(), [tmp_path], 64)
    assert refused.value.param == field and str(refused.value).startswith(field)
    with pytest.raises(argparse.ArgumentTypeError):
        token_count(str(tokens))
    (tmp_path / "settings.json").write_text(json.dumps({"max_new_tokens": tokens}))
    assert Settings.load(tmp_path / "settings.json").max_new_tokens == Settings().max_new_tokens
    assert token_count(str(MAX_NEW_TOKENS)) == MAX_NEW_TOKENS


def _bait_request(tmp_path):
    from tests.support.clips import write_clip

    media, outside = tmp_path / "media", tmp_path / "private"
    media.mkdir(), outside.mkdir()
    bait = write_clip(media / "bait.mp4", frames=12, width=64, height=48)
    secret = write_clip(outside / "secret.mp4", frames=10, width=64, height=48)
    content = [{"type": "video_url", "video_url": {"url": bait.as_uri()}}, {"type": "text", "text": "What happens?"}]
    return parse_chat_request(json.dumps({"messages": [{"role": "user", "content": content}]}).encode(), [media], 64), bait, secret


def test_a_link_swapped_in_while_the_file_opens_is_caught_once_its_reader_has_it_open(tmp_path, monkeypatch):
    from collections import OrderedDict
    from types import SimpleNamespace

    from videochat.engines.server_runner import ModelRunner
    from videochat.video.source import VideoSource

    request, bait, secret = _bait_request(tmp_path)
    opened = VideoSource.open.__func__

    def open_then_swap(cls, path, *args, **kwargs):  # after the first check and the probe, before the reader opens
        source = opened(cls, path, *args, **kwargs)
        bait.unlink()
        bait.symlink_to(secret)
        return source

    monkeypatch.setattr(VideoSource, "open", classmethod(open_then_swap))
    runner = SimpleNamespace(_prepared=OrderedDict(), backend=SimpleNamespace(ref=SimpleNamespace(family="internvl2", default_frames=4)))
    with pytest.raises(RequestError, match="after the request was checked"):
        ModelRunner._prepared_video(runner, request, lambda: False)


def test_a_file_whose_inode_number_changed_but_not_its_size_or_time_is_the_same_file(tmp_path):
    import dataclasses

    from videochat.engines.server_requests import check_unchanged

    request, bait, _secret = _bait_request(tmp_path)
    device, inode, size, mtime = request.video.identity
    check_unchanged(dataclasses.replace(request.video, identity=(device, inode + 1, size, mtime)))  # FAT makes inode numbers up again
    for changed in ((device, inode + 1, size + 1, mtime), (device + 1, inode, size, mtime)):
        with pytest.raises(RequestError):
            check_unchanged(dataclasses.replace(request.video, identity=changed))
