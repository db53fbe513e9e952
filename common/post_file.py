"""The post file: how a machine-written post is written to disk, and the escaping that makes its
text safe. The plugin (``plugin.store``) and ``trainer sample --out`` both write posts with
``render_post``; nothing else escapes generated text.

A post file is Markdown with Pelican metadata: ``Key: value`` lines, a blank line, the body. The
body is escaped so that every character that could open markup (raw HTML, links, images,
attribute lists such as ``{: onclick=...}``, code spans, tables, headings) renders as text.
Metadata values become single lines (the header must end where Pelican thinks it does) and hold no
``<``, ``>``, ``"`` or ``'`` at all: they become typographic look-alikes (‹ › ” ’). Escaping them
as entities is not enough there, because themes commonly print titles and summaries through
Jinja's ``striptags``, which decodes entities again, often inside an attribute
(``title="{{ article.title|striptags }}"``, the meta description). Text is escaped once, when a
post file is written: a post in memory always holds plain text.

Values and body also lose every character XML 1.0 forbids and the bidirectional controls
(``common.text_rules.UNSAFE``): one U+FFFE in a title made every Atom feed of the site invalid XML,
and an U+202E makes "invoice\u202eexe.pdf" read "invoicefdp.exe".
"""
from __future__ import annotations

import html
import re
import unicodedata

from common.text_rules import SENTENCE_END, remove_controls, remove_unsafe

# Markdown punctuation escaped wherever it appears: links/images/footnotes ([ ] !), attribute
# lists ({ }), code (`), emphasis (* _), tables (|) and the backslash itself.
_INLINE = re.compile(r"([\\`*_{}\[\]|!])")
_ORDERED = re.compile(r"^(\d+)([.)])")


def _entities(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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




_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")
_SPACES = re.compile(r"\s+")
_LOOKALIKES = str.maketrans({"<": "\u2039", ">": "\u203a", '"': "\u201d", "'": "\u2019"})


def single_line(value: object) -> str:
    """Any value as one line of plain text: line breaks and control characters become spaces;
    the other characters no published text may hold (``text_rules.UNSAFE``) go."""
    text = _BREAKS.sub(" ", str(value))
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)
    return _SPACES.sub(" ", remove_unsafe(text)).strip()


def plain_line(value: object) -> str:
    """Single line, with < > " ' replaced by look-alikes that no HTML parser reads as markup."""
    return single_line(value).translate(_LOOKALIKES)


def meta_value(value: object) -> str:
    """A metadata value printed raw by templates (Title, ...): single line, inert even after
    ``striptags`` (no < > " '; & as &amp;). Entities alone are not enough: themes print titles
    through Jinja's ``striptags``, which decodes them again (this project's does, in ``<title>``)."""
    return html.escape(plain_line(value), quote=False)


def escape_body(text: str) -> str:
    """Plain text (paragraphs separated by blank lines) as Markdown that renders to exactly that
    text and nothing else: no live HTML, no link of any scheme.

    Control characters and the other ``text_rules.UNSAFE`` characters go first. Each line goes
    through ``escape_line``: ``&``, ``<`` and ``>`` become entities (so no raw HTML
    block, inline tag or ``<autolink>`` can open) and the Markdown punctuation that could make a
    link, image, attribute list (``{: onclick=...}``) or code is backslash-escaped, so a
    ``[x](javascript:...)`` in the text stays those characters. Idempotence is not promised:
    escape once, when writing.
    """
    lines = [escape_line(line) for line in remove_unsafe(remove_controls(text)).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines).strip("\n")) + "\n"


def meta_markdown(value: object) -> str:
    """A metadata value Pelican renders through Markdown (Summary): single line, inert."""
    return escape_line(plain_line(value))


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
    match = SENTENCE_END.search(flat, 1)  # from 1: a sentence holds at least one character
    sentence = flat[: match.end()] if match else flat
    if len(sentence) > limit:
        sentence = sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return sentence


# Metadata Pelican renders through Markdown rather than printing as it is.
MARKDOWN_METADATA = ("Summary",)


def render_post(metadata: dict[str, object], body: str) -> str:
    """A post file: ``Key: value`` lines, a blank line, then the body as inert Markdown.

    Values and body are plain text; each value becomes one inert line (``meta_value``, or
    ``meta_markdown`` for the keys Pelican renders as Markdown), empty values are left out.
    """
    lines = []
    for key, value in metadata.items():
        shown = meta_markdown(value) if key in MARKDOWN_METADATA else meta_value(value)
        if shown:
            lines.append(f"{key}: {shown}")
    return "\n".join(lines) + "\n\n" + escape_body(body)
