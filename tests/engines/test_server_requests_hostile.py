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
