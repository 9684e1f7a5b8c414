"""Top-level windows and dialogs: the main window, the model manager, the batch window, the shortcuts."""
