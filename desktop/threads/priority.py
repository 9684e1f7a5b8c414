"""The model thread's scheduling priority: below the GUI thread's, so generation never starves the window."""

from __future__ import annotations

import sys
import threading

MODEL_THREAD_NICENESS = 5


def yield_to_the_gui() -> None:
    """Lower this thread's priority (Linux: per thread), before torch starts its own threads.

    torch's compute threads inherit it, so when generation keeps every core busy the GUI thread
    still gets a core within a few milliseconds; when the GUI is idle the model loses nothing.
    """
    import os

    if hasattr(os, "setpriority") and sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), MODEL_THREAD_NICENESS)
        except OSError:
            pass  # not allowed here: the app works as before
