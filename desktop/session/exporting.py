"""File ▸ Export conversation: choose where, then write the file on a pool thread."""

from __future__ import annotations

from pathlib import Path


from desktop.threads.background import run_job
from videochat.sessions.formats import FORMATS

# The menu's entries, made without importing videochat.sessions.export (that waits for export_with_dialog).
EXPORT_CHOICES = [(chosen.name, chosen.menu) for chosen in FORMATS.values()]


def export_with_dialog(window, session, format_name: str) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    from desktop.errors import error_text
    from desktop.plain_text import plain_box
    from videochat.sessions.session import Session

    chosen = FORMATS[format_name]
    extension = "." + chosen.extension.lstrip(".")
    video = Path(session.video.path)
    suggested = str(video.with_name(video.stem + extension))
    path, _ = QFileDialog.getSaveFileName(window, "Export the conversation", suggested, f"{chosen.title};;All files (*)")
    if not path:
        return
    if not Path(path).suffix:
        path += extension
    snapshot = Session.from_dict(session.to_dict())  # the window may change the session while this writes

    def exported(_result) -> None:
        window.statusBar().showMessage(f"Exported to {path}", 8000)

    def failed(error: Exception) -> None:
        reason = (error.strerror or str(error)) if isinstance(error, OSError) else f"{type(error).__name__}: {error}"
        # Plain text: the file name is the user's and the reason the system's, either may look like markup.
        box = plain_box(QMessageBox(QMessageBox.Icon.Warning, "Export failed", error_text(f"{Path(path).name} could not be written: {reason}"), parent=window))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()  # the GUI thread goes on; the box is modal to the window

    player = window.player
    same_video = player.info is not None and Path(player.info.path).resolve() == video.resolve()
    timeline = player.timeline if same_video else None  # answers' spans end where their last frames do
    run_job(_write, snapshot, format_name, Path(path), timeline, returned=exported, errored=failed)


def _write(session, format_name: str, path: Path, timeline=None) -> None:
    from videochat.sessions.export import write_export

    write_export(session, format_name, path, timeline)
