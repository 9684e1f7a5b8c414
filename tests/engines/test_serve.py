"""`videochat serve` end to end: the real command in a subprocess, on tiny checkpoints built here, over HTTP.

One server (LLaVA-OneVision, with an API key) answers most tests; each other family gets its own
server, all started at once when the module begins so that they load while the first tests run.
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.support.clips import write_clip
from tests.support.serve_process import ServeProcess, answer_text, file_request, video_request
from tests.support.standins import build_hub_extras, build_internvideo2, build_internvideo25, build_internvl2, isolate_hf_caches
from tests.support.tiny_native import build_llava_onevision, build_qwen2_vl
from videochat.engines.media import image_data_url, video_data_url
from videochat.frames.pipeline import sample_frames
from videochat.generation import MAX_NEW_TOKENS
from videochat.video.source import VideoSource

KEY = "serve-test-key-0123456789"
FRAMES = 4
OTHER_FAMILIES = {
    "internvl2": build_internvl2,
    "internvideo2.5": build_internvideo25,
    "internvideo2": build_internvideo2,
    "internvideo2-hd": lambda folder: build_internvideo2(folder, hd=True),
    "qwen2-vl": build_qwen2_vl,
}
REMOTE = {"internvl2", "internvideo2.5", "internvideo2", "internvideo2-hd"}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    media = root / "media"
    media.mkdir()
    clip = write_clip(media / "clip.mp4", frames=30, width=64, height=48)
    outside = write_clip(root / "outside.mp4", frames=10, width=64, height=48)
    with isolate_hf_caches(root / "hf-home") as (hub_cache, _modules):
        build_hub_extras(hub_cache, root / "scratch")
        llava = build_llava_onevision(root / "models" / "llava-onevision-tiny")
        main = ServeProcess("--model", str(llava), "--allowed-media-path", str(media), env={"VIDEOCHAT_API_KEY": KEY})
        others, folders = {}, {"llava-onevision": llava}
        for family, build in OTHER_FAMILIES.items():
            folders[family] = build(root / "models" / f"{family}-tiny")
            consent = ["--trust-remote-code"] if family in REMOTE else []
            others[family] = ServeProcess("--model", str(folders[family]), "--allowed-media-path", str(media), *consent)
        try:
            yield SimpleNamespace(main=main, others=others, folders=folders, clip=clip, outside=outside, media=media, root=root)
        finally:
            for server in [main, *others.values()]:
                server.close()


@pytest.fixture(scope="module")
def server(served):
    served.main.wait_ready()
    return served.main


def sampled(clip: Path, family: str, frames: int = FRAMES, segment=None):
    with VideoSource.open(clip) as source:
        sample = sample_frames(source, family, frames, segment)
    return [int(i) for i in sample.indices], [round(float(t), 6) for t in sample.times]


def test_the_address_is_printed_and_health_answers_without_a_key(served):
    address = served.main.wait_listening()
    assert address.startswith("http://127.0.0.1:") and int(address.rsplit(":", 1)[1]) > 0
    status, body = served.main.get("/health")
    assert status == 200 and body["status"] == "ok" and (body["model"] is not None or body["loading"] is not None)


def test_models_lists_the_served_model_with_its_family_rules(server):
    status, body = server.get("/v1/models", key=KEY)
    assert status == 200
    [model] = body["data"]
    assert model["id"] == "llava-onevision-tiny" and model["videochat"]["family"] == "native" and model["videochat"]["max_frames"] == 64


def test_a_whole_answer_carries_the_frames_seen_and_their_provenance(server, served):
    status, body = server.post(file_request(served.clip, num_frames=FRAMES), key=KEY)
    assert status == 200, body
    indices, times = sampled(served.clip, "native")
    assert body["video_frames"] == {"indices": indices, "times": times}
    assert body["choices"][0]["message"]["content"].strip()
    about = body["videochat"]
    assert (about["model"], about["family"], about["frames"], about["device"], about["precision"], about["stopped"]) == (
        "llava-onevision-tiny", "native", FRAMES, "cpu", "float32", False,
    )
    assert about["settings"]["max_new_tokens"] == 6 and body["usage"]["completion_tokens"] > 0


def test_a_stream_begins_and_ends_with_the_frames_and_provenance_then_done(server, served):
    events = server.stream(file_request(served.clip, num_frames=FRAMES, segment=[0.2, 0.8]), key=KEY)
    assert events[-1] == "[DONE]"
    last = events[-2]
    assert last["choices"][0]["finish_reason"] == "stop"
    indices, times = sampled(served.clip, "native", segment=(0.2, 0.8))
    assert last["video_frames"] == {"indices": indices, "times": times}
    assert last["videochat"]["segment"] == [0.2, 0.8] and last["videochat"]["model"] == "llava-onevision-tiny"
    assert answer_text(events).strip()
    # The first chunk says it too (before any text), so that a stream cut short still knows its frames.
    first = events[0]
    assert first["video_frames"] == last["video_frames"] and first["choices"][0]["delta"] == {"role": "assistant"}
    assert first["videochat"]["model"] == "llava-onevision-tiny" and first["videochat"]["stopped"] is False
    assert all("video_frames" not in event for event in events[1:-2])


def test_frame_indices_continue_on_the_very_same_frames(server, served):
    status, body = server.post(file_request(served.clip, frame_indices=[1, 5, 9, 27]), key=KEY)
    assert status == 200, body
    with VideoSource.open(served.clip) as source:
        times = [round(float(source.info.times[i]), 6) for i in (1, 5, 9, 27)]
    assert body["video_frames"] == {"indices": [1, 5, 9, 27], "times": times}


def test_a_saved_conversation_sent_with_its_frames_answers_as_the_uninterrupted_one(server, served):
    first = server.post(file_request(served.clip, num_frames=FRAMES, max_tokens=8), key=KEY)[1]
    said = first["choices"][0]["message"]["content"]
    history = [("What happens?", said)]
    uninterrupted = server.post(file_request(served.clip, "And then?", history, num_frames=FRAMES, max_tokens=8), key=KEY)[1]
    frames = first["video_frames"]
    continued = server.post(
        file_request(served.clip, "And then?", history, num_frames=FRAMES, frame_indices=frames["indices"], frame_times=frames["times"], max_tokens=8), key=KEY
    )[1]
    assert continued["choices"][0]["message"]["content"] == uninterrupted["choices"][0]["message"]["content"]
    assert continued["video_frames"] == frames and continued["videochat"]["frames"] == FRAMES


def test_saved_frames_no_longer_at_their_times_or_not_this_video_s_are_refused_with_the_reason(server, served):
    status, body = server.post(file_request(served.clip, frame_indices=[1, 5], frame_times=[0.5, 0.9]), key=KEY)
    assert (status, body["error"]["code"]) == (422, "unreadable_video")
    assert body["error"]["message"].startswith("The saved conversation cannot go on: the video changed since it was saved: frame 1 was at 0:00:00.500")
    status, body = server.post(file_request(served.clip, frame_indices=[1, 500]), key=KEY)
    assert status == 422 and "not frames of this video in order (it has 30 frames)" in body["error"]["message"]
    for times in ([0.1], "soon", [0.1, None]):
        status, body = server.post(file_request(served.clip, frame_indices=[1, 5], frame_times=times), key=KEY)
        assert (status, body["error"]["param"]) == (400, "frame_times")


def frames_of(clip: Path, indices):
    with VideoSource.open(clip) as source:
        return source.read(indices)


def test_frames_sent_as_video_jpeg_or_as_images_are_answered_with_the_times_the_client_gave(server, served):
    frames = frames_of(served.clip, [0, 10, 20, 29])
    given = {"indices": [0, 10, 20, 29], "times": [0.0, 0.333333, 0.666667, 0.966667]}
    as_video = video_request([{"type": "video_url", "video_url": {"url": video_data_url(frames)}}], video_frames=given)
    as_images = video_request(
        [part for n, frame in enumerate(frames) for part in ({"type": "text", "text": f"Frame{n + 1}:"}, {"type": "image_url", "image_url": {"url": image_data_url(frame)}})],
        video_frames=given,
    )
    for request in (as_video, as_images):
        status, body = server.post(request, key=KEY)
        assert status == 200, body
        assert body["video_frames"] == given and body["videochat"]["frames"] == 4


def test_a_frame_that_is_not_a_picture_is_unreadable_video(server):
    bad = "data:video/jpeg;base64," + base64.b64encode(b"not a jpeg").decode()
    status, body = server.post(video_request([{"type": "video_url", "video_url": {"url": bad}}]), key=KEY)
    assert (status, body["error"]["code"]) == (422, "unreadable_video")


@pytest.mark.parametrize("key", [None, "wrong-key-0123456789"])
def test_without_the_right_key_every_v1_request_is_401(server, served, key):
    assert server.get("/v1/models", key=key)[0] == 401
    status, body = server.post(file_request(served.clip), key=key)
    assert (status, body["error"]["code"]) == (401, "invalid_api_key")
    assert KEY not in json.dumps(body)


def test_a_file_outside_the_allowed_folder_is_403_and_so_is_a_link_out_of_it(server, served):
    link = served.media / "escape.mp4"
    if not link.exists():
        link.symlink_to(served.outside)
    for path in (served.outside, link):
        status, body = server.post(file_request(path), key=KEY)
        assert (status, body["error"]["code"]) == (403, "media_path_not_allowed"), body
        assert "--allowed-media-path" in body["error"]["message"]
    status, body = server.post(video_request([{"type": "video_url", "video_url": {"url": "http://example.com/a.mp4"}}]), key=KEY)
    assert status == 403


def test_a_body_over_the_limit_is_413_before_it_is_read(server):
    connection = server.connection()
    connection.putrequest("POST", "/v1/chat/completions")
    connection.putheader("Authorization", f"Bearer {KEY}")
    connection.putheader("Content-Length", str(300 * 1024 * 1024))
    connection.endheaders()
    connection.send(b"{")
    response = connection.getresponse()
    assert (response.status, json.loads(response.read())["error"]["code"]) == (413, "request_too_large")


@pytest.mark.parametrize(
    "raw, param",
    [(b"{not json", None), (b"[1, 2]", None), (json.dumps({"messages": "hello"}).encode(), "messages"), (None, "max_tokens")],
)
def test_bad_json_or_a_field_of_the_wrong_type_is_400_with_no_traceback(server, served, raw, param):
    if raw is None:
        raw = json.dumps(file_request(served.clip, max_tokens="many")).encode()
    status, body = server.post(None, key=KEY, raw=raw)
    assert (status, body["error"]["code"], body["error"]["param"]) == (400, "invalid_request", param)
    assert "Traceback" not in json.dumps(body)


def test_a_frame_count_the_family_does_not_take_is_refused_with_the_core_s_message(server, served):
    status, body = server.post(file_request(served.clip, num_frames=65), key=KEY)
    assert (status, body["error"]["code"]) == (400, "invalid_frame_count")
    assert "65" in body["error"]["message"]


def test_a_client_that_disconnects_stops_generation(server, served):
    since = len(server.stderr)
    body = json.dumps({**file_request(served.clip, num_frames=FRAMES, question="Tell me everything."), "max_tokens": MAX_NEW_TOKENS, "stream": True})
    connection = server.connection()
    connection.request("POST", "/v1/chat/completions", body=body.encode(), headers={"Authorization": f"Bearer {KEY}"})
    response = connection.getresponse()
    assert response.status == 200
    assert response.readline().startswith(b"data: ")  # generation has begun
    connection.sock.shutdown(socket.SHUT_RDWR)
    connection.close()
    server.wait_for_log("stopped: the client went away after", since=since)
    status, _ = server.post(file_request(served.clip, num_frames=FRAMES), key=KEY)
    assert status == 200, "the next request is answered"


def test_a_client_that_disconnects_before_a_whole_answer_stops_it_too(server, served):
    since = len(server.stderr)
    body = json.dumps({**file_request(served.clip, num_frames=FRAMES, question="Tell me all of it."), "max_tokens": MAX_NEW_TOKENS})
    connection = server.connection()
    connection.request("POST", "/v1/chat/completions", body=body.encode(), headers={"Authorization": f"Bearer {KEY}"})
    server.wait_for_log("asked: Tell me all of it.", since=since)
    connection.sock.shutdown(socket.SHUT_RDWR)
    connection.close()
    server.wait_for_log("stopped: the client went away", since=since)
    status, _ = server.post(file_request(served.clip, num_frames=FRAMES), key=KEY)
    assert status == 200


def test_two_conversations_interleaved_each_keep_their_own_history(server, served):
    def ask(question, history=()):
        status, body = server.post(file_request(served.clip, question, history, num_frames=FRAMES, max_tokens=5), key=KEY)
        assert status == 200, body
        return body["choices"][0]["message"]["content"]

    first_a, first_b = ask("Who is there?"), ask("What colour is it?")
    second_a = ask("And then?", [("Who is there?", first_a)])  # continues the kept conversation
    second_b = ask("Why?", [("What colour is it?", first_b)])
    # Asked again, the same follow-ups no longer extend a kept conversation: they start from the history sent.
    assert ask("And then?", [("Who is there?", first_a)]) == second_a
    assert ask("Why?", [("What colour is it?", first_b)]) == second_b


def test_the_api_key_never_reaches_the_server_s_log(server):
    assert not any(KEY in line for line in server.stderr)


def test_binding_another_address_without_a_key_is_refused_at_start():
    server = ServeProcess("--model", "/nonexistent", "--host", "0.0.0.0", env={"VIDEOCHAT_API_KEY": ""})
    assert server.process.wait(timeout=60) == 2
    server.close()
    assert "API key" in "".join(server.stderr)


@pytest.mark.parametrize(
    ("arguments", "env", "said"),
    [
        (["--api-key", "short-key-1234"], {}, "at least 16 characters"),
        ([], {"VIDEOCHAT_API_KEY": "letmein"}, "at least 16 characters"),
        (["--api-key", "a key with spaces in it"], {}, "no space"),
        (["--api-key", "a-long-key-with-a-line\nbreak"], {}, "no space, line break"),
        ([], {"VIDEOCHAT_API_KEY": "key-from-a-dotenv-file-1234\n"}, "no space, line break"),
        (["--api-key", "clé-non-ascii-0123456789"], {}, "no space, line break or other character"),
        (["--host", "127.0.0.1", "--api-key", "loopback-short"], {}, "at least 16 characters"),  # on loopback too
    ],
)
def test_a_key_that_is_short_or_cannot_travel_in_a_header_is_refused_at_start_and_never_printed(arguments, env, said):
    server = ServeProcess("--model", "/nonexistent", "--host", "0.0.0.0", *arguments, env={"VIDEOCHAT_API_KEY": "", **env})
    assert server.process.wait(timeout=60) == 2
    server.close()
    stderr = "".join(server.stderr)
    assert said in stderr
    assert ("secrets.token_urlsafe" in stderr) == ("characters" in said)  # how to make a good one, where length was the problem
    key = arguments[-1] if arguments else env["VIDEOCHAT_API_KEY"]
    assert key.strip() not in stderr


def test_a_key_of_sixteen_printable_characters_is_taken():
    server = ServeProcess("--model", "/nonexistent", "--host", "0.0.0.0", "--api-key", "0123456789abcde!", env={"VIDEOCHAT_API_KEY": ""})
    assert server.process.wait(timeout=60) == 1  # past the key, to the model that is not there
    server.close()
    assert "There is no folder /nonexistent" in "".join(server.stderr) and "API key" not in "".join(server.stderr)


@pytest.mark.parametrize("family", list(OTHER_FAMILIES))
def test_every_family_streams_an_answer_with_the_frames_it_saw(served, family):
    server = served.others[family]
    server.wait_ready()
    rule = "native" if family == "qwen2-vl" else family
    events = server.stream(file_request(served.clip, num_frames=FRAMES))
    assert events[-1] == "[DONE]"
    indices, times = sampled(served.clip, rule)
    assert events[-2]["video_frames"] == {"indices": indices, "times": times}
    assert events[-2]["videochat"]["model"] == f"{family}-tiny" and events[-2]["videochat"]["family"] == rule
    follow_up = file_request(served.clip, "And then?", [("What happens?", answer_text(events))], num_frames=FRAMES)
    continued = server.stream(follow_up)
    server.wait_for_log("continues a kept conversation of 1 turns")
    # Sent again, it resumes from the history sent (the kept one has gone on): the same answer, greedily.
    assert answer_text(server.stream(follow_up)) == answer_text(continued)
    server.wait_for_log("resumes a conversation from the 1 turns sent")


def test_requests_at_once_wait_their_turn_and_are_all_answered(server, served):
    results = []

    def ask(number):
        results.append(server.post(file_request(served.clip, f"Question {number}?", num_frames=FRAMES), key=KEY)[0])

    threads = [threading.Thread(target=ask, args=(number,)) for number in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert results == [200, 200, 200]


def test_a_model_whose_code_is_not_agreed_to_answers_every_question_with_consent_required(served, tmp_path):
    refused = ServeProcess("--model", str(served.folders["internvl2"]), env={"XDG_DATA_HOME": str(tmp_path)})  # no remembered yes
    try:
        refused.wait_listening()
        deadline = time.monotonic() + 120
        while (health := refused.get("/health")[1])["loading"] is not None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert health["model"] is None and health["error"]["code"] == "consent_required"
        status, body = refused.post(file_request(served.clip))
        assert (status, body["error"]["code"]) == (409, "consent_required")
        assert "--trust-remote-code" in body["error"]["message"]
    finally:
        refused.close()


def test_the_command_line_imports_no_server_library_until_serve_runs():
    code = "import sys; from videochat.cli.commands import build_parser; build_parser(); print(sorted(m for m in ('starlette', 'uvicorn', 'anyio') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr
