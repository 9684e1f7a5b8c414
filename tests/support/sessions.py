"""A saved answer, a session writer and a session read back from disk, as the session tests build and read them."""

from __future__ import annotations

from videochat.chat import Answer
from videochat.sessions.recorder import SessionRecorder
from videochat.sessions.store import SessionStore


def answer(question="What happens?", times=(0.0, 0.5, 1.0), segment=None, text="A dog runs.", asked_at=1_700_000_000.5) -> Answer:
    return Answer(
        question=question, text=text, stopped=False, indices=[int(t * 25) for t in times], times=list(times),
        model="Tiny", revision="abc123", family="native", frames=len(times), segment=segment,
        settings={"max_new_tokens": 8, "temperature": 0.0}, device="cpu", precision="float32", asked_at=asked_at, follow_up=False,
    )  # fmt: skip


def recorder(store, video) -> SessionRecorder:
    """A writer of `video`'s session that has read the file as it is now."""
    return SessionRecorder(store, store.open(video))


def saved(path):
    """The session saved for the video at `path`, read from disk."""
    return SessionStore().read(path)
