"""Times as people read them in players and editors: h:mm:ss.mmm."""

from __future__ import annotations


def format_time(seconds: float) -> str:
    """h:mm:ss.mmm, as the player shows it (negative times are shown as 0)."""
    milliseconds = max(0, int(round(seconds * 1000)))
    hours, rest = divmod(milliseconds, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"
