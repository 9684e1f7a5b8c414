"""Times as people read them in players and editors: h:mm:ss.mmm."""

from __future__ import annotations

import math

LONGEST_SECONDS = 10**9  # about 31 years: longer than any video, short enough to show and to count in milliseconds


def milliseconds(seconds: float) -> int:
    """The nearest millisecond to the time as written (its shortest decimal form), halves up; never negative.

    Every time the app shows, stores in a note or exports is rounded by this one rule, so that a
    frame at 0.0625 s is 0.063 everywhere. Only a time within float error of a half millisecond
    needs its written digits (decimal, imported then: it costs the app's start-up 9 ms). A time past
    `LONGEST_SECONDS` (a hostile file's 1e306, finite until multiplied) counts as that, and one before
    0 (its -1e308) as 0.
    """
    scaled = max(0.0, min(seconds, LONGEST_SECONDS)) * 1000
    if abs(scaled - math.floor(scaled) - 0.5) > 1e-6:
        return math.floor(scaled + 0.5)
    from decimal import ROUND_HALF_UP, Decimal

    return int(Decimal(repr(seconds)).scaleb(3).quantize(Decimal(1), rounding=ROUND_HALF_UP))  # here 0 <= seconds


def format_time(seconds: float) -> str:
    """h:mm:ss.mmm, as the player shows it (negative times are shown as 0)."""
    hours, rest = divmod(milliseconds(seconds), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def parse_time(text: str) -> float:
    """Seconds from "h:mm:ss.mmm", "m:ss.mmm" or "ss.mmm" (a comma works as the decimal mark too).

    Raises ValueError for anything else, including negative times and out-of-range minutes or seconds.
    """
    parts = text.strip().replace(",", ".").split(":")
    if not 1 <= len(parts) <= 3 or any(not part for part in parts):
        raise ValueError(f"not a time: {text!r}")
    *whole, last = parts
    seconds = float(last)
    if not 0 <= seconds < (60 if whole else float("inf")):
        raise ValueError(f"not a time: {text!r}")
    numbers = [int(part) for part in whole]
    if any(n < 0 for n in numbers) or (len(numbers) == 2 and numbers[1] >= 60):
        raise ValueError(f"not a time: {text!r}")
    total = 0
    for number in numbers:
        total = total * 60 + number
    return total * 60 + seconds if numbers else seconds
