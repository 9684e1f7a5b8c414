"""Byte counts as people read them (decimal units, as the hub and disk makers count)."""


def format_bytes(count: float) -> str:
    if abs(count) < 1000:
        return f"{count:.0f} B"
    for unit in ("KB", "MB", "GB"):
        count /= 1000
        if abs(count) < 1000 or unit == "GB":
            return f"{count:.1f} {unit}"
