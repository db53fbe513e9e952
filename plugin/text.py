"""Turning the model's plain text into Markdown and metadata that can carry no HTML.

The plugin does its own escaping whatever the sampler already did: the body becomes Markdown in
which every character that could open markup (raw HTML, links, images, attribute lists such as
``{: onclick=...}``, code spans, tables, headings) is escaped, so the rendered HTML holds the
model's words as text and nothing else. Metadata values become single lines (the header must end
where the plugin thinks it does) and hold no ``<``, ``>``, ``"`` or ``'`` at all: they become
typographic look-alikes (‹ › ” ’). Escaping them as entities is not enough there, because themes
commonly print titles and summaries through Jinja's ``striptags``, which decodes entities again,
often inside an attribute (``title="{{ article.title|striptags }}"``, the meta description).
"""
from __future__ import annotations

import html
import re
import unicodedata

# Markdown punctuation escaped wherever it appears: links/images/footnotes ([ ] !), attribute
# lists ({ }), code (`), emphasis (* _), tables (|) and the backslash itself.
_INLINE = re.compile(r"([\\`*_{}\[\]|!])")
_ORDERED = re.compile(r"^(\d+)([.)])")
_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")
_SPACES = re.compile(r"\s+")


def _entities(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _strip_controls(text: str) -> str:
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")


def escape_line(line: str) -> str:
    """One line of plain text as Markdown that renders to exactly that text (less indentation).

    Leading spaces go (they would start a code block). At the start of the line: '#', '+', '-'
    (headings, lists, rules) and the '.' or ')' of '1.' get a backslash; '=', ':' and '~' (setext
    underlines, definition lists, fences), which Markdown cannot backslash-escape, become numeric
    character references. '>' is already '&gt;', so no block quote either.
    """
    line = _INLINE.sub(r"\\\1", _entities(line.strip()))
    line = _ORDERED.sub(r"\1\\\2", line)
    if line[:1] in ("#", "+", "-"):
        line = "\\" + line
    elif line[:1] in ("=", ":", "~"):
        line = f"&#{ord(line[0])};" + line[1:]
    return line


def escape_body(text: str) -> str:
    """Plain text (paragraphs separated by blank lines) as inert Markdown."""
    text = _strip_controls(text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [escape_line(line) for line in text.split("\n")]
    body = "\n".join(lines).strip("\n")
    return re.sub(r"\n{3,}", "\n\n", body) + "\n"


def single_line(value: object) -> str:
    """Any value as one line of plain text: line breaks and control characters become spaces."""
    text = _BREAKS.sub(" ", str(value))
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)
    return _SPACES.sub(" ", text).strip()


_LOOKALIKES = str.maketrans({"<": "\u2039", ">": "\u203a", '"': "\u201d", "'": "\u2019"})


def plain_line(value: object) -> str:
    """Single line, with < > " ' replaced by look-alikes that no HTML parser reads as markup."""
    return single_line(value).translate(_LOOKALIKES)


def meta_value(value: object) -> str:
    """A metadata value printed raw by templates (Title, ...): single line, inert even after
    ``striptags`` (no < > " '; & as &amp;)."""
    return html.escape(plain_line(value), quote=False)


def meta_markdown(value: object) -> str:
    """A metadata value Pelican renders through Markdown (Summary): single line, inert."""
    return escape_line(plain_line(value))


# The end of a sentence: . ! or ? followed by a space or the end of the text. Searched once from
# left to right (linear), never as "(.+?[.!?])" from every position (quadratic: hours for 1 MB).
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")


def _flat_head(text: str, size: int) -> str:
    """The first ``size`` characters of ``single_line(text)``, flattening only as much of ``text``
    as that needs (a 1 MB body costs no more than a short one)."""
    chunk = max(size * 4, 256)
    while True:
        flat = single_line(text[:chunk])
        if len(flat) >= size or chunk >= len(text):
            return flat[:size]
        chunk *= 2


def first_sentence(text: str, limit: int = 200) -> str:
    """The first sentence of ``text`` (at most ``limit`` characters, cut at a word).

    Only the start of ``text`` is read: a sentence longer than ``limit`` is cut anyway, so the
    first ``limit + 2`` flattened characters decide the result.
    """
    flat = _flat_head(text, limit + 2)
    match = _SENTENCE_END.search(flat, 1)  # from 1: a sentence holds at least one character
    sentence = flat[: match.end()] if match else flat
    if len(sentence) > limit:
        sentence = sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return sentence
