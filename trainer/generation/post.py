"""A generated post: title and body parsed from a sampled text, plus what is needed to regenerate it.

The corpus format puts each post's title on its first line, then a blank line, then the body, so a
model trained on it writes the same shape. ``parse_post`` takes the first line as the title, always:
a title is never made up from the body. When that line is not a usable title (``title_problem``:
lower-case start, ends mid-phrase, too long, mostly punctuation) or the shape is wrong (no blank
line after it, no body), the post says why in ``Post.title_problem`` and the gate rejects it.

A sample that hit the length limit stopped mid-thought: ``trim_to_last_sentence`` cuts it back to
its last complete paragraph, or else its last complete sentence, without a section heading left
dangling at the end (``Sampler.to_post`` applies it).

A ``Post`` holds plain text; it is escaped once, when a post file is written (``common.post_file``).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from common.text_rules import SENTENCE_END, remove_controls

# Real blogs' titles measured up to 85 characters and 14 words ("... - Part 1" series titles);
# a line longer than this is a sentence or a paragraph, not a title.
MAX_TITLE_CHARS = 100
MAX_TITLE_WORDS = 16  # words with a letter or digit in them: "-" and "&" are not words
# A title ending in one of these stops mid-phrase ("Notes on the", "Rain, wind and").
_DANGLING_MARKS = (",", ";", ":", "-", "(", "—", "–", "/", "&", "…", "...")
# Or in one of these words (prepositions that can end a title, "Checking In", are not here).
_DANGLING_WORDS = frozenset("a an the and or but nor of into onto than my your our their his her its".split())
_IDIOMS = frozenset({"sort of", "kind of"})  # they end a title well
# A body that ends where a sentence ends: . ! or ? and any closing quotes or brackets.
_ENDS_A_SENTENCE = re.compile(f"(?:{SENTENCE_END.pattern})\\Z")


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
    title_problem: str = ""  # why the first line is not a usable title ("" when it is)

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


def title_problem(title: str) -> str:
    """Why ``title`` (a cleaned first line) is not a usable title, or "" when it is one."""
    if not title:
        return "empty"
    letters = sum(ch.isalpha() for ch in title)
    if letters == 0:
        return "no letters"
    if letters * 2 < len(title.replace(" ", "")):
        return "mostly punctuation"
    if len(title) > MAX_TITLE_CHARS or len(re.findall(r"\S*\w\S*", title)) > MAX_TITLE_WORDS:
        return f"too long (over {MAX_TITLE_CHARS} characters or {MAX_TITLE_WORDS} words)"
    if title[0].islower():
        return "starts lower-case"
    last_word = title.split()[-1]
    dangling = last_word.lower() in _DANGLING_WORDS and last_word != "A"  # "Plan A" ends well
    dangling = dangling and " ".join(title.lower().split()[-2:]) not in _IDIOMS  # "..., Sort Of"
    if title.endswith(_DANGLING_MARKS) or (len(title.split()) > 1 and dangling):
        return "ends mid-phrase"
    return ""


def is_usable_title(title: str) -> bool:
    """A title has letters, is short (a line, not a paragraph), starts with a capital (or a digit)
    and doesn't end mid-phrase."""
    return not title_problem(title)


def ends_a_sentence(text: str) -> bool:
    """Whether ``text`` ends where a sentence ends (``common.text_rules.SENTENCE_END``)."""
    return bool(_ENDS_A_SENTENCE.search(text.rstrip()))


def trim_to_last_sentence(body: str) -> str:
    """``body`` of a sample that hit the length limit, cut back to where a writer could stop.

    The paragraph sampling stopped in is unfinished: the body ends with the paragraph before it
    when that one ends a sentence; otherwise with the last complete sentence; "" when no sentence
    ended at all. A section heading left at the end, whose section was cut, goes too
    (``without_dangling_headings``).
    """
    body = normalise_body(body)
    head, blank, _unfinished = body.rpartition("\n\n")
    if blank and ends_a_sentence(head):
        return without_dangling_headings(head.rstrip())
    end = 0
    for match in SENTENCE_END.finditer(body):
        end = match.end()
    return without_dangling_headings(body[:end].rstrip())


def is_heading_line(paragraph: str) -> bool:
    """A paragraph that reads as a section heading: one short line (at most ``MAX_TITLE_WORDS``
    words) that is a question ("How much rain fell?") or no sentence at all ("What I found")."""
    line = paragraph.strip()
    short = "\n" not in line and len(re.findall(r"\S*\w\S*", line)) <= MAX_TITLE_WORDS
    return bool(line) and short and (line.endswith("?") or not ends_a_sentence(line))


def without_dangling_headings(body: str) -> str:
    """A trimmed ``body`` without the section headings at its end (a sample cut by the length limit
    can stop right after a heading: "How much rain did the storm deliver?" with nothing under it).
    The body stays as it is when nothing would be left, or when what is left ends mid-sentence."""
    paragraphs = body.split("\n\n")
    while len(paragraphs) > 1 and is_heading_line(paragraphs[-1]):
        paragraphs.pop()
    kept = "\n\n".join(paragraphs).rstrip()
    return kept if ends_a_sentence(kept) else body


def _same_words(a: str, b: str) -> bool:
    """Whether two lines hold the same words (case, punctuation and spacing aside)."""
    def plain(line: str) -> list[str]:
        return re.findall(r"\w+", line.casefold())
    return bool(plain(a)) and plain(a) == plain(b)


def parse_post(text: str, **extra) -> Post:
    """Split a sampled text into a ``Post``: the first line is the title, the rest the body.

    The title loses Markdown heading marks and quotes; a setext underline and a first body line
    that repeats the title are dropped. ``title_problem`` says why the post has no usable title.
    ``extra`` fills the other fields (seed, model, settings, gate).
    """
    text = normalise_body(text)
    first, _, rest = text.partition("\n")
    title = clean_title(first)
    problem = title_problem(title)
    underline = re.match(r"^[=\-]{3,}[ \t]*(\n|$)", rest)
    if underline:  # a setext heading: "Title\n=====": the underline separates it from the body
        rest = rest[underline.end():]
    elif rest and not rest.startswith("\n"):
        problem = problem or "no blank line after it"
    body = normalise_body(rest)
    repeat, _, after = body.partition("\n")
    if _same_words(clean_title(repeat), title):  # the body starts by repeating the title
        body = normalise_body(after)
    if not body:
        problem = problem or "empty body"
    return Post(title=title, body=body, text=text, title_problem=problem, **extra)
