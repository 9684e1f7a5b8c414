"""An answer as the export tests build it, and one whose text carries the markup every format must escape."""

from __future__ import annotations

from videochat.chat import Answer


def make_answer(question: str, text: str, times: list[float], segment=None, stopped=False) -> Answer:
    return Answer(
        question=question, text=text, stopped=stopped, indices=[round(t * 25) for t in times], times=times,
        model="InternVL2-1B", revision="0123abcd", family="internvl2", frames=len(times), segment=segment,
        settings={"max_new_tokens": 64, "temperature": 0.0}, device="cuda:0", precision="bfloat16",
        asked_at=1_700_000_000.25, follow_up=bool(segment),
    )


HOSTILE_ANSWER = (
    "<script>alert(1)</script> & &amp;\n# Not a heading\n```\n- not a list\n1. not a list\n> not a quote\n---\n"
    "    not code\n![x](http://tracker/?q=1) [link](javascript:x) `code` *em* C:\\path\\_x\n| a | b |\n=\n~~~"
)
