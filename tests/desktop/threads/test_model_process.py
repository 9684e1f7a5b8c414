"""The window's model process on a tiny real LLaVA-OneVision checkpoint: its key, its grants, how it ends."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from desktop.threads import model_process
from desktop.threads.model_process import ModelProcess, serve_command
from desktop.threads.process_chat import ProcessChat
from tests.support.tiny_native import build_llava_onevision
from videochat import errors
from videochat.engines.errors import EngineError
from videochat.generation import GenerationSettings


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return build_llava_onevision(tmp_path_factory.mktemp("llava"))


@pytest.fixture(scope="module")
def process(tiny_model):
    process = ModelProcess(str(tiny_model), device="cpu")
    process.start()
    process.wait_loaded()
    yield process
    process.kill()


def ask(process, clip: Path, question: str = "What happens?", chat: ProcessChat | None = None):
    chat = chat or ProcessChat(clip, 8)
    pieces = []
    answer = chat.ask(process, question, 4, None, GenerationSettings(max_new_tokens=4), on_frames=lambda count: None, on_piece=pieces.append)
    return answer, pieces


def test_the_key_is_handed_over_in_the_environment_never_on_the_command_line(process):
    pid = process.process.pid
    command_line = Path(f"/proc/{pid}/cmdline").read_bytes()
    assert process.key.encode() not in command_line and b"--api-key" not in command_line
    assert f"VIDEOCHAT_API_KEY={process.key}".encode() in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    assert process.address.startswith("http://127.0.0.1:")


def test_a_granted_file_is_answered_about_with_the_frames_the_model_saw(process, clips):
    answer, pieces = ask(process, clips("plain.mp4"))
    assert answer.text == "".join(pieces) and answer.engine is None and answer.device == "cpu"
    assert len(answer.indices) == len(answer.times) == 4 and answer.frames == 4
    assert Path(os.path.realpath(clips("plain.mp4"))) in process.granted


def test_a_file_that_was_not_granted_or_a_folder_is_refused(process, clips, tmp_path):
    from desktop.threads.process_chat import request_body

    other = tmp_path / "other.mp4"
    other.write_bytes(clips("short.mp4").read_bytes())
    with pytest.raises(EngineError) as refused:
        list(process.client.stream(request_body(other, [], "What?", 4, None, GenerationSettings(max_new_tokens=2))))
    assert refused.value.code == "media_path_not_allowed"
    with pytest.raises(EngineError) as folder:
        process.grant(tmp_path)
    assert folder.value.code == "media_path_not_allowed"
    link = tmp_path / "link.mp4"
    link.symlink_to(other)
    process.grant(link)  # a link is granted as the file it resolves to
    assert Path(os.path.realpath(other)) in process.granted


def test_a_grant_needs_the_key(process, tmp_path):
    import http.client
    import json

    target = tmp_path / "secret.mp4"
    target.write_bytes(b"x")
    port = int(process.address.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", "/v1/videochat/grants", body=json.dumps({"path": str(target)}), headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    assert response.status == 401 and json.loads(response.read())["error"]["code"] == "invalid_api_key"


def test_a_process_killed_mid_answer_is_reported_as_ended_with_how_it_ended(tiny_model, clips):
    process = ModelProcess(str(tiny_model), device="cpu")
    process.start()
    process.wait_loaded()
    chat = ProcessChat(clips("plain.mp4"), 8)

    def kill_at_first_piece(_piece):
        os.kill(process.process.pid, signal.SIGKILL)

    try:
        with pytest.raises(errors.ModelProcessEnded) as ended:
            chat.ask(process, "What happens?", 4, None, GenerationSettings(max_new_tokens=4000), on_frames=lambda count: None, on_piece=kill_at_first_piece)
        assert process.died and "SIGKILL" in str(ended.value) and "question is kept" in str(ended.value)
    finally:
        process.kill()


def test_kill_ends_the_process_and_closing_its_stdin_ends_it_too(tiny_model):
    first = ModelProcess(str(tiny_model), device="cpu")
    first.start()
    first.kill()
    assert first.process.poll() is not None and not first.died  # asked to end: not a death
    second = ModelProcess(str(tiny_model), device="cpu")
    second.start()
    second.process.stdin.close()  # as when the window's process is gone
    assert second.process.wait(20) is not None
    second.kill()


def test_a_model_that_fails_to_load_raises_the_core_s_typed_error(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    process = ModelProcess(str(tmp_path), device="cpu")
    try:
        with pytest.raises(errors.VideoChatError):
            process.start()
            process.wait_loaded()
    finally:
        process.kill()


def test_the_model_process_is_the_bundle_s_console_program_when_frozen(monkeypatch, tmp_path):
    assert serve_command() == [sys.executable, "-m", "videochat.cli", "serve"]
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "VideoChat"))
    name = "videochat-console.exe" if os.name == "nt" else "videochat-console"
    assert model_process.serve_command() == [str(tmp_path / name), "serve"]
