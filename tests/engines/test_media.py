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


def test_a_request_s_frames_are_decoded_within_its_pixel_budget_however_small_they_were_sent():
    import json
    from io import BytesIO

    from PIL import Image

    from videochat.engines import media
    from videochat.engines.server_requests import parse_chat_request

    buffer = BytesIO()
    Image.new("1", (4096, 4096), 0).save(buffer, format="PNG", optimize=True)  # ~3 KB that decode to 48 MB of RGB
    bomb = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    parts = [{"type": "image_url", "image_url": {"url": bomb}} for _ in range(64)] + [{"type": "text", "text": "What happens?"}]
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": parts}]}).encode()
    decoded = parse_chat_request(body, [], 64).video.frames
    assert len(decoded) == 64 and decoded[0].shape[0] == decoded[0].shape[1]  # square, as sent
    assert sum(frame.shape[0] * frame.shape[1] for frame in decoded) <= media.MAX_REQUEST_PIXELS


def test_frames_over_their_share_keep_their_shape_scaled_and_jpeg_ones_too(monkeypatch):
    from videochat.engines import media

    monkeypatch.setattr(media, "MAX_REQUEST_PIXELS", 4 * 32 * 24)  # 4 frames of 32x24 at most
    back = decode_video_data_url(video_data_url(frames(4, height=96, width=128)), max_frames=8)
    assert [b.shape for b in back] == [(24, 32, 3)] * 4  # 128x96 scaled by 1/4: the ramp still runs left to right
    assert back[0][:, -1].mean() > back[0][:, 0].mean() + 100
    assert decode_video_data_url(video_data_url(frames(2, height=24, width=32)), max_frames=8)[0].shape == (24, 32, 3)  # within its share: as sent


@pytest.mark.parametrize("mode", ["I;16", "LA", "P", "1", "RGBA"])
def test_frames_of_every_picture_mode_are_scaled_to_their_share(mode):
    from io import BytesIO

    from PIL import Image

    from videochat.engines.media import decode_picture

    buffer = BytesIO()
    Image.new(mode, (2000, 1500)).save(buffer, format="PNG")  # 16-bit grey could not be scaled as it was: a 500
    decoded = decode_picture(buffer.getvalue(), "PNG", 200 * 150)
    assert decoded.shape == (150, 200, 3) and decoded.dtype == np.uint8
