"""`videochat serve`: one model behind the OpenAI-compatible protocol (docs/engine-protocol.md).

The address is printed on stdout once the server listens; the model loads meanwhile, through the
same consent check and loader as `videochat ask`. Loopback only unless an API key is set.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from videochat.safe_text import register_secret, shown

KEY_VARIABLE = "VIDEOCHAT_API_KEY"
SHORTEST_SERVER_KEY = 16


def add_command(commands) -> None:
    from videochat.cli.arguments import add_load_arguments, add_model_choice

    serve = commands.add_parser("serve", help="serve a model over an OpenAI-compatible HTTP API (chat completions with the frames' times)")
    add_model_choice(serve)
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1; any other needs an API key)")
    serve.add_argument("--port", type=port_number, default=8000, help="the port (0 picks a free one; the address is printed)")
    serve.add_argument(
        "--api-key", help=f"the key clients send as 'Authorization: Bearer KEY' (better: set {KEY_VARIABLE}, which other users cannot read)"
    )
    serve.add_argument(
        "--allowed-media-path", type=Path, action="append", default=[], metavar="DIR",
        help="a folder whose videos requests may name as file:// URLs (repeatable; without it, only frames sent in the request)",
    )
    add_load_arguments(serve)
    serve.add_argument(
        "--approved-code", metavar="SHA256",
        help="run the model's own code only if it is exactly the code of this digest (the window passes the yes of its consent dialog)",
    )
    serve.add_argument(
        "--exit-with-stdin", action="store_true",
        help="end when standard input closes (the window's model process: it ends with the window, even one that was killed)",
    )
    serve.set_defaults(run=run_serve)


def port_number(text: str) -> int:
    import argparse

    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number, 0 to 65535, not {text!r}")
    return int(text)


def key_problem(key: str) -> str | None:
    """Why `key` cannot be this server's API key, or None: a short key can be guessed (and one under
    `safe_text.SHORTEST_SECRET` characters is not blanked from logs and errors, as it would blank
    ordinary words); a space or a control character cannot travel in an Authorization header."""
    if len(key) < SHORTEST_SERVER_KEY:
        return (
            f"an API key needs at least {SHORTEST_SERVER_KEY} characters (a short one can be guessed): "
            "make one with  python -c 'import secrets; print(secrets.token_urlsafe(24))'"
        )
    if not all("!" <= character <= "~" for character in key):
        return "an API key is letters, digits and ASCII punctuation only: no space, line break or other character"
    return None


def run_serve(args) -> int:
    from videochat.engines.server import is_loopback, serve
    from videochat.engines.server_runner import ModelRunner
    from videochat.models.resolve import resolve_model

    api_key = args.api_key or os.environ.get(KEY_VARIABLE) or None
    problem = key_problem(api_key) if api_key is not None else None
    if problem is not None:
        print(shown(f"videochat: {problem}"), file=sys.stderr)
        return 2
    register_secret(api_key)
    if not is_loopback(args.host) and not api_key:
        print(
            shown(f"videochat: serving on {args.host} lets other machines ask this model: set an API key ({KEY_VARIABLE} or --api-key), or keep --host 127.0.0.1"),
            file=sys.stderr,
        )
        return 2
    folders = []
    for folder in args.allowed_media_path:
        if not folder.is_dir():
            print(shown(f"videochat: --allowed-media-path {folder} is not a folder"), file=sys.stderr)
            return 2
        folders.append(folder.resolve())
    ref = resolve_model(args.model, revision=args.revision)  # a name that means nothing ends here, before anything listens

    def load(progress):
        from videochat.backends.consent import check_consent
        from videochat.cli.arguments import load_backend, quiet_library_logs

        try:
            check_consent(ref, args.trust_remote_code, args.approved_code)
            quiet_library_logs()
            return load_backend(ref, args, progress)
        except Exception as error:
            print(shown(f"videochat: {error}"), file=sys.stderr, flush=True)
            raise

    if args.exit_with_stdin:
        exit_when_stdin_closes()
    return serve(ModelRunner(ref, load), args.host, args.port, api_key, folders)


def exit_when_stdin_closes() -> None:
    """A thread that ends the server (as SIGTERM does) once standard input closes: its parent is gone."""
    import signal
    import threading

    def watch() -> None:
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except (OSError, ValueError):
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="videochat-stdin-watch", daemon=True).start()
