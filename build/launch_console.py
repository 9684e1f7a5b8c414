"""The bundle's `videochat-console` program: the app with a terminal and everything logged to it."""

import multiprocessing
import sys

from desktop.startup import run_app

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(run_app(["--debug", *sys.argv[1:]]))
