"""A note made from an answer takes the answer's first sentence; the whole answer stays in its turn."""

from __future__ import annotations

import pytest

from videochat.chat import Answer
from videochat.sessions.sentences import NOTE_TEXT_LIMIT, first_sentence
from videochat.sessions.session import Session, VideoIdentity

EXAMPLES = [
    # (answer, its first sentence)
    ("The man walks to the door. Then he opens it.", "The man walks to the door."),
    ("It ends.", "It ends."),
    ("No full stop at all", "No full stop at all"),
    ("", ""),
    ("   \n ", ""),
    ("Is he running? Yes, towards the camera.", "Is he running?"),
    ("Wow! A goal in the last minute.", "Wow!"),
    ("What?! The ball vanished.", "What?!"),
    # decimals, times and versions: a full stop not followed by whitespace ends nothing
    ("The jump lasts 1.5 s. Then he lands.", "The jump lasts 1.5 s."),
    ("Version 2.0 of the logo appears at 0:12.5 and stays.", "Version 2.0 of the logo appears at 0:12.5 and stays."),
    ("It costs 3.50. Nobody pays.", "It costs 3.50."),
    # abbreviations
    ("Small things, e.g. cups and plates, are on the table. A man enters.", "Small things, e.g. cups and plates, are on the table."),
    ("Two cars, i.e. a red one and a blue one, pass by. It rains.", "Two cars, i.e. a red one and a blue one, pass by."),
    ("Dr. Smith and Mr. Jones shake hands. They sit down.", "Dr. Smith and Mr. Jones shake hands."),
    ("At 3 p.m. the light changes. Later it is dark.", "At 3 p.m. the light changes."),
    ("The U.S. flag waves in the wind. A bird flies.", "The U.S. flag waves in the wind."),
    ("Apples, pears, etc. are shown. Then a dog runs.", "Apples, pears, etc. are shown."),
    ("Apples, pears, bananas, etc. Then a dog runs.", "Apples, pears, bananas, etc."),
    ("A cat vs. a dog: the dog wins. The end.", "A cat vs. a dog: the dog wins."),
    # a numbered list's markers are not sentences
    ("1. A man walks in. 2. He sits down.", "1. A man walks in."),
    ("The video shows:\n1. A man walks in.\n2. He sits down.", "The video shows: 1. A man walks in."),
    # quotes and brackets after the full stop belong to the sentence
    ('He says "stop." Then he leaves.', 'He says "stop."'),
    ("(The camera shakes.) Then it settles.", "(The camera shakes.)"),
    # an ellipsis before a lower-case word goes on
    ("The man waits... then he leaves. End.", "The man waits... then he leaves."),
    ("The man waits… Then he leaves.", "The man waits…"),
    # line breaks are spaces; a blank line ends a paragraph and so the sentence
    ("  A man\nwalks in. He sits.", "A man walks in."),
    ("The scene is dark\n\nA man walks in.", "The scene is dark"),
    # CJK full stops need no space after them
    ("一个人在走路。然后他停下了。", "一个人在走路。"),
    ("他在跑吗？是的。", "他在跑吗？"),
    ("太好了！进球了。", "太好了！"),
    ("画面里有一只猫，它在睡觉", "画面里有一只猫，它在睡觉"),
]


@pytest.mark.parametrize(("answer", "expected"), EXAMPLES)
def test_the_first_sentence_of_an_answer(answer, expected):
    assert first_sentence(answer) == expected


def test_a_long_first_sentence_is_cut_at_a_word_with_an_ellipsis():
    words = " ".join(f"word{n}" for n in range(100)) + ". Second sentence."
    text = first_sentence(words)
    assert len(text) <= NOTE_TEXT_LIMIT and text.endswith("…")
    assert words.startswith(text[:-1]) and words[len(text) - 1] == " "  # cut between two words


def test_a_long_sentence_without_spaces_is_cut_at_the_limit():
    text = first_sentence("很" * 500 + "。")
    assert text == "很" * (NOTE_TEXT_LIMIT - 1) + "…"


def answer(text: str) -> Answer:
    return Answer(
        question="What happens?", text=text, stopped=False, indices=[10, 20], times=[1.0, 2.0],
        model="Tiny", revision=None, family="native", frames=2, segment=None,
        settings={}, device="cpu", precision="float32", asked_at=1_700_000_000.5, follow_up=False,
    )  # fmt: skip


def test_a_note_from_an_answer_takes_its_first_sentence_and_keeps_its_turn():
    session = Session(VideoIdentity("/videos/a.mp4", 1000, duration=10.0, fps=10.0, frame_count=100))
    whole = "A man opens the door at 1.5 s. He walks in and sits down. The light goes out."
    session.add_answer(answer("Nothing."))
    session.add_answer(answer(whole))
    note = session.note_from_answer(1)
    assert note.text == "A man opens the door at 1.5 s."
    assert note.answer_id == session.turns[1].id and session.turns[1].text == whole
