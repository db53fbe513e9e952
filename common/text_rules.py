"""Rules about plain text that every stage shares: which characters are control characters (and
go), which characters no published text may hold, and where a sentence ends. Torch-free,
Pelican-free."""
from __future__ import annotations

import re

# Control characters but tab and newline: C0 (with carriage return, once newlines are unified),
# DEL and C1. Vertical tab and form feed separate words, so they become spaces.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_AS_SPACE = "\x0b\x0c"

# What no published text may hold (issue 14): the characters XML 1.0 forbids (C0 controls but tab,
# newline and carriage return; U+FFFE and U+FFFF; lone surrogates), one of which makes a whole Atom
# or RSS feed unreadable, and the bidirectional embedding, override and isolate controls
# (U+202A-U+202E, U+2066-U+2069), which make a title seem to say something else
# ("invoice\u202eexe.pdf" shows as "invoicefdp.exe").
UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff\u202a-\u202e\u2066-\u2069]")

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


def remove_unsafe(text: str) -> str:
    """``text`` without ``UNSAFE`` characters: what XML 1.0 forbids and bidirectional controls
    (vertical tab and form feed become spaces, the rest goes). Newlines, tabs and carriage returns
    stay; combine with ``remove_controls`` for the other control characters."""
    if not UNSAFE.search(text):
        return text
    return UNSAFE.sub(lambda m: " " if m.group() in _AS_SPACE else "", text)
