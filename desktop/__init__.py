"""The Qt application (PySide6): windows, panes, dialogs, the model worker thread.

It arrives with the desktop issue; the core in `videochat/` is usable without it.
"""
