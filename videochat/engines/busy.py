"""A server too busy for a question says so (429, or `videochat serve`'s 503 `server_busy`) and when
to ask again (Retry-After); the client asks again then, within bounds: a server saying 0 s, or a
year, is not taken at its word."""

from __future__ import annotations

DEFAULT_RETRY_AFTER_S = 2.0  # no Retry-After, or an HTTP date
SHORTEST_RETRY_AFTER_S = 0.5
LONGEST_RETRY_AFTER_S = 30.0


class Busy(Exception):
    """The engine's busy answer (`error`, raised should the client give up) and the seconds to wait."""

    def __init__(self, error: Exception, retry_after: float):
        super().__init__(str(error))
        self.error, self.retry_after = error, retry_after


def is_busy(status: int, code: object) -> bool:
    return status == 429 or (status == 503 and code == "server_busy")


def retry_after(header: str | None) -> float:
    text = (header or "").strip()
    seconds = float(text) if text.isascii() and text.isdigit() else DEFAULT_RETRY_AFTER_S
    return min(max(seconds, SHORTEST_RETRY_AFTER_S), LONGEST_RETRY_AFTER_S)
