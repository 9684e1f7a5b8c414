"""The dialog that asks whether a model's own code may run: which files, from which folder, and that
they can do anything the user can. A yes is for the code shown (its digest); Cancel loads nothing."""

from __future__ import annotations

from pathlib import Path

from desktop.plain_text import plain_box
from videochat.safe_text import LONGEST_PATH, one_line


def remote_code_box(code, model: str, parent=None):
    """The dialog that asks whether a model's own code may run; its `run_button` is the yes.
    Plain text: a folder or file named like markup would otherwise be drawn as markup."""
    from PySide6.QtWidgets import QMessageBox  # on first use: its enums cost the start-up

    title, text, details = remote_code_question(code, model)
    box = plain_box(QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Cancel, parent))
    box.setInformativeText(details)
    box.run_button = box.addButton("Run its code", QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    return box


def remote_code_question(code, model: str) -> tuple[str, str, str]:
    """(title, text, details) of the dialog that asks whether a model's own code may run (`code`: a `ModelCode`)."""
    files = "\n".join(f"    {name}" for name in code.files)
    # A folder's name and path are outside text: on one line each, so that they cannot add lines of their own.
    name = one_line(Path(model).name or model)
    text = (
        f"Loading {name} runs Python code that came with the model, not code of this app:\n\n{files}\n\n"
        f"from the folder {one_line(str(code.folder), LONGEST_PATH)}"
    )
    details = (
        "This code can do anything you can do on this computer: read, change or delete your files, and use the network. "
        "Nothing vouches that it is what the model's authors published. Run it only if you trust where this model came from.\n\n"
        "A yes is remembered for these files as they are now; if they change, you are asked again."
    )
    return "Run this model's code?", text, details
