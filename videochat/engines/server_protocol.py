"""uvicorn's HTTP/1.1 protocol (h11) with the two limits it lacks, for `videochat serve`.

uvicorn times out a connection only while it is idle between two requests: a client that sends half
a request line, or its headers a byte at a time, holds its connection for good, and a few hundred of
those (any local user's, before any key is asked for) take every file descriptor of the model
process. Here a request's headers must arrive within `HEADERS_TIMEOUT_S` of its first byte, and a
connection beyond `MAX_CONNECTIONS` is closed as it opens.
"""

from __future__ import annotations

from uvicorn.protocols.http.h11_impl import H11Protocol

HEADERS_TIMEOUT_S = 10.0
MAX_CONNECTIONS = 256  # the window's model process has one client; a server for a team, a few dozen


class LimitedH11Protocol(H11Protocol):
    def connection_made(self, transport) -> None:  # type: ignore[override]
        self._headers_deadline = None
        super().connection_made(transport)
        if len(self.connections) > MAX_CONNECTIONS:
            transport.close()  # connection_lost follows, and forgets it
            return
        self._watch_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_watching()
        super().connection_lost(exc)

    def _waiting_for_headers(self) -> bool:
        """No request is being answered: what arrives now is the next request's line and headers."""
        return self.cycle is None or self.cycle.response_complete

    def _watch_headers(self) -> None:
        if not self._waiting_for_headers():
            self._stop_watching()
        elif self._headers_deadline is None and not self.transport.is_closing():
            # Between two requests with nothing sent yet, uvicorn's keep-alive timer closes it first.
            self._headers_deadline = self.loop.call_later(HEADERS_TIMEOUT_S, self._headers_too_slow)

    def _stop_watching(self) -> None:
        if self._headers_deadline is not None:
            self._headers_deadline.cancel()
            self._headers_deadline = None

    def _headers_too_slow(self) -> None:
        self._headers_deadline = None
        if self._waiting_for_headers():
            self.transport.close()
