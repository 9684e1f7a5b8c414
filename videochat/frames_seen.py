"""How many frames an answer's model saw, as the window's meta line and the Markdown export say it."""

from __future__ import annotations


def frames_seen(answer) -> str:
    """"6 frames": the frames the model saw (its chips and times), not the count asked for. Where a
    family's rule took fewer than were asked for (Qwen2-VL samples at most 2 per second, so a 3 s clip
    gives 6 of 8), the count asked for follows: "6 frames (8 asked for)"."""
    seen = len(answer.indices)
    said = f"{seen} frame{'' if seen == 1 else 's'}"
    asked = answer.frames
    return f"{said} ({asked} asked for)" if isinstance(asked, int) and asked > 0 and asked != seen else said
