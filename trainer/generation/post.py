"""A generated post: title and body parsed from a sampled text, plus what is needed to regenerate it.

The corpus format puts each post's title on its first line, then a blank line, then the body, so a
model trained on it writes the same shape. ``parse_post`` takes the first line as the title when it
looks like one; otherwise the title comes from the body's first sentence.

The escaping shared with the plugin lives here too, so there is one of each: ``escape_body`` /
``escape_markdown_html`` turn a post's plain text into Markdown source that can never carry live
HTML or script links, and ``meta_value`` turns a title into a metadata value that stays inert in a
theme. Text is escaped once, when a post file is written: a ``Post`` always holds plain text.
"""
from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import asdict, dataclass, field

MAX_TITLE_CHARS = 90
MAX_TITLE_WORDS = 14

# Schemes that run code or embed content when used as a link target.
_SCHEMES_ALWAYS = ("javascript", "vbscript")
# Between the letters of a scheme a browser ignores tabs and newlines (and we ignore any space or
# control character), so "java\tscript:" is caught too.
_GAP = r"[\s\x00-\x1f]*"
_SCHEME_RE = re.compile(
    r"\b(" + "|".join(_GAP.join(re.escape(ch) for ch in s) for s in _SCHEMES_ALWAYS) + r")"
    + _GAP + r":"
    + r"|\b(data)" + _GAP + r":(?=\s*[a-z]+/[\w.+-]+[;,])",  # data: only before a MIME type
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # control characters but tab and newline
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s")


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
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
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
    match = _SENTENCE_END.search(flat + " ")
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


# Markdown punctuation escaped wherever it appears: links/images/footnotes ([ ] !), attribute
# lists ({ }), code (`), emphasis (* _), tables (|) and the backslash itself.
_INLINE = re.compile(r"([\\`*_{}\[\]|!])")
_ORDERED = re.compile(r"^(\d+)([.)])")


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



_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")
_SPACES = re.compile(r"\s+")
_LOOKALIKES = str.maketrans({"<": "\u2039", ">": "\u203a", '"': "\u201d", "'": "\u2019"})


def single_line(value: object) -> str:
    """Any value as one line of plain text: line breaks and control characters become spaces."""
    text = _BREAKS.sub(" ", str(value))
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)
    return _SPACES.sub(" ", text).strip()


def plain_line(value: object) -> str:
    """Single line, with < > " ' replaced by look-alikes that no HTML parser reads as markup."""
    return single_line(value).translate(_LOOKALIKES)


def meta_value(value: object) -> str:
    """A metadata value printed raw by templates (Title, ...): single line, inert even after
    ``striptags`` (no < > " '; & as &amp;). Entities alone are not enough: themes print titles
    through Jinja's ``striptags``, which decodes them again (this project's does, in ``<title>``)."""
    return html.escape(plain_line(value), quote=False)


def escape_markdown_html(text: str) -> str:
    """``text`` made safe to put in a Markdown file as plain text: no live HTML, no script links.

    Each line goes through ``escape_line`` (the escaping the plugin writes posts with): ``&``, ``<``
    and ``>`` become entities (so no raw HTML block or inline tag can open), Markdown punctuation
    that could make a link, image, attribute list (``{: onclick=...}``) or code is escaped, and the
    colon after ``javascript`` or ``vbscript`` (in any case, with spaces or control characters
    between the letters), or after ``data`` before a MIME type (``data:text/html;``), becomes
    `` :``, which no browser reads as a scheme; a colon written as an entity is harmless once
    ``&`` is escaped. Idempotence is not promised: escape once, when writing.
    """
    lines = _strip_controls(text.replace("\r\n", "\n").replace("\r", "\n")).split("\n")
    text = "\n".join(escape_line(line) for line in lines)
    return _SCHEME_RE.sub(
        lambda m: re.sub(r"[\s\x00-\x1f]", "", m.group(1) or m.group(2)) + " :", text)
