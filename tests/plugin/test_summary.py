"""The Summary line: the first sentence of the body, read from the start of the body only.

Regression (issue 7, reliability): first_sentence searched "(.+?[.!?])(\\s|$)" over the whole
flattened body, quadratic without a sentence end: 20 000 'A's took 5 s, a 1 MB body hours (the
build hung). Now it flattens and searches only the first limit + 2 characters.
"""
from __future__ import annotations

import random
import re

import pytest

from common import post_file as text


def _old_first_sentence(body: str, limit: int = 200) -> str:
    """The former implementation (correct, but quadratic): the reference for short texts."""
    flat = text.single_line(body)
    match = re.search(r"(.+?[.!?])(\s|$)", flat)
    sentence = match.group(1) if match else flat
    if len(sentence) > limit:
        sentence = sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return sentence


@pytest.mark.parametrize("body, expected", [
    ("The wind turned. Gulls stood on the mast.", "The wind turned."),
    ("Really?\nYes!", "Really?"),
    ("No end at all", "No end at all"),
    (". Starts with a dot. Then more", ". Starts with a dot."),
    ("Version 2.5 shipped today! Fine.", "Version 2.5 shipped today!"),
    ("  \n\n  Indented\nfirst line.  Second.", "Indented first line."),
    ("", ""),
])
def test_first_sentence(body, expected):
    assert text.first_sentence(body) == expected


def test_same_result_as_before_on_random_texts():
    rng = random.Random(7)
    alphabet = "ab .!?\n\t,;:"
    for _ in range(3000):
        body = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 90)))
        limit = rng.randint(1, 40)
        assert text.first_sentence(body, limit) == _old_first_sentence(body, limit), (body, limit)


@pytest.mark.parametrize("body", [
    "A" * 1_000_000,  # one character, no sentence end: what hung the build
    ("word " * 200_000) + "end.",
    " \n" * 300_000 + "x" * 400_000,  # a long blank start: flattening must look further
])
def test_a_one_megabyte_body_is_summarised_from_its_start_only(body, monkeypatch):
    start = len(body) - len(body.lstrip())  # blank lines before the first word
    expected = _old_first_sentence(body[: start + 5000])
    seen = []
    flatten = text.single_line

    def counting_single_line(value):
        seen.append(len(str(value)))
        return flatten(value)

    monkeypatch.setattr(text, "single_line", counting_single_line)
    summary = text.first_sentence(body)
    assert len(summary) <= 201 and summary.endswith("…")
    assert summary == expected
    # the work is bounded by what precedes and makes the summary, not by the body's length
    # (no timing: the characters flattened are counted)
    assert sum(seen) < 4 * (start + 5000), seen
