"""A turn's answers when it was regenerated (schema 3): every answer given to its question, and which one is shown.

The turn keeps its id whatever answer it shows (notes name it by that id), so every answer of a
turn carries the turn's id. In the file, a regenerated turn is its shown answer, as any turn is,
plus `alternatives` (its other answers, oldest first) and `shown` (the shown answer's place among
all of them); a turn never regenerated has neither. Read from a file, what is wrong there is left
out, never fatal: `alternatives` that is not a list, an entry that is not a turn about the same
question, or whose text is beyond `MAX_TEXT_CHARS`, and entries beyond `MAX_ANSWERS`; a `shown`
that is not a number in range is clamped (not a number: the shown answer is the newest).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from videochat import app_files
from videochat.chat import Answer

MAX_ANSWERS = 50  # a turn's answers kept; regenerating past it drops the oldest
MAX_TEXT_CHARS = 1_000_000  # far beyond any answer a model's max_new_tokens allows


@dataclass(frozen=True)
class Alternatives:
    """All the answers given to one turn (oldest first), and the index of the one shown. Never changed: replaced."""

    answers: tuple[Answer, ...]
    shown: int

    @property
    def shown_answer(self) -> Answer:
        return self.answers[self.shown]

    def with_answer(self, answer: Answer) -> Alternatives:
        """One more answer, shown (the oldest dropped beyond `MAX_ANSWERS`)."""
        answers = (*self.answers, answer)[-MAX_ANSWERS:]
        return Alternatives(answers, len(answers) - 1)

    def showing(self, choice: int) -> Alternatives:
        return Alternatives(self.answers, min(max(choice, 0), len(self.answers) - 1))

    def to_file(self) -> dict:
        """The keys a turn's dict gains in the file: the other answers and where the shown one goes."""
        others = [answer.to_dict() for number, answer in enumerate(self.answers) if number != self.shown]
        return {"alternatives": others, "shown": self.shown}


def read(turn: dict, shown_answer: Answer, source: str | Path) -> Alternatives | None:
    """The alternatives of a turn read from a file (`shown_answer` is the turn itself, already read); None when it has none."""
    entries = turn.get("alternatives")
    if not isinstance(entries, list):
        return None
    others = []
    for entry in entries[: MAX_ANSWERS - 1]:
        try:
            answer = Answer.from_dict(entry, source, fallback_id=shown_answer.id)
        except app_files.BadAppFile:
            continue
        if answer.question == shown_answer.question and len(answer.text) <= MAX_TEXT_CHARS:
            others.append(dataclasses.replace(answer, id=shown_answer.id))
    if not others:
        return None
    shown = turn.get("shown")
    shown = min(max(shown, 0), len(others)) if app_files.is_kind(shown, int) else len(others)
    return Alternatives((*others[:shown], shown_answer, *others[shown:]), shown)


def merged(base_shown: Answer | None, ours: Alternatives, theirs: Alternatives) -> Alternatives:
    """One turn's answers as two writers left them: every answer either has; the one shown is ours
    if we changed which one is shown since `base_shown` (what we last wrote), else theirs."""
    known = {_key(answer) for answer in theirs.answers}
    answers = [*theirs.answers, *(answer for answer in ours.answers if _key(answer) not in known)][-MAX_ANSWERS:]
    changed_here = base_shown is None or _key(ours.shown_answer) != _key(base_shown)
    wanted = _key(ours.shown_answer if changed_here else theirs.shown_answer)
    keys = [_key(answer) for answer in answers]
    return Alternatives(tuple(answers), keys.index(wanted) if wanted in keys else len(answers) - 1)


def _key(answer: Answer) -> tuple:
    """Tells a turn's answers apart (they share the turn's id)."""
    return (answer.asked_at, answer.answered_at, answer.text)
