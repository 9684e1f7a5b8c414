"""The engine client against the strict stand-in: frames the app sampled reach the model, hostile answers are typed errors, stop is at once."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from tests.support.engine_standin import EngineStandIn
from videochat import safe_text
from videochat.engines.client import EngineClient, EngineUnreachable, StreamEnd
from videochat.engines.errors import EngineError
from videochat.engines.remote import EngineChat, EngineModel
from videochat.errors import InvalidFrameCount, UnknownModel
from videochat.frames.pipeline import sample_frames
from videochat.video.source import VideoSource

MODEL = "OpenGVLab/InternVL2-8B"
KEY = "sk-standin-key-0123456789"


def card_sample(clip, frames):
    with VideoSource.open(clip) as source:
        sample = sample_frames(source, "internvl2", frames)
    return [int(i) for i in sample.indices], [round(float(t), 6) for t in sample.times]


def ask(standin, clip, frames=8, form=None, max_frames=None, key=KEY, question="What happens?"):
    engine = EngineModel.connect(EngineClient(standin.url, key), MODEL, form, max_frames)
    with VideoSource.open(clip) as source:
        chat = EngineChat(source, engine)
        text = "".join(chat.ask(question, frames))
    return engine, chat, text


@pytest.mark.parametrize("form, owner", [("vllm", "vllm"), ("images", "lmdeploy")])
def test_the_frames_the_family_rule_picks_reach_the_engine_decoded_and_the_answer_carries_their_times(clip, form, owner):
    with EngineStandIn(api_key=KEY, form=form, owned_by=owner) as standin:
        engine, chat, text = ask(standin, clip)
    indices, times = card_sample(clip, 8)
    assert engine.form == form and engine.family.name == "internvl2"
    assert standin.received[-1].form == ("video" if form == "vllm" else "images")
    assert standin.received[-1].frame_codes == indices  # decoded by the engine, read back from their pixels
    answer = chat.answers[-1]
    assert (answer.indices, answer.times) == (indices, times)
    assert answer.model == MODEL and answer.engine == standin.url and answer.text == text


def test_the_images_form_labels_each_frame_as_internvl_counts_them(clip):
    with EngineStandIn(form="images", owned_by="sglang") as standin:
        ask(standin, clip, frames=4, key=None)
    content = standin.received[-1].body["messages"][0]["content"]
    assert [part["text"] for part in content if part["type"] == "text"][:4] == ["Frame1:", "Frame2:", "Frame3:", "Frame4:"]
    assert standin.received[-1].body["mm_processor_kwargs"] == {"max_dynamic_patch": 1}


def test_vllm_gets_the_frame_count_and_the_frames_own_indices_in_media_io_kwargs(clip):
    with EngineStandIn() as standin:
        ask(standin, clip, frames=8, key=None)
    indices, _times = card_sample(clip, 8)
    video = standin.received[-1].body["media_io_kwargs"]["video"]
    assert video["num_frames"] == 8 and video["frames_indices"] == indices and video["fps"] == pytest.approx(30.0)


def test_an_old_vllm_that_cuts_videos_to_32_frames_is_not_sent_more(clip):
    with EngineStandIn(version="0.16.0", num_frames=32) as standin:
        with pytest.raises(InvalidFrameCount, match="--media-io-kwargs"):
            ask(standin, clip, frames=40, key=None)
        assert standin.received == []  # refused before anything was sent
        engine, chat, _text = ask(standin, clip, frames=32, key=None)
    assert len(standin.received[-1].frame_codes) == 32 == len(chat.answers[-1].indices)
    assert any("older than 0.18" in note for note in engine.notes)


def test_an_old_vllm_started_with_every_frame_kept_takes_40_when_told(clip):
    with EngineStandIn(version="0.16.0", num_frames=-1) as standin:
        _engine, chat, _text = ask(standin, clip, frames=40, max_frames=-1, key=None)
    assert standin.received[-1].frame_codes == chat.answers[-1].indices and len(chat.answers[-1].indices) == 40


def test_a_stand_in_that_cuts_frames_would_have_shown_it(clip):
    """The stand-in enforces vLLM's cut: told the engine keeps everything when it does not, the frames seen differ from those sent."""
    with EngineStandIn(version="0.16.0", num_frames=32) as standin:
        _engine, chat, _text = ask(standin, clip, frames=40, max_frames=-1, key=None)
    assert len(standin.received[-1].frame_codes) == 32 != len(chat.answers[-1].indices)


def test_our_server_refusing_the_file_gets_the_frames_and_echoes_their_times(clip):
    with EngineStandIn(form="videochat", owned_by="videochat") as standin:
        engine, chat, _text = ask(standin, clip, key=None)
    assert engine.form == "videochat"
    assert standin.received[-1].frame_codes == chat.answers[-1].indices
    assert chat.answers[-1].revision == "abc123" and chat.answers[-1].device == "cpu"


def test_follow_ups_send_the_history_on_the_same_frames(clip):
    with EngineStandIn() as standin:
        engine = EngineModel.connect(EngineClient(standin.url), MODEL)
        with VideoSource.open(clip) as source:
            chat = EngineChat(source, engine)
            first = "".join(chat.ask("What happens?", 8))
            "".join(chat.ask("And then?", 8))
    messages = standin.received[-1].body["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"] and messages[1]["content"] == first
    assert chat.answers[-1].follow_up and chat.answers[-1].indices == chat.answers[0].indices


def test_the_key_is_sent_as_bearer_and_a_wrong_one_is_a_typed_error_that_never_shows_it(clip):
    with EngineStandIn(api_key=KEY) as standin:
        ask(standin, clip)
        assert standin.received[-1].authorization == f"Bearer {KEY}"
        with pytest.raises(EngineError, match="refused the API key") as refused:
            EngineClient(standin.url, "sk-wrong-key-abcdefghij").models()
    assert refused.value.code == "invalid_api_key"
    assert "sk-wrong-key" not in str(refused.value)


def test_a_model_the_engine_does_not_serve_is_unknown_model_naming_what_it_serves():
    with EngineStandIn() as standin:
        with pytest.raises(UnknownModel, match="InternVL2-8B"):
            EngineModel.connect(EngineClient(standin.url), "OpenGVLab/InternVL2-76B")


def test_an_engine_error_maps_back_to_the_core_exception_and_its_text_is_made_safe():
    from videochat.errors import OutOfMemory

    safe_text.register_secret(KEY)
    body = b'{"error": {"message": "no memory for ' + KEY.encode() + b' \\u001b[2J", "type": "x", "code": "out_of_memory"}}'
    client = EngineClient("http://127.0.0.1:9")
    error = client._error_from_status(507, body)
    assert isinstance(error, OutOfMemory)
    assert KEY not in str(error) and "\x1b" not in str(error)


def test_credentials_and_query_never_reach_the_recorded_address():
    client = EngineClient("https://user:pa55word-secret@gpu.example:8443/v1?token=abc#x")
    assert client.display_url == "https://gpu.example:8443"
    assert "pa55word-secret" not in safe_text.blank_secrets("pa55word-secret")


def test_an_engine_that_is_not_running_is_unreachable_with_its_address():
    with EngineStandIn() as standin:
        url = standin.url
    with pytest.raises(EngineUnreachable, match="is it running"):
        EngineClient(url).models()


HOSTILE = {
    "not json": b"data: {this is not json\n\n",
    "not sse": b"<html>502 Bad Gateway</html>\n\n",
    "content not text": b'data: {"choices": [{"delta": {"content": {"a": 1}}}]}\n\n',
    "choices not a list": b'data: {"choices": "many"}\n\n',
    "a huge line": b"data: " + b"x" * (2 * 1024 * 1024) + b"\n\n",
    "an endless event": b"".join(b"data: " + b"y" * 900_000 + b"\n" for _ in range(4)),
    "no done": b'data: {"choices": [{"delta": {"content": "half"}}]}\n\n',
    "error chunk": b'data: {"error": {"message": "went wrong", "code": "internal_error"}}\n\ndata: [DONE]\n\n',
    "not utf-8": b"data: \xff\xfe\n\n",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_stream_is_a_typed_engine_error(name):
    with EngineStandIn(raw_stream=HOSTILE[name]) as standin:
        client = EngineClient(standin.url)
        with pytest.raises(EngineError):
            list(client.stream({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}))


def test_sse_comments_other_fields_and_usage_chunks_are_read_as_vllm_sends_them():
    body = (b": keep-alive\n\nevent: message\nid: 1\ndata: {\"choices\": [{\"delta\": {\"role\": \"assistant\"}}]}\n\n"
            b"data: {\"choices\": [{\"delta\": {\"content\": \"Hel\"}}]}\r\n\r\n"
            b"data: {\"choices\": [{\"delta\": {\"content\": \"lo\"}, \"finish_reason\": \"stop\"}]}\n\n"
            b"data: {\"choices\": [], \"usage\": {\"completion_tokens\": 2}}\n\ndata: [DONE]\n\n")
    with EngineStandIn(raw_stream=body) as standin:
        end = StreamEnd()
        assert "".join(EngineClient(standin.url).stream({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}, end)) == "Hello"
    assert end.finish_reason == "stop"


def test_a_server_that_dies_mid_stream_is_an_error_not_a_short_answer(clip):
    with EngineStandIn(break_after_pieces=2) as standin:
        with pytest.raises(EngineError, match="closed the connection before the answer was complete"):
            ask(standin, clip, key=None)


def test_stop_closes_the_stream_at_once_and_keeps_the_partial_answer_marked_stopped(clip):
    with EngineStandIn(seconds_per_piece=30.0) as standin:  # the second piece would come after 30 s
        engine = EngineModel.connect(EngineClient(standin.url), MODEL)
        with VideoSource.open(clip) as source:
            chat = EngineChat(source, engine)
            pieces = []
            for piece in chat.ask("What happens?", 8):
                pieces.append(piece)
                threading.Timer(0.05, chat.stop).start()
    answer = chat.answers[-1]
    assert answer.stopped and answer.text == pieces[0] and len(pieces) == 1


def test_a_whole_answer_is_read_too():
    with EngineStandIn() as standin:
        client = EngineClient(standin.url)
        text, end = client.complete({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]})
    assert text == "I saw 0 frames: ." and end.finish_reason == "stop"


def test_the_client_imports_neither_torch_nor_an_http_library():
    code = "import sys, videochat.engines.client, videochat.engines.remote; print(sorted(m for m in ('torch', 'transformers', 'httpx', 'requests', 'PIL') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_an_engine_silent_past_the_read_limit_is_a_typed_error_saying_so():
    with EngineStandIn(seconds_per_answer=3.0) as standin:
        client = EngineClient(standin.url, read_timeout=0.3)
        with pytest.raises(EngineError, match="did not answer for"):
            list(client.stream({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}))


def test_a_form_the_engine_does_not_take_is_refused_with_vllms_error(clip):
    with EngineStandIn(form="images", owned_by="lmdeploy") as standin:
        with pytest.raises(EngineError, match="Unknown part type: video_url"):
            ask(standin, clip, form="vllm", key=None)
