"""An engine client's requests in flight: each one's socket and deadline, and a stop for all of them.

http.client drops `connection.sock` once a response says Connection: close (the response reads on),
so the socket is kept here. Each request ends at its deadline whatever the server sends meanwhile
(headers a byte a second, keep-alive comments): a timer shuts its socket, as a stop does, and its
reader, finding the socket gone, asks `expired` which of the two it was.
"""

from __future__ import annotations

import socket
import threading


class InFlight:
    def __init__(self):
        self._sockets: dict[object, socket.socket | None] = {}
        self._deadlines: dict[object, threading.Timer] = {}
        self._expired: set[object] = set()
        self._lock = threading.Lock()

    def add(self, connection, limit_s: float) -> None:
        """A request begins on `connection` (not connected yet); it ends `limit_s` from now."""
        deadline = threading.Timer(limit_s, self._expire, (connection,))
        deadline.daemon = True
        with self._lock:
            self._sockets[connection] = None
            self._deadlines[connection] = deadline
        deadline.start()

    def connected(self, connection) -> bool:
        """Its socket is known now (to be shut at the deadline or a stop); whether the deadline came while connecting."""
        with self._lock:
            self._sockets[connection] = connection.sock
            return connection in self._expired

    def expired(self, connection) -> bool:
        with self._lock:
            return connection in self._expired

    def shut_all(self) -> None:
        """From any thread: every request's socket is shut; their readers end."""
        with self._lock:
            sockets = [sock for sock in self._sockets.values() if sock is not None]
        for sock in sockets:
            _shut(sock)

    def close(self, connection) -> bool:
        """The request is over: its connection closed, its deadline dropped; whether the deadline had come."""
        with self._lock:
            self._sockets.pop(connection, None)
            deadline = self._deadlines.pop(connection, None)
            expired = connection in self._expired
            self._expired.discard(connection)
        if deadline is not None:
            deadline.cancel()
        connection.close()
        return expired

    def _expire(self, connection) -> None:  # on the timer's thread
        with self._lock:
            if connection not in self._deadlines:
                return  # closed meanwhile
            self._expired.add(connection)
            sock = self._sockets.get(connection)
        if sock is not None:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
