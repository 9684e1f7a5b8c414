"""How many frames an answer's model saw, as the window's meta line and the Markdown export say it."""

from __future__ import annotations

MOST_ASKED = 10_000  # no family takes more; a session file saying so is not repeated


def frames_seen(answer) -> str:
    """"6 frames": the frames the model saw (its chips and times), not the count asked for. Where the
    two differ (Qwen2-VL samples at most 2 a second, so a 3 s clip gives 6 of 8), the count asked for
    follows: "6 frames (8 asked for)"."""
    seen = len(answer.indices)
    said = f"{seen} frame{'' if seen == 1 else 's'}"
    asked = answer.frames
    if type(asked) is int and 0 < asked <= MOST_ASKED and asked != seen:
        return f"{said} ({asked} asked for)"
    return said
