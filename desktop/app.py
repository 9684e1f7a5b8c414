"""Start the desktop app: `videochat-desktop [FILE]` or `python -m desktop [FILE]`.

Nothing heavy is imported here: the window appears at once, torch and transformers are
imported later on the model thread.
"""

from __future__ import annotations

import argparse
import gc
import sys


# What a start without arguments (from the desktop's menu, a launcher) gets: the parser's defaults
# (a test keeps them so), without building the parser, ~1.5 ms of the start-up before the window.
PLAIN_START = {"file": None, "model": None, "debug": False, "self_test": False, "trust_remote_code": False, "timeout": 300.0}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="videochat-desktop", description="Play a video and ask a video-language model about it.")
    parser.add_argument("file", nargs="?", help="a video to open")
    parser.add_argument("--model", help="a model to load: catalog name, repo id or folder (default: the last one used)")
    parser.add_argument("--debug", action="store_true", help="log everything, to the log file and to this terminal")
    checks = parser.add_argument_group("checking an install")
    checks.add_argument("--self-test", action="store_true", help="open FILE, load --model, ask one question, print the answer as JSON and quit (0: it worked)")
    checks.add_argument("--trust-remote-code", action="store_true", help="with --self-test: let the model run its own code")
    checks.add_argument("--timeout", type=float, default=PLAIN_START["timeout"], help="with --self-test: seconds before giving up (default 300)")
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    if not argv:
        return argparse.Namespace(**PLAIN_START)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.self_test and not (args.file and args.model):
        parser.error("--self-test needs a video FILE and --model")
    return args


def main(argv: list[str] | None = None) -> int:
    # Automatic garbage collection waits for the window's first paint: the start-up makes tens of
    # thousands of objects (modules, Qt's types and enums, widgets) that live as long as the app,
    # and about 50 collections walked them again and again (5 ms here). One pass comes after.
    gc.disable()
    try:
        return _run(sys.argv[1:] if argv is None else argv)
    finally:
        gc.enable()  # should the window have closed, or failed, before it was painted


NO_DISPLAY = (
    "VideoChat: there is no display to show the window on (DISPLAY and WAYLAND_DISPLAY are unset): run it in a "
    "desktop session, or with xvfb-run videochat-desktop, or QT_QPA_PLATFORM=offscreen videochat-desktop (no window shown)."
)


def _run(argv: list[str]) -> int:
    args = parse_args(argv)
    if _no_display():
        sys.stderr.write(NO_DISPLAY + "\n")  # else Qt aborts, saying its platform plugin could not start
        return 1
    # Before Qt: once PySide6 is imported, its import hook reads the source of every module
    # imported after it (looking for `from __feature__ import`). Reading the settings (platformdirs,
    # json) takes about 6 ms here, and twice that once PySide6 is in.
    failure = None
    try:
        settings, settings_path = _settings_for(args)
    except Exception as error:  # noqa: BLE001 (reported in a dialog, once Qt is up)
        settings, settings_path, failure = None, None, error
    from PySide6.QtWidgets import QApplication

    _answer_pyside_feature_scan()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    fonts = _load_fonts_meanwhile()
    app.setApplicationName("VideoChat")
    app.setOrganizationName("VideoChat")
    app.setDesktopFileName("videochat")  # Wayland and docks match the window to resources/videochat.desktop
    try:
        if failure is not None:
            raise failure
        from desktop.windows.main_window import MainWindow
        from desktop.resources import application_icon

        app.setWindowIcon(application_icon())
        window = MainWindow(settings, settings_path=settings_path)
    except Exception as error:  # a start-up failure gets a dialog, not a silent exit
        _report_start_failure(error)
        return 1
    finally:
        fonts.join()  # long done by now; the thread must not outlive the QApplication
    listening: list = []  # the QuitOnSignals, once made
    try:
        return _show_and_run(app, window, args, listening)
    finally:
        for quit_on_signals in listening:
            quit_on_signals.uninstall()


def _show_and_run(app, window, args: argparse.Namespace, listening: list) -> int:
    window.show()
    window.after_first_paint(_collect_from_now_on)
    window.after_first_paint(_load_extension_modules_without_gil)

    def listen_for_signals() -> None:
        # SIGTERM (a logout, `kill`) and Ctrl+C quit as File ▸ Quit does: sessions written, status 0.
        # After the first paint: its imports (socket) cost the start-up ~8 ms, and before it there
        # is nothing to save.
        from desktop.quit_signals import QuitOnSignals

        listening.append(QuitOnSignals(lambda: _quit(app, window)))

    window.after_first_paint(listen_for_signals)
    # Threads and the first open wait for the window's first paint: their imports would delay it.
    window.after_first_paint(lambda: _start_logging(args.debug))
    if args.self_test:
        from desktop.self_test import SelfTest

        test = SelfTest(app, window, args.file, args.model, args.trust_remote_code, args.timeout)
        window.after_first_paint(test.start)
        app.exec()
        _shut_down(window)
        return test.status
    if args.file:
        window.after_first_paint(lambda: window.open_video(args.file))
    window.after_first_paint(lambda: window.start_models(args.model))
    window.after_first_paint(lambda: _prepare_first_uses(window))
    status = app.exec()
    _shut_down(window)
    return status


def _quit(app, window) -> None:
    """Close the window (its close saves and stops everything), then leave every event loop,
    a modal dialog's included."""
    from shiboken6 import isValid

    if isValid(window):
        window.close()
    app.quit()


def _shut_down(window) -> None:
    """What the window's close did not already do: the event loop may end without it (app.quit())."""
    from shiboken6 import isValid

    from desktop.threads.background import stop_reporting

    # A closed window deleted itself (closeEvent); its shutdown has run.
    if isValid(window):
        window.shutdown()
    stop_reporting()


def _collect_from_now_on() -> None:
    """Automatic garbage collection, once the window is painted. What the start-up made (modules,
    Qt's types and enums, the widgets) lives as long as the app: frozen, no collection walks it again,
    where a full one on the GUI thread (while an answer streams) walked it all."""
    gc.freeze()
    gc.enable()


def _load_extension_modules_without_gil() -> None:
    """From now on the libraries of PyAV's and numpy's extension modules that worker threads import
    load without the GIL (`desktop.threads.heavy_imports`), set up on a pool thread: it imports
    ctypes (~6 ms)."""
    from desktop.threads.background import run_job

    run_job(_extension_modules_without_gil_job, returned=lambda _installed: None)


def _extension_modules_without_gil_job() -> bool:
    from desktop.threads.heavy_imports import load_extension_modules_without_gil

    return load_extension_modules_without_gil()


def _load_fonts_meanwhile():
    """Load the font database (fontconfig's list of the installed fonts: 9 to 17 ms here) on a thread
    of its own while the window's modules import, instead of on the GUI thread when the window first
    measures a text. QFontDatabase is thread-safe, and PySide6 lets go of the GIL while it loads."""
    import threading

    from PySide6.QtGui import QFontDatabase

    thread = threading.Thread(target=QFontDatabase.families, name="videochat-fonts", daemon=True)
    thread.start()
    return thread


def _prepare_first_uses(window) -> None:
    from desktop.windows import first_uses

    first_uses.prepare(window)


def _answer_pyside_feature_scan() -> None:
    """PySide6 reads the whole source of every module imported after it, to learn whether it uses
    PySide6 (for `from __feature__ import`, which this app never uses): 6 to 9 ms of the start-up for
    the app's own modules, and ~3 ms more for the standard library's that the window's modules import
    again (typing, logging, threading, collections…: each is read at its first import after PySide6).
    For those the answer is known without reading them: the desktop's use PySide6, the core's never do
    (tests/core/test_no_qt.py), and the standard library never does. Others (installed packages) are
    read as before; a PySide6 without this private hook changes nothing."""
    import os

    feature = sys.modules.get("shibokensupport.feature")
    scan = getattr(feature, "_mod_uses_pyside", None)
    if scan is None or getattr(scan, "answers_app_modules", False):
        return
    standard_library = os.path.dirname(os.__file__) + os.sep

    def uses_pyside(module) -> bool:
        package = getattr(module, "__name__", "").partition(".")[0]
        if package in ("desktop", "videochat"):
            return package == "desktop"
        path = getattr(module, "__file__", None) or ""
        if path.startswith(standard_library) and not any(part in path for part in ("site-packages", "dist-packages")):
            return False
        return scan(module)

    uses_pyside.answers_app_modules = True
    feature._mod_uses_pyside = uses_pyside


def _no_display() -> bool:
    """On Linux and the BSDs, nowhere to show a window and no platform chosen (macOS and Windows always have one)."""
    import os

    if sys.platform.startswith(("win", "darwin")):
        return False
    return not any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def _settings_for(args: argparse.Namespace):
    """The settings, and the file they are saved to (None: the user's own, `videochat.settings.default_path()`)."""
    from videochat.settings import Settings

    if not args.self_test:
        return Settings.load(), None
    import tempfile
    from pathlib import Path

    # A self-test leaves the user's settings (recent files, last model) as they were.
    return Settings(), Path(tempfile.mkdtemp(prefix="videochat-self-test-")) / "settings.json"


def _report_start_failure(error: Exception) -> None:
    import traceback

    from PySide6.QtWidgets import QMessageBox  # here: its enums would cost every start-up a few ms

    details = "".join(traceback.format_exception(error))
    sys.stderr.write(details)
    from desktop.errors import error_text
    from desktop.plain_text import plain_box

    # Plain text: what failed may name a file, a folder or a setting read from outside.
    box = plain_box(QMessageBox(QMessageBox.Icon.Critical, "VideoChat could not start", error_text(f"{type(error).__name__}: {error}")))
    box.setDetailedText(details)
    box.exec()


def _start_logging(debug: bool) -> None:
    """The log file, set up on a thread of its own: it imports huggingface_hub (to blank the stored token)."""
    import logging
    import threading

    from videochat.logs import RedactTokens, start_logging

    level = logging.DEBUG if debug else logging.INFO
    if debug:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactTokens())  # as the log file: secrets blanked, a terminal's controls escaped
        logging.getLogger("videochat").addHandler(handler)
        logging.getLogger("desktop").addHandler(handler)
        logging.getLogger("desktop").setLevel(logging.DEBUG)
    threading.Thread(target=start_logging, args=(level,), name="videochat-logging", daemon=True).start()
