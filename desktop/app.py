"""Start the desktop app: `videochat-desktop [FILE]` or `python -m desktop [FILE]`.

Nothing heavy is imported here: the window appears at once, torch and transformers are
imported later on the model thread.
"""

from __future__ import annotations

import argparse
import sys


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="videochat-desktop", description="Play a video and ask a video-language model about it.")
    parser.add_argument("file", nargs="?", help="a video to open")
    parser.add_argument("--model", help="a model to load: catalog name, repo id or folder (default: the last one used)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("VideoChat")
    app.setOrganizationName("VideoChat")
    try:
        from desktop.main_window import MainWindow
        from videochat.settings import Settings

        window = MainWindow(Settings.load())
    except Exception as error:  # a start-up failure gets a dialog, not a silent exit
        import traceback

        details = traceback.format_exc()
        sys.stderr.write(details)
        box = QMessageBox(QMessageBox.Icon.Critical, "VideoChat could not start", f"{type(error).__name__}: {error}")
        box.setDetailedText(details)
        box.exec()
        return 1
    window.show()
    if args.file:
        QTimer.singleShot(0, lambda: window.open_video(args.file))
    QTimer.singleShot(0, lambda: window.start_models(args.model))
    status = app.exec()
    window.shutdown()
    return status
