"""The bundle's `VideoChat` program: the desktop app, with a last word when it cannot start at all."""

import multiprocessing
import sys

from desktop.startup import run_app

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a library that starts worker processes must not start the app again
    sys.exit(run_app(sys.argv[1:]))
