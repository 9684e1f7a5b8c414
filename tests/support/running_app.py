"""An ASGI app served by uvicorn as `videochat serve` configures it (its protocol's limits included), on a thread."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

from videochat.engines.server import uvicorn_config


@contextmanager
def running(app):
    """Yields the port `app` listens on, on 127.0.0.1."""
    import uvicorn

    listener = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn_config(app))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield listener.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()
