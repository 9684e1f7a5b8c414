"""uvicorn's HTTP/1.1 protocol (h11) with the two limits it lacks, for `videochat serve`.

uvicorn times out a connection only while it is idle between two requests: a client that sends half
a request line, or its headers a byte at a time, holds its connection for good, and a few hundred of
those (any local user's, before any key is asked for) take every file descriptor of the model
process. Here a request's line and headers must arrive within `HEADERS_TIMEOUT_S` (from the
connection's start, or from the first byte of a later request on it), the rest of a body the server
has already answered (a 401 or 413 sent before reading it) within `BODY_AFTER_ANSWER_S`, and a
connection beyond `MAX_CONNECTIONS` is closed as it opens. A body being read is the app's to time
(`server_app.BODY_TIMEOUT_S`).
"""

from __future__ import annotations

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADERS_TIMEOUT_S = 10.0
BODY_AFTER_ANSWER_S = 300.0  # as long as the app gives a body it reads: a slow upload still reads its 401
MAX_CONNECTIONS = 256  # the window's model process has one client; a server for a team, a few dozen


class LimitedH11Protocol(H11Protocol):
    def connection_made(self, transport) -> None:  # type: ignore[override]
        self._deadline = None
        self._deadline_for: float | None = None
        super().connection_made(transport)
        if len(self.connections) > MAX_CONNECTIONS:
            transport.close()  # connection_lost follows, and forgets it
            return
        self._watch()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_watching()
        super().connection_lost(exc)

    def _limit_now(self) -> float | None:
        """How long what is arriving now may take; None while the app answers a request (it times its body)."""
        if self.cycle is not None and not self.cycle.response_complete:
            return None
        return HEADERS_TIMEOUT_S if self.conn.their_state is h11.IDLE else BODY_AFTER_ANSWER_S

    def _watch(self) -> None:
        limit = self._limit_now()
        if limit != self._deadline_for:
            self._stop_watching()
            if limit is not None and not self.transport.is_closing():
                # Between two requests with nothing sent yet, uvicorn's keep-alive timer closes it first.
                self._deadline, self._deadline_for = self.loop.call_later(limit, self._too_slow), limit

    def _stop_watching(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline, self._deadline_for = None, None

    def _too_slow(self) -> None:
        self._deadline, self._deadline_for = None, None
        if self._limit_now() is not None:
            self.transport.close()
