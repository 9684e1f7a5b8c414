"""`videochat serve`: the core's backends behind the OpenAI-compatible protocol (docs/engine-protocol.md).

It listens first, prints its address on stdout (one line, flushed), then loads the model on the
model thread (`server_runner.py`); the routes are in `server_app.py`, request parsing in
`server_requests.py`. Starlette and uvicorn are imported only here and below, only by `serve`.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import sys
from pathlib import Path

from videochat.errors import UnsupportedSetting


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def address_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if host == "localhost":
        host, family = "127.0.0.1", socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise UnsupportedSetting(f"Cannot listen on {host} port {port} ({error.strerror or error}): choose another --port, or 0 for a free one.") from None
    sock.listen(128)
    sock.set_inheritable(False)
    return sock


def uvicorn_config(app):
    """uvicorn's settings for `videochat serve`: h11 with a deadline for headers and a cap on connections
    (`server_protocol.py`), headers of at most 64 KiB, two seconds to finish at a stop."""
    import uvicorn

    from videochat.engines.server_protocol import LimitedH11Protocol

    return uvicorn.Config(app, http=LimitedH11Protocol, loop="asyncio", ws="none", interface="asgi3", log_config=None, access_log=False,
                          lifespan="off", timeout_graceful_shutdown=2, h11_max_incomplete_event_size=64 * 1024)


def serve(runner, host: str, port: int, api_key: str | None, allowed_folders: list[Path]) -> int:
    """Listen, print the address, load the model meanwhile, answer until interrupted."""
    import uvicorn

    from videochat.engines.server_app import ServerApp
    from videochat.logs import RedactTokens

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("videochat serve: %(message)s"))
    handler.addFilter(RedactTokens())  # secrets blanked, control characters escaped, whatever wrote the record
    for name in ("videochat", "uvicorn"):
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(logging.INFO if name == "videochat" else logging.WARNING)
        logging.getLogger(name).propagate = False

    sock = listening_socket(host, port)
    app = ServerApp(runner, api_key, allowed_folders).starlette()
    address = address_of(sock)

    class Server(uvicorn.Server):
        async def startup(self, sockets=None):
            await super().startup(sockets)
            if self.started:
                print(address, flush=True)
                runner.start()

    try:
        Server(uvicorn_config(app)).run(sockets=[sock])
    finally:
        runner.stop()
        sock.close()
    return 0
