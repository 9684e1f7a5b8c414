"""The Qt application (PySide6): the main window, its panes, and the model worker thread.

Panes are views: they draw what the core gives them and emit `sig_*_requested` signals; the
main window wires them to the worker, which calls the core. Nothing here decodes video or runs
a model on the GUI thread.
"""
