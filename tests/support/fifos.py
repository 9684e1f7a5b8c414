"""A FIFO that tells whether anything opened it for reading, and never lets that hang a test.

Opening a FIFO for reading blocks until a writer comes. The watcher plays that writer: every
few milliseconds it tries a non-blocking open for writing, which succeeds only while a reader
waits; it then closes at once (the reader sees an empty file) and records that it happened.
A regression thus fails its test through `opened` instead of hanging the run.
"""

from __future__ import annotations

import errno
import os
import threading
from contextlib import contextmanager
from pathlib import Path


class WatchedFifo:
    def __init__(self, path: Path):
        self.path = path
        self.opened = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while True:
            try:
                os.close(os.open(self.path, os.O_WRONLY | os.O_NONBLOCK))
                self.opened = True
            except OSError as error:
                if error.errno != errno.ENXIO:  # ENXIO: nobody is reading
                    return
            if self._done.wait(0.02):
                return


@contextmanager
def watched_fifo(path: Path):
    os.mkfifo(path)
    fifo = WatchedFifo(path)
    fifo._thread.start()
    try:
        yield fifo
    finally:
        fifo._done.set()
        fifo._thread.join()
