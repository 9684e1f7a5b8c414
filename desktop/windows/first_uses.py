"""What the first open, the first answer, the first model manager and the first saves would pay on the
GUI thread, paid while the window is idle after its first paint.

Each of these is done once per process, and each used to stall the window at the moment the user
was looking at it (bench/ui_stall.py, GUI thread's CPU time in one turn): the first open's scrub
preview, session keeper and export menu modules (~3 ms in the turn its probe answers, ~4 ms in the
turn it is shown), the first answer's bubble module and the model catalog its meta line reads
(~6 ms each), PySide6 building QStyle's 13 enums
at the first Python reference to a style, which selecting the first answer makes (~8 ms); the model
manager's modules (~25 ms together, on the click that opens it); a writer's thread started by the
first save (`Thread.start` waits until the new thread has run). Here they are done beforehand, one
at a time: what is plain Python on a pool thread, what defines or touches Qt classes on the GUI
thread, each step at a turn of its own `STEP_GAP_MS` after the last, so that no step makes a stall
longer than it and the event loop (a video playing, a paint) runs in between. A step that fails
leaves the first use to do it, and to report what went wrong then. The last step collects, then
freezes what they made, as the app froze what its start made (`desktop.app._collect_from_now_on`):
it lives as long as the app, and a full collection on the GUI thread would otherwise walk it again
each time (in bench/ui_stall.py, without this step the video opened next stalled longer than with no
preparation at all: median 53 against 35 ms, 7 runs each; with it, 42 against 46).
"""

from __future__ import annotations

import gc
import importlib
import logging
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QTimer

from desktop.threads.background import run_job

if TYPE_CHECKING:
    from desktop.windows.main_window import MainWindow

log = logging.getLogger(__name__)
FIRST_STEP_MS = 200  # after `prepare`: the window's own after-paint work (the model list, a first open) goes first
STEP_GAP_MS = 40
PLAIN_MODULES = (  # no Qt: imported on a pool thread
    "videochat.sessions.formats",
    "videochat.models.catalog",
    "videochat.families",
    "videochat.runtimes",
    "videochat.models.torch_pairs",
)
QT_MODULES = (  # in the order the first uses import them; each a step of its own (1 to 8 ms here)
    "desktop.player.scrub_preview",  # the first open: its probe's answer
    "desktop.session.keeper",  # the first open: the session read, and the export menu filled
    "desktop.session.exporting",
    "desktop.chat.bubbles",  # the first answer
    "desktop.threads.download_worker",  # the model manager
    "desktop.windows.model_table",
    "desktop.windows.runtime_dialog",
    "desktop.windows.model_manager",
)


def prepare(window: MainWindow) -> None:
    """Start preparing the first uses; steps still waiting when the window goes are not run."""
    run_job(_off_the_gui_thread, window.window_settings.start_writer, returned=_done, errored=_failed)
    steps: list[Callable[[], object]] = [_style_enums, *(lambda name=name: importlib.import_module(name) for name in QT_MODULES), _freeze]
    QTimer.singleShot(FIRST_STEP_MS, window, lambda: _next_step(window, steps))


def _next_step(window, steps: list[Callable[[], object]]) -> None:
    # The next is queued by a new lambda: a closure that queued itself would be a reference cycle
    # holding the window, which the collector may break on any thread, deleting a QObject there.
    step = steps.pop(0)
    try:
        step()
    except Exception as error:  # noqa: BLE001 (the first use does it again, and reports it)
        _failed(error)
    if steps:
        QTimer.singleShot(STEP_GAP_MS, window, lambda: _next_step(window, steps))


def _off_the_gui_thread(start_settings_writer: Callable[[], None]) -> None:
    start_settings_writer()
    for name in PLAIN_MODULES:
        importlib.import_module(name)


def _style_enums() -> None:
    # The first Python reference to any QStyle makes PySide6 build all of its enum classes.
    from PySide6.QtWidgets import QApplication

    QApplication.style()


def _freeze() -> None:
    # Collected first (under 1 ms here: only what was made since the first paint's freeze is walked),
    # so that no garbage of the moment (a relay, a caught error's traceback) is frozen with them.
    gc.collect()
    gc.freeze()


def _done(_result) -> None:
    pass


def _failed(error: Exception) -> None:
    log.warning("preparing a first use failed (it is done at that use instead): %r", error)
