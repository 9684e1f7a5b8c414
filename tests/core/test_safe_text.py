"""What the CLI prints and logs: control characters from outside escaped, every known secret blanked by its value."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.support.hub_http import HubRequestHandler
from tests.support.hub_repos import HubError
from tests.support.hub_server import FakeHub
from videochat.cli import commands as cli, batch as cli_batch, models as cli_models
from videochat import safe_text
from videochat.batch.run import ClipFailed, ClipStarted
from videochat.cli.commands import main
from tests.support import REPO_ROOT

ROOT = REPO_ROOT
HOSTILE = "a\x1b[2Jb\u202egpj.mp4"  # clears the screen; shows "...mp4.jpg" reversed
SECRET = "sk-live-NotShapedLikeAHubToken-0123456789"  # no hf_ prefix: only its value can find it


@pytest.fixture(autouse=True)
def no_registered_secrets(monkeypatch):
    """Secrets registered by one test are not known to the next."""
    monkeypatch.setattr(safe_text, "_registered", set())


@pytest.fixture
def token_home(tmp_path, monkeypatch):
    """huggingface_hub's token files under tmp_path, no token in the environment."""
    from huggingface_hub import constants

    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "hf" / "token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "hf" / "stored_tokens"))
    (tmp_path / "hf").mkdir()
    return tmp_path / "hf"


def test_control_characters_are_escaped_and_newlines_kept_where_meant():
    text = "x\x1b]0;title\x07\x9b2J\x7f\u202e\u2066\u2069\udcff\u200dy\n\tz"
    assert safe_text.for_terminal(text) == "x\\x1b]0;title\\x07\\x9b2J\\x7f\\u202e\\u2066\\u2069\\udcff\u200dy\n\\x09z"
    assert safe_text.for_terminal(text, keep="\n\t").endswith("y\n\tz")
    assert safe_text.for_terminal(text, keep="").endswith("y\\x0a\\x09z")
    line = safe_text.json_text(json.dumps({"name": text}, ensure_ascii=False))
    assert json.loads(line) == {"name": text} and "\x9b" not in line and "\u202e" not in line


def test_a_token_is_blanked_by_its_value_wherever_it_is_stored(token_home, monkeypatch):
    in_file, stored, in_env, registered = (f"{kind}-{SECRET}" for kind in ("file", "stored", "env", "key"))
    (token_home / "token").write_text(in_file + "\n")
    (token_home / "stored_tokens").write_text(f"[work]\nhf_token = {stored}\n\n[home]\nhf_token = short\n")
    monkeypatch.setenv("HUGGING_FACE_HUB_TOKEN", in_env)
    safe_text.register_secret(registered)
    text = f"Bearer {in_file}; {stored} {in_env} {registered} hf_{'q' * 30} short"
    assert safe_text.blank_secrets(text) == "Bearer ***; *** *** *** hf_*** short"
    (token_home / "token").write_text("rotated-" + SECRET)  # a new login is seen at once
    assert safe_text.blank_secrets("rotated-" + SECRET) == "***"


def test_the_log_file_blanks_a_secret_registered_after_it_started(token_home, tmp_path):
    from videochat.logs import RedactTokens

    stream = StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactTokens())
    logger = logging.getLogger("videochat.test-secrets")
    logger.addHandler(handler)
    try:
        safe_text.register_secret("later-" + SECRET)
        logger.warning("echoed %s and \x1b[2J", "later-" + SECRET)
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue() == "echoed *** and \\x1b[2J\n"


@pytest.fixture
def hostile_clip(clips, tmp_path) -> Path:
    return Path(shutil.copy(clips("short.mp4"), tmp_path / HOSTILE))


def test_a_hostile_file_name_is_shown_escaped_when_probed(hostile_clip, capsys):
    assert main(["probe", str(hostile_clip)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("a\\x1b[2Jb\\u202egpj.mp4\n") and "\x1b" not in out and "\u202e" not in out
    assert main(["probe", str(hostile_clip), "--json"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["path"] == str(hostile_clip) and "\x1b" not in out and "\u202e" not in out
    assert main(["probe", str(hostile_clip.with_name("gone" + HOSTILE))]) == 1
    err = capsys.readouterr().err
    assert "gonea\\x1b[2Jb\\u202egpj.mp4" in err and "\x1b" not in err and "\u202e" not in err


def test_a_streamed_answer_and_the_model_name_are_shown_escaped(capsys):
    answer = SimpleNamespace(model="m\x1b]0;owned\x07", times=[1.0], stopped=False)

    class Chat:
        answers = [answer]

        def ask(self, *args):
            yield "line one\n\tindented \x1b[2J"
            yield "\u202eend"

    cli._ask_one(Chat(), "q", 8, None, None, as_json=False)
    out = capsys.readouterr().out
    assert out.startswith("line one\n\tindented \\x1b[2J\\u202eend\n[m\\x1b]0;owned\\x07, 1 frames")
    assert "\x1b" not in out and "\x07" not in out


def test_batch_and_download_progress_show_hostile_names_escaped():
    stream = StringIO()
    bar = cli_batch._BatchProgress(stream, total=2)
    bar.show(ClipStarted(Path(HOSTILE), 1, 1))
    bar.show(ClipFailed(Path(HOSTILE), "bad \x1b[2J"))
    progress = SimpleNamespace(fraction=0.5, done=1, total=2, bytes_per_second=1.0, time_left_text="", files_done=0, files_total=1, path=HOSTILE)
    cli_models._ProgressLine(stream).show(progress)
    safe_text.register_secret(SECRET)
    bar.show(ClipFailed(Path(HOSTILE), "echo " + SECRET))
    text = stream.getvalue()
    assert "\x1b" not in text and "\u202e" not in text and SECRET not in text and text.count("a\\x1b[2Jb\\u202egpj.mp4") == 3


def test_a_hub_that_echoes_the_authorization_header_never_gets_the_token_printed_or_logged(tmp_path, monkeypatch):
    def echo_the_header(handler, *, send_body):
        handler._send_error(HubError(500, f"upstream failed for Authorization: {handler.headers.get('Authorization')}"), send_body)

    monkeypatch.setattr(HubRequestHandler, "_dispatch", echo_the_header)
    with FakeHub() as hub:
        env = hub.client_env(tmp_path / "hf")
        env.update(XDG_STATE_HOME=str(tmp_path / "state"), XDG_DATA_HOME=str(tmp_path / "data"), PYTHONPATH=str(ROOT), VIDEOCHAT_LOG_LEVEL="DEBUG")
        (tmp_path / "hf").mkdir()
        (tmp_path / "hf" / "token").write_text(SECRET)  # stored by `hf auth login`, not in the environment
        result = subprocess.run(
            [sys.executable, "-m", "videochat.cli", "download", "test/any-model"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
        )
    assert result.returncode == 3 and "upstream failed for Authorization: Bearer ***" in result.stderr
    logs = "".join(path.read_text() for path in (tmp_path / "state").rglob("*.log*"))
    assert "test/any-model" in logs
    assert SECRET not in result.stderr + result.stdout + logs


def test_a_token_being_tried_is_blanked_from_the_hub_s_echo_before_it_is_stored(tmp_path, monkeypatch):
    from tests.support.hub_server import serving_this_process
    from videochat.models import hub
    from videochat.errors import AccessError

    candidate = "typed-" + SECRET

    def echo_the_header(handler, *, send_body):
        handler._send_error(HubError(500, f"echo {handler.headers.get('Authorization')}"), send_body)

    monkeypatch.setattr(HubRequestHandler, "_dispatch", echo_the_header)
    with serving_this_process(tmp_path, monkeypatch), pytest.raises(AccessError) as refused:
        hub.save_token(candidate)
    assert candidate in str(refused.value)  # the hub's words, as the error carries them
    assert "echo Bearer ***" in safe_text.shown(str(refused.value)) and candidate not in safe_text.shown(str(refused.value))


def test_one_line_escapes_controls_and_direction_overrides_joins_whitespace_and_cuts_long_text():
    name = "Intern\u202eVL2\n\n- list\titem\u2028\x1b[2J\udcff\u2066 "
    assert safe_text.one_line(name) == "Intern\\u202eVL2 - list item \\x1b[2J\\udcff\\u2066"
    for real in ("InternVL2-8B (0123abcd)", "مدل\u200cها"):  # real names as they are, a Persian one's non-joiner too
        assert safe_text.one_line(real) == real
    long = safe_text.one_line("x" * 10_000_000)
    assert len(long) == safe_text.LONGEST_LINE and long.endswith("…")


@pytest.mark.timeout(30)
def test_a_fifo_in_place_of_the_token_files_neither_hangs_blanking_nor_keeps_a_known_secret(token_home):
    # Blanking runs in the log's filter: a read that waited for the FIFO's writer hung every log record.
    os.mkfifo(token_home / "token")
    os.mkfifo(token_home / "stored_tokens")
    safe_text.register_secret("a-registered-secret-value")
    assert safe_text.blank_secrets("token a-registered-secret-value") == "token ***"
