"""The bundle's `videochat-console` program: with a terminal, for debugging and for the command line.

    videochat-console [FILE]             the app, with everything logged to this terminal
    videochat-console COMMAND ...        the `videochat` command: probe, ask, batch, serve, export, models, download…

One program for both: each program of a bundle carries its own copy of the Python modules (60 MB).
"""

import multiprocessing
import sys

from desktop.startup import run_app

COMMANDS = {"probe", "sample", "preprocess", "ask", "export", "batch", "models", "download", "serve", "runtime"}

if __name__ == "__main__":
    multiprocessing.freeze_support()
    if len(sys.argv) > 1 and sys.argv[1] in COMMANDS:
        from videochat.cli import main

        sys.exit(main(sys.argv[1:]))
    sys.exit(run_app(["--debug", *sys.argv[1:]]))
