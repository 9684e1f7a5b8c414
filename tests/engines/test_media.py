"""Frames survive the trip as JPEG data URLs, and what is not a frame is refused before it is used."""

import base64

import numpy as np
import pytest

from videochat.engines.media import BadMedia, decode_image_data_url, decode_video_data_url, image_data_url, video_data_url


def frames(count, height=48, width=64):
    ramp = np.linspace(0, 255, width).astype(int)
    return np.stack([np.broadcast_to(((ramp[None, :, None] + 40 * i) % 256), (height, width, 3)) for i in range(count)]).astype(np.uint8)


def test_frames_sent_as_a_video_data_url_come_back_in_order_and_close_to_what_was_sent():
    sent = frames(3)
    back = decode_video_data_url(video_data_url(sent), max_frames=8)
    assert len(back) == 3 and all(b.shape == (48, 64, 3) for b in back)
    assert all(np.abs(b.astype(int) - s.astype(int)).mean() < 8 for b, s in zip(back, sent))
    assert np.abs(back[0].astype(int) - sent[1].astype(int)).mean() > 8  # the order is kept


def test_an_image_data_url_round_trips():
    assert decode_image_data_url(image_data_url(frames(1)[0])).shape == (48, 64, 3)


@pytest.mark.parametrize("url", [
    "data:video/jpeg;base64,not base64!",
    "data:video/jpeg;base64," + base64.b64encode(b"<html>no picture</html>").decode(),
    "data:video/png;base64,AAAA",
    "file:///etc/passwd",
])
def test_what_is_not_jpeg_frames_is_refused(url):
    with pytest.raises(BadMedia):
        decode_video_data_url(url, max_frames=8)


def test_a_png_sent_as_jpeg_is_refused_and_more_frames_than_the_model_takes_are_refused_before_decoding():
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.fromarray(frames(1)[0]).save(buffer, format="PNG")
    with pytest.raises(BadMedia, match="PNG"):
        decode_video_data_url("data:video/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode(), max_frames=8)
    with pytest.raises(BadMedia, match="more than"):
        decode_video_data_url(video_data_url(frames(3)), max_frames=2)
