"""Turning the model's plain text into Markdown and metadata that can carry no HTML.

The body is escaped with trainer.generation.post.escape_body whatever the sampler already did: Markdown in
which every character that could open markup (raw HTML, links, images, attribute lists such as
``{: onclick=...}``, code spans, tables, headings) is escaped, so the rendered HTML holds the
model's words as text and nothing else. Metadata values become single lines (the header must end
where the plugin thinks it does) and hold no ``<``, ``>``, ``"`` or ``'`` at all: they become
typographic look-alikes (‹ › ” ’). Escaping them as entities is not enough there, because themes
commonly print titles and summaries through Jinja's ``striptags``, which decodes entities again,
often inside an attribute (``title="{{ article.title|striptags }}"``, the meta description).
The escapers themselves live in trainer.generation.post (``trainer sample --out`` writes posts with them too).
"""
from __future__ import annotations

import re

# torch-free; the plugin writes posts with the trainer's escapers (store uses escape_body)
from trainer.generation.post import escape_body, escape_line, meta_value, plain_line, single_line  # noqa: F401


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
