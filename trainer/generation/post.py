"""A generated post: title and body parsed from a sampled text, plus what is needed to regenerate it.

The corpus format puts each post's title on its first line, then a blank line, then the body, so a
model trained on it writes the same shape. ``parse_post`` takes the first line as the title when it
looks like one; otherwise the title comes from the body's first sentence.

A ``Post`` holds plain text; it is escaped once, when a post file is written (``common.post_file``).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from common.text_rules import SENTENCE_END, remove_controls

MAX_TITLE_CHARS = 90
MAX_TITLE_WORDS = 14



@dataclass
class Post:
    """One candidate post. ``title`` and ``body`` are plain text (paragraphs split by blank lines)."""

    title: str
    body: str
    seed: int | None = None
    model: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    gate: dict = field(default_factory=dict)
    text: str = ""  # the raw sampled text the post was parsed from
    title_from: str = "first line"  # or "first sentence"

    @property
    def words(self) -> int:
        return len(self.body.split())

    def to_dict(self) -> dict:
        return asdict(self)


def normalise_body(text: str) -> str:
    """Drop control characters, trim trailing spaces, unify newlines and keep at most one blank line between paragraphs."""
    text = remove_controls(text)
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines).strip("\n")
    return re.sub(r"\n{3,}", "\n\n", text)


def clean_title(line: str) -> str:
    """A title line without Markdown heading marks, underline rules, quotes or stray spaces."""
    title = line.strip()
    title = re.sub(r"^#{1,6}\s*", "", title)
    title = re.sub(r"\s*#+$", "", title)
    title = title.strip().strip("\"'“”‘’`*_").strip()
    return re.sub(r"\s+", " ", title)


def is_usable_title(title: str) -> bool:
    """A title has letters, is short (a line, not a paragraph) and doesn't end mid-sentence."""
    if not title or not re.search(r"[^\W\d_]", title):
        return False
    if len(title) > MAX_TITLE_CHARS or len(title.split()) > MAX_TITLE_WORDS:
        return False
    return not title.endswith((",", ";", ":", "-", "(", "—"))


def title_from_sentence(text: str) -> str:
    """A title from the first sentence of ``text``, cut at a word boundary when long."""
    flat = " ".join(text.split())
    match = SENTENCE_END.search(flat)
    sentence = flat[: match.start()] if match else flat
    sentence = sentence.rstrip(".!?").strip().strip("\"'“”‘’`*_").strip()
    words = sentence.split()
    title = ""
    for word in words[:MAX_TITLE_WORDS]:
        candidate = f"{title} {word}".strip()
        if len(candidate) > MAX_TITLE_CHARS:
            break
        title = candidate
    if title and len(title) < len(sentence):
        title = title.rstrip(",;:-—(") + "…"
    return title or "Untitled"


def parse_post(text: str, **extra) -> Post:
    """Split a sampled text into a ``Post``: first line as title, or one from the first sentence.

    ``extra`` fills the other fields (seed, model, settings, gate).
    """
    text = normalise_body(text)
    first, _, rest = text.partition("\n")
    title = clean_title(first)
    underline = re.match(r"^[=\-]{3,}\s*(\n|$)", rest)
    if underline:  # a setext heading: "Title\n====="
        rest = rest[underline.end():]
    if is_usable_title(title) and rest.strip():
        return Post(title=title, body=normalise_body(rest), text=text, **extra)
    body = text
    return Post(title=title_from_sentence(body), body=body, text=text, title_from="first sentence",
                **extra)
