"""Advisory locks between processes on the app's files (a video's session, a batch's results).

Two writers of one file (the window and `videochat ask`, two batches with one `--out`) take the
lock around read-modify-write, so neither writes over what the other added. The lock is held on
an open descriptor: it goes away with the process, so a killed writer never leaves it stuck.
"""

from __future__ import annotations

import os
import stat
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt


class LockBusy(OSError):
    """Another process holds the lock (and, when waiting was allowed, kept it past the time limit)."""


def lock_descriptor(descriptor: int, timeout_s: float = 0.0) -> None:
    """Lock the open file `descriptor` exclusively, waiting up to `timeout_s`; `LockBusy` otherwise."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if fcntl is not None:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:
                os.lseek(descriptor, 0, os.SEEK_SET)
                msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
            return
        except OSError as error:
            if time.monotonic() >= deadline:
                raise LockBusy(error.errno, "another VideoChat is writing this file") from error
        time.sleep(0.01)


def unlock_descriptor(descriptor: int) -> None:
    if fcntl is not None:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
    else:
        os.lseek(descriptor, 0, os.SEEK_SET)
        msvcrt.locking(descriptor, msvcrt.LK_UNLCK, 1)


@contextmanager
def locked(lock_path: Path | str, timeout_s: float = 30.0) -> Iterator[None]:
    """Hold the lock file `lock_path` (made if missing) for the block.

    The lock file is never read or written; it is refused unless it is a regular file (a FIFO or
    a link to a device put there is never opened for long, and never blocks).
    """
    lock_path = Path(lock_path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(lock_path, flags, 0o600)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(f"{lock_path} is not a regular file; remove it")
        lock_descriptor(descriptor, timeout_s)
        try:
            yield
        finally:
            unlock_descriptor(descriptor)
    finally:
        os.close(descriptor)
