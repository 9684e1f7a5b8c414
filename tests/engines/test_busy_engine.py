"""A server too busy for a question (our 503 `server_busy`, or a 429) is asked again when it says,
within bounds and within the answer's deadline, and a stop ends the wait at once."""

from __future__ import annotations

import threading
import time

import pytest

from tests.support.engine_standin import EngineStandIn
from videochat.engines import busy
from videochat.engines.client import EngineClient
from videochat.engines.errors import EngineError
from videochat.errors import Cancelled

MODEL = "OpenGVLab/InternVL2-8B"
QUESTION = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize("status", [503, 429])
def test_a_busy_answer_is_asked_again_after_its_retry_after_and_then_answered(status):
    with EngineStandIn(busy=[(status, "1"), (status, "0")]) as standin:
        pieces = list(EngineClient(standin.url).stream(QUESTION))
    assert "".join(pieces) == "I saw 0 frames: ." and len(standin.received) == 1
    first, second = standin.busy_answered
    assert second - first >= 0.95  # "1": not sooner


def test_a_busy_answer_keeps_being_asked_again_only_until_the_answer_s_deadline(monkeypatch):
    monkeypatch.setattr(busy, "LONGEST_RETRY_AFTER_S", 0.4)
    with EngineStandIn(busy=[(503, "31536000")] * 10) as standin:  # "a year" is cut to the longest wait
        client = EngineClient(standin.url, answer_timeout=1.0)
        with pytest.raises(EngineError, match="Busy: ask again") as raised:
            client.complete(QUESTION)
    assert raised.value.code == "server_busy" and raised.value.status == 503
    assert len(standin.busy_answered) == 3 and not standin.received  # at 0, 0.4 and 0.8 s; the next would be past 1 s


def test_a_stop_ends_the_wait_for_a_busy_server_at_once(monkeypatch):
    with EngineStandIn(busy=[(503, "30")]) as standin:
        client = EngineClient(standin.url)
        threading.Timer(0.3, client.stop).start()
        started = time.monotonic()
        with pytest.raises(Cancelled):
            list(client.stream(QUESTION))
    assert time.monotonic() - started < 5  # not the 30 s the server asked for


def test_a_model_list_the_server_is_too_busy_for_is_not_asked_again():
    with EngineStandIn(busy=[(429, "1")]) as standin:
        with pytest.raises(EngineError):
            EngineClient(standin.url).models()
    assert len(standin.busy_answered) == 1


@pytest.mark.parametrize("header, seconds", [
    ("3", 3.0), (None, 2.0), ("0", 0.5), ("-5", 2.0), ("1e9", 2.0), ("NaN", 2.0), ("²", 2.0),
    ("99999999999999999999999999999", 30.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 2.0), (" 7 ", 7.0),
])
def test_retry_after_is_read_within_bounds_whatever_the_server_sends(header, seconds):
    assert busy.retry_after(header) == seconds
