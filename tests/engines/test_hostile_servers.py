"""Servers a user adds, played by an attacker: broken IPv6 addresses, model ids that are markup, control characters,
bidi overrides or megabytes long, a listing of thousands, a redirect to another host (which must not get the key).

tests/engines/test_servers.py covers credentials, schemes, ports and control characters in the address; this
file what it left open.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.engine_standin import EngineStandIn
from videochat.engines.client import EngineClient
from videochat.engines.errors import EngineError
from videochat.engines.servers import InvalidServerAddress, parse_engine_choice, server_address, server_list
from videochat.settings import Settings

BROKEN = ["http://[::1", "http://::1]:80", "http://[::1]x:80", "http://[not-an-ip]:80"]


@pytest.mark.parametrize("typed", BROKEN)
def test_a_broken_ipv6_address_is_refused_saying_why_not_raised_as_a_value_error(typed):
    with pytest.raises(InvalidServerAddress):
        server_address(typed)


def test_a_settings_file_with_broken_ipv6_addresses_loads_without_them(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"engine_servers": [*BROKEN, "http://[::1]:8000"], "last_model": "engine:http://[::1 InternVL2-8B"}))
    assert Settings.load(path).engine_servers == ["http://[::1]:8000"]
    assert parse_engine_choice("engine:http://[::1 InternVL2-8B") is None
    assert server_list(BROKEN) == []


def test_an_ipv6_address_with_a_zone_is_kept_as_typed():
    assert server_address("http://[fe80::1%25eth0]:8000/v1") == "http://[fe80::1%25eth0]:8000"


UNSHOWABLE = ["a\nb", "nul\x00here", "\u202eevil", "x" * 100_000, "tab\tin"]


def test_model_ids_that_cannot_be_shown_as_they_are_or_are_too_long_are_not_listed():
    with EngineStandIn(models=("<b>InternVL2-8B</b>", *UNSHOWABLE, "OpenGVLab/InternVL2-8B")) as standin:
        listed = [model.id for model in EngineClient(standin.url).models()]
    assert listed == ["<b>InternVL2-8B</b>", "OpenGVLab/InternVL2-8B"]


class _Redirecting(BaseHTTPRequestHandler):
    target = ""
    seen: list = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        type(self).seen.append((self.server.server_port, self.path, self.headers.get("Authorization")))
        self.send_response(307)
        self.send_header("Location", f"{self.target}{self.path}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_GET

    def log_message(self, *args):
        pass


def test_a_server_that_redirects_to_another_host_is_not_followed_and_the_other_never_sees_the_key():
    with EngineStandIn(api_key="sk-redirect-me-44444444", models=("m",)) as elsewhere:
        handler = type("Redirect", (_Redirecting,), {"target": elsewhere.url.rstrip("/"), "seen": []})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            client = EngineClient(f"http://127.0.0.1:{server.server_port}", "sk-redirect-me-44444444")
            with pytest.raises(EngineError) as refused:
                client.models()
            with pytest.raises(EngineError):
                list(client.stream({"model": "m", "messages": [{"role": "user", "content": "hi"}]}))
        finally:
            server.shutdown()
            server.server_close()
        assert elsewhere.received == [] and "307" in str(refused.value)
    assert [path for _port, path, _key in handler.seen] == ["/v1/models", "/v1/chat/completions"]


@pytest.mark.parametrize("key", ["sk-abcdefgh\nX-Injected: yes", "sk-abc defgh", "sk-abc\u4e2ddefgh", "sk-abc\x00defgh"])
@pytest.mark.parametrize("given", ["made with it", "given later"])  # later: the CLI's key, the window's stored key
def test_a_key_that_cannot_be_a_header_is_a_typed_error_that_never_shows_it(key, given):
    with EngineStandIn() as standin:
        with pytest.raises(EngineError) as refused:
            if given == "made with it":
                EngineClient(standin.url, key).models()
            else:
                client = EngineClient(standin.url)
                client.api_key = key
                client.models()
    assert "abcdefgh" not in str(refused.value) and "defgh" not in str(refused.value) and "key" in str(refused.value)
    assert standin.received == []


def test_a_key_with_blanks_around_it_is_sent_without_them():
    with EngineStandIn(api_key="sk-abcdefgh-1234") as standin:
        assert [model.id for model in EngineClient(standin.url, " sk-abcdefgh-1234\r\n").models()] == ["OpenGVLab/InternVL2-8B"]
        client = EngineClient(standin.url)
        client.api_key = "sk-abcdefgh-1234\r"  # as "$(cat key.txt)" reads a file saved on Windows
        assert [model.id for model in client.models()] == ["OpenGVLab/InternVL2-8B"]


def test_an_engine_address_with_an_unmatched_bracket_is_a_typed_error():
    with pytest.raises(EngineError, match="bracket"):
        EngineClient("http://[::1:8000")


@contextmanager
def _trickling(head: bytes, drip: bytes):
    """A server that sends `head`, then `drip` every 0.2 s (each well within the client's read timeout), for 12 s at most."""
    import socket
    import time

    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle():
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            try:
                connection.sendall(head)
                for _ in range(60):
                    if stop.is_set():
                        return
                    connection.sendall(drip)
                    time.sleep(0.2)
            except OSError:
                return

    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        sender.join()
        listener.close()


STREAM_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
TRICKLED = {
    "a model list's body": (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"data\": [", b" "),
    "the headers": (b"HTTP/1.1 200 OK\r\nX-Slow: ", b"x"),
    "comment lines": (STREAM_HEAD, b": keep-alive\n"),
    "event names": (STREAM_HEAD, b"event: ping\n"),
    "one line, a byte at a time": (STREAM_HEAD, b"e"),  # cut by the deadline mid-line: too slow, not "not SSE"
}


@pytest.mark.parametrize("what", TRICKLED)
def test_an_answer_trickled_ends_at_the_answer_limit_not_when_the_server_chooses(what):
    with _trickling(*TRICKLED[what]) as url:
        client = EngineClient(url, read_timeout=2.0, answer_timeout=1.0)
        with pytest.raises(EngineError, match="took more than 1 s"):
            list(client.stream({"model": "m", "messages": []})) if TRICKLED[what][0] == STREAM_HEAD else client.models()


def test_comment_lines_count_towards_a_stream_s_size(monkeypatch):
    from videochat.engines import sse

    monkeypatch.setattr(sse, "MAX_STREAM_BYTES", 4096)
    with _trickling(STREAM_HEAD + b": padding\n" * 1000, b"") as url:
        with pytest.raises(EngineError, match="larger than"):
            list(EngineClient(url, answer_timeout=30.0).stream({"model": "m", "messages": []}))


def test_a_model_list_over_a_mebibyte_is_refused_before_it_is_parsed():
    many = [f"org/model-{number:06d}-" + "x" * 40 for number in range(20_000)]  # ~1.4 MB listed
    with EngineStandIn(models=many) as standin:
        with pytest.raises(EngineError, match="larger than 1 MiB"):
            EngineClient(standin.url).models()
    with EngineStandIn(models=many[:2_000]) as standin:  # thousands still list
        assert len(EngineClient(standin.url).models()) == 2_000


@pytest.mark.parametrize("address", ["http://a..b:8000", "http://127.0.0.1:8000/v\u00e9/v1"])
def test_an_address_http_client_cannot_send_is_refused_when_given_not_raised_later(address):
    with pytest.raises(EngineError, match="not an engine address"):
        EngineClient(address)
