"""The model process's scheduling priority: below the window's, so generation never starves the GUI thread."""

from __future__ import annotations

import sys

MODEL_PROCESS_NICENESS = 5


def yield_to_the_gui(pid: int) -> None:
    """Lower the model process's priority, right after it starts (before torch starts its own threads).

    torch's compute threads inherit it, so when generation keeps every core busy the GUI thread
    still gets a core within a few milliseconds; when the GUI is idle the model loses nothing.
    """
    import os

    if hasattr(os, "setpriority") and sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, pid, MODEL_PROCESS_NICENESS)
        except OSError:
            pass  # not allowed here: the app works as before
