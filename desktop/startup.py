"""Start the app so that a failure is never silent, even one that keeps Qt from starting.

The app itself shows a dialog for what fails once Qt is up (`desktop.app`). What fails before
(Qt's own libraries missing, a damaged install) is written to a file in the log folder and, when
the desktop has a way to show a message without Qt (zenity, kdialog, xmessage), shown with it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import traceback
from pathlib import Path


def run_app(argv: list[str]) -> int:
    try:
        from PySide6 import QtWidgets  # noqa: F401 (Qt's libraries: what a broken install or a bare system lacks)

        from desktop.app import main
    except Exception as error:  # the last place where anything can be said
        return _cannot_start(error)
    return main(argv)


def _cannot_start(error: BaseException) -> int:
    details = traceback.format_exc()
    sys.stderr.write(details)
    report = _write_report(details)
    message = f"VideoChat could not start: {type(error).__name__}: {error}"
    if report is not None:
        message += f"\n\nThe details are in {report}."
    _show_without_qt(message)
    return 1


def _write_report(details: str) -> Path | None:
    try:
        from videochat.app_files import write_atomically
        from videochat.paths import start_failure_report

        path = start_failure_report()
        write_atomically(path, details)
        return path
    except Exception:
        return None


def _show_without_qt(message: str) -> None:
    if sys.platform == "win32":
        try:
            import ctypes

            ctypes.windll.user32.MessageBoxW(None, message, "VideoChat", 0x10)
        except Exception:
            pass
        return
    for command in (["zenity", "--error", "--no-markup", "--text", message], ["kdialog", "--error", message], ["xmessage", "-center", message]):
        if shutil.which(command[0]):
            try:
                subprocess.run(command, timeout=600, check=False)
            except (OSError, subprocess.SubprocessError):
                continue
            return
