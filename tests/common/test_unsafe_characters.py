"""Text that breaks feeds never reaches a post file (issue 14 item 3): common.text_rules.UNSAFE and
common.post_file. Every code point is tried: what a post file keeps is a character XML 1.0 allows,
and no bidirectional override or isolate control."""
from __future__ import annotations

import re
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import pytest

from common.post_file import escape_body, meta_markdown, meta_value, render_post, single_line
from common.text_rules import UNSAFE, remove_unsafe

# XML 1.0, production [2] Char.
XML_CHAR = re.compile("[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
BIDI = {0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069}
EVERY = "".join(chr(cp) for cp in range(0x110000))


def test_unsafe_is_exactly_what_xml_forbids_plus_bidi_controls():
    unsafe = {cp for cp in range(0x110000) if UNSAFE.match(chr(cp))}
    forbidden = {cp for cp in range(0x110000) if not XML_CHAR.match(chr(cp))}
    assert unsafe == forbidden | BIDI
    expected = "".join(" " if cp in (0xB, 0xC) else chr(cp) for cp in range(0x110000)
                       if cp not in unsafe or cp in (0xB, 0xC))  # vertical tab and form feed: spaces
    assert remove_unsafe(EVERY) == expected
    assert remove_unsafe("a\x0bb\x0cc\ufffe\u202ed\ud800") == "a b cd"


@pytest.mark.parametrize("clean", [single_line, meta_value, meta_markdown, escape_body],
                         ids=["single_line", "meta_value", "meta_markdown", "escape_body"])
def test_what_the_post_file_keeps_of_every_character_is_xml(clean):
    kept = clean(EVERY)
    kept.encode("utf-8")  # no lone surrogate
    assert not UNSAFE.search(kept)
    ElementTree.fromstring(f"<feed><title>{escape(kept)}</title></feed>")


def test_render_post_writes_no_unsafe_character_anywhere():
    written = render_post({"Title": EVERY[:0x3000], "Summary": EVERY[0xD000:0x10000], "Tags": "a\ufffe,b\u202e"},
                          EVERY[:0x12000])
    assert not UNSAFE.search(written)
    assert "Tags: a,b\n" in written


def test_plain_text_is_left_as_it_is():
    text = "Wind from the north-west: 4 mm — déjà vu, 雨, مطر, 🌧"
    assert remove_unsafe(text) is text
    assert single_line(text) == text
