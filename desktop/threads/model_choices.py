"""What the window offers before a model is chosen: the catalog models on disk, and one to suggest.

Both read the disk or the machine (nvidia-smi may take a moment): run them off the GUI thread.
"""

from __future__ import annotations


def models_on_disk() -> list[tuple[str, str]]:
    """(label, repo id) of each catalog model in the Hugging Face cache."""
    from videochat.models.resolve import downloaded_entries

    return [(entry.label, entry.repo_id) for entry in downloaded_entries()]


def recommendation() -> str | None:
    """Which model to suggest on this machine, as a sentence; None if that cannot be told."""
    try:
        from videochat.models.fit import machine_budget, recommend
        from videochat.sizes import format_bytes

        budget = machine_budget()
        entry = recommend(budget)
        return f"Suggested for this machine ({budget.description}): {entry.label}, {format_bytes(entry.download_bytes)}."
    except Exception:  # a suggestion only: without it the window still says what to do
        return None
