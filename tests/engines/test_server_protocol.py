"""`videochat serve`'s HTTP limits: a request's headers have a deadline and connections a cap
(server_protocol.py); chat bodies are read a few at a time, each within its own deadline (server_app.py).

uvicorn alone kept a half-sent request line open for good: a few hundred of them took every file
descriptor of the model process, with no key asked for."""

from __future__ import annotations

import socket
import time

import pytest

from tests.support.running_app import running
from videochat.engines import server_protocol


async def _app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain"), (b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def port(monkeypatch):
    monkeypatch.setattr(server_protocol, "HEADERS_TIMEOUT_S", 0.5)
    monkeypatch.setattr(server_protocol, "MAX_CONNECTIONS", 4)
    with running(_app) as port:
        yield port


def _connect(port: int) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port), timeout=5)
    return connection


def _closed_by_server(connection: socket.socket) -> bool:
    try:
        return connection.recv(100) == b""
    except (TimeoutError, socket.timeout):
        return False
    except ConnectionResetError:
        return True


def _response(connection: socket.socket) -> bytes:
    """One whole answer of `_app` (its headers and its body may come in two reads)."""
    received = b""
    while not received.endswith(b"\r\n\r\nok") and (chunk := connection.recv(200)):
        received += chunk
    return received


def _answered(port: int) -> bytes:
    with _connect(port) as connection:
        connection.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return _response(connection)


@pytest.mark.parametrize("sent", [b"GET /health HTT", b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: "])
def test_headers_that_do_not_arrive_in_time_close_the_connection(port, sent):
    with _connect(port) as connection:
        connection.sendall(sent)
        for _ in range(3):  # a byte now and then does not keep it open
            time.sleep(0.2)
            try:
                connection.sendall(b"x")
            except OSError:
                break
        assert _closed_by_server(connection)
    assert _answered(port).startswith(b"HTTP/1.1 200")


def test_a_connection_over_the_cap_is_closed_as_it_opens_and_the_others_are_served(port, monkeypatch):
    monkeypatch.setattr(server_protocol, "HEADERS_TIMEOUT_S", 30.0)  # only the cap closes anything here
    held = [_connect(port) for _ in range(4)]
    try:
        extra = _connect(port)
        extra.settimeout(1.0)
        assert _closed_by_server(extra)
        extra.close()
        held[0].sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _response(held[0]).startswith(b"HTTP/1.1 200")
    finally:
        for connection in held:
            connection.close()
    time.sleep(0.2)
    assert _answered(port).startswith(b"HTTP/1.1 200")  # their places are free again


async def _refusing_app(scope, receive, send):
    """Answers 401 before reading the body, as the server does without the key."""
    await send({"type": "http.response.start", "status": 401, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"no"})


def test_a_slow_upload_the_server_answered_early_is_not_cut_by_the_headers_deadline(monkeypatch):
    monkeypatch.setattr(server_protocol, "HEADERS_TIMEOUT_S", 0.5)
    with running(_refusing_app) as port, _connect(port) as connection:
        connection.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n")
        for _ in range(10):  # 2 s of body, past the headers' deadline
            time.sleep(0.2)
            connection.sendall(b"xxxx")
        assert connection.recv(200).startswith(b"HTTP/1.1 401")


def test_a_request_that_keeps_its_connection_is_not_cut_by_the_deadline_while_answered_or_idle(port):
    with _connect(port) as connection:
        for _ in range(2):
            connection.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert _response(connection).startswith(b"HTTP/1.1 200")
            time.sleep(0.8)  # past the headers' deadline, within uvicorn's keep-alive (5 s)


def test_a_trickled_chat_body_holds_one_reading_place_until_its_deadline_then_is_refused(monkeypatch):
    from types import SimpleNamespace

    from videochat.engines import server_app

    monkeypatch.setattr(server_app, "READ_AT_ONCE", 1)
    monkeypatch.setattr(server_app, "BODY_TIMEOUT_S", 1.0)
    runner = SimpleNamespace(ref=SimpleNamespace(display_name="tiny", family="internvl2"), load_error=None, backend=object())
    with running(server_app.ServerApp(runner, None, []).starlette()) as port, _connect(port) as slow, _connect(port) as other:
        slow.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
        time.sleep(0.2)  # the slow body has the one place now
        other.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
        other.settimeout(0.4)
        with pytest.raises(socket.timeout):
            other.recv(200)  # its whole body is there, but it waits unread
        other.settimeout(10)
        answers = [slow.recv(200), other.recv(200)]
    assert answers[0].startswith(b"HTTP/1.1 408") and answers[1].startswith(b"HTTP/1.1 400")
