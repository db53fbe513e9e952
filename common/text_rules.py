"""Two rules about plain text that every stage shares: which characters are control characters
(and go), and where a sentence ends. Torch-free, Pelican-free."""
from __future__ import annotations

import re

# Control characters but tab and newline: C0 (with carriage return, once newlines are unified),
# DEL and C1. Vertical tab and form feed separate words, so they become spaces.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_AS_SPACE = "\x0b\x0c"

# The end of a sentence: . ! or ?, any closing quotes or brackets, then a space or the end of the
# text; or a smiley that closes a sentence the way bloggers sign off (":)", ";-)", "=)", ":D").
# Searched once from left to right (linear), never as "(.+?[.!?])" from every position
# (quadratic: hours for 1 MB).
SENTENCE_END = re.compile(r"(?:[.!?][\"'”’)\]]*|(?<=\s)[:;=]-?[)D])(?=\s|$)")


def unify_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def remove_controls(text: str) -> str:
    """``text`` with unified newlines and no control characters (tabs and newlines stay)."""
    text = unify_newlines(text)
    if not CONTROL.search(text):
        return text
    return CONTROL.sub(lambda m: " " if m.group() in _AS_SPACE else "", text)
