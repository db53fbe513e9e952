"""HTML -> plain readable text, with BeautifulSoup.

Headings, paragraphs, list items, quotes, table rows, definition terms and footnotes become plain
lines (blocks separated by a blank line); links keep their text; images keep their alt text or
vanish; entities are decoded; whitespace is normalised. Code blocks are dropped unless
``keep_code`` is set, in which case they are kept verbatim as their own block. Markdown that a
renderer left as text (inside raw HTML blocks) is stripped too.

``markdown_text`` is the ``--keep-markdown`` counterpart: the Markdown stays, code blocks (unless
``keep_code``), template tags and comments go.
"""
from __future__ import annotations

import itertools
import re

from bs4 import BeautifulSoup, CData, NavigableString

from common.text_rules import remove_controls

try:  # lxml is faster when present; html.parser is always there
    import lxml  # noqa: F401

    PARSER = "lxml"
except ImportError:  # pragma: no cover - depends on the environment
    PARSER = "html.parser"

# Sentinels (never in real text: they are stripped from the input first).
PARA = "\x02"  # paragraph break
LINE = "\x03"  # line break
CELL = "\x04"  # between table cells
CODE = "\x05"  # placeholder for a kept code block: CODE + index + CODE
GLUE = "\x06"  # where an inline element was dropped: the space before it goes too

BLOCK_TAGS = frozenset({
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "dl", "table",
    "figure", "section", "article", "header", "footer", "aside", "hr", "address", "details",
    "main", "nav", "center", "fieldset", "hgroup", "body", "html",
})
LINE_TAGS = frozenset({"li", "dt", "dd", "tr", "figcaption", "caption", "summary", "legend"})
CELL_TAGS = frozenset({"td", "th"})

# Elements that carry no readable prose.
DROP_TAGS = frozenset({
    "script", "style", "iframe", "object", "embed", "svg", "math", "form", "button", "input",
    "select", "textarea", "noscript", "template", "video", "audio", "canvas", "map", "head",
})
# (tag, class) pairs for navigation and markup debris: tables of contents, docutils error
# reports, footnote back-links and reference markers (Markdown "extra" and docutils).
DROP_CLASSES = {
    "div": {"toc", "contents", "system-message", "system-messages"},
    "nav": {"toc", "contents"},
    "a": {"footnote-backref", "fn-backref", "footnote-ref", "footnote-reference", "headerlink"},
    "sup": {"footnote-ref"},
    "td": {"label"},
}
# Code blocks as Markdown (fenced_code / codehilite) and docutils write them.
CODE_CLASSES = {"div": {"highlight", "codehilite"}, "table": {"highlighttable"}}

_SPACE = re.compile(r"\s+")
_GLUE = re.compile(r"\s*\x06")
# Jinja / Liquid tags ({% include %}, {{ site.name }}) left in a post; never across a paragraph.
_TEMPLATE_TAG = re.compile(r"\{%[^\x02\x03]{0,300}?%\}|\{\{[^\x02\x03]{0,300}?\}\}")
_TOC_MARKER = re.compile(r"^\s*\[TOC\]\s*$", re.M)
_BLANK_LINE = re.compile(r"\n[ \t]*\n\s*")
# Markdown emphasis and code spans left as text (raw HTML blocks are not rendered); never inside
# words, so snake_case and 2*3*4 stay as they are.
_MD_STRONG = re.compile(r"(?<![\w*])(\*\*|__)(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_MD_EM = re.compile(r"(?<![\w*])([*_])(?=[^\s*_])(.+?)(?<=[^\s*_])\1(?![\w*])")
_MD_CODE_SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
CODE_PARENTS = frozenset({"code", "kbd", "samp", "tt"})


def html_to_text(html: str, keep_code: bool = False) -> str:
    """Plain text of an HTML fragment: paragraphs separated by blank lines, no markup."""
    if not html or not html.strip():
        return ""
    soup = BeautifulSoup(remove_controls(html), PARSER)
    out: list[str] = []
    code_blocks: list[str] = []
    try:
        _walk(soup, out, keep_code, code_blocks)
    except RecursionError:  # absurdly deep nesting: fall back to the bare text
        out, code_blocks = [soup.get_text("\n")], []
    return _assemble("".join(out), code_blocks)


def _walk(node, out: list[str], keep_code: bool, code_blocks: list[str], in_line: bool = False) -> None:
    """One pass over the tree, writing text and break sentinels into ``out``.

    Inside a list item, definition or table cell (``in_line``), blocks such as paragraphs and
    nested lists only break the line: a list stays one paragraph of lines.
    """
    for child in node.children:
        name = child.name
        if name is None:  # text
            if type(child) is NavigableString or isinstance(child, CData):
                out.append(_text_node(child, node.name, LINE if in_line else PARA))
            continue
        if name in DROP_TAGS:
            continue
        classes = child.get("class") or ()
        dropped = DROP_CLASSES.get(name)
        if dropped and any(c in dropped for c in classes):
            out.append(GLUE)
            continue
        if name == "sup" and str(child.get("id", "")).startswith("fnref"):
            out.append(GLUE)
            continue
        code = CODE_CLASSES.get(name)
        if name == "pre" or (code and any(c in code for c in classes)):
            if keep_code:
                code_blocks.append(child.get_text().strip("\n"))
                out.append(f"{PARA}{CODE}{len(code_blocks) - 1}{CODE}{PARA}")
            continue
        if name == "img":
            alt = (child.get("alt") or "").strip()
            out.append(f" {alt} " if alt else GLUE)
            continue
        if name == "br":
            out.append(LINE)
            continue
        if name in CELL_TAGS:
            out.append(CELL)
            _walk(child, out, keep_code, code_blocks, True)
            continue
        if name in BLOCK_TAGS:
            mark = LINE if in_line else PARA
        elif name in LINE_TAGS:
            mark = LINE
        else:
            mark = None
        if mark:
            out.append(mark)
        _walk(child, out, keep_code, code_blocks, in_line or name in LINE_TAGS)
        if mark:
            out.append(mark)


def _text_node(text: str, parent: str | None, mark: str) -> str:
    """A text node: its blank lines break paragraphs (Markdown left raw, or an HTML post without
    ``<p>``s) and, outside code, Markdown emphasis and code spans lose their markers."""
    if "\n" in text:
        text = _BLANK_LINE.sub(mark, text)
    if parent not in CODE_PARENTS and ("*" in text or "_" in text or "`" in text):
        text = _MD_CODE_SPAN.sub(r"\1", _MD_EM.sub(r"\2", _MD_STRONG.sub(r"\2", text)))
    return text


def _assemble(text: str, code_blocks: list[str]) -> str:
    text = _GLUE.sub("", _TEMPLATE_TAG.sub(GLUE, text))
    text = text.replace("\u00a0", " ").replace("\u200b", "")
    if "|" in text:
        text = PARA.join(_pipe_table_rows(block) for block in text.split(PARA))
    text = _SPACE.sub(" ", text)
    paragraphs = []
    for block in text.split(PARA):
        lines = []
        for line in block.split(LINE):
            cells = [_clean_residue(c).strip() for c in line.split(CELL)]
            line = ", ".join(c for c in cells if c)
            if line and line != "[TOC]":
                lines.append(line)
        if lines:
            paragraphs.append("\n".join(lines))
    out = "\n\n".join(paragraphs)
    if code_blocks:
        out = re.sub(f"{CODE}(\\d+){CODE}", lambda m: code_blocks[int(m.group(1))], out)
    return out.strip()


_TABLE_RULE = re.compile(r"[\s|:#-]*-{3,}[\s|:#-]*")


def _pipe_table_rows(block: str) -> str:
    """A Markdown pipe table that did not render (a malformed one stays a paragraph of
    ``| a | b |`` lines) becomes rows of cells, like a rendered table."""
    rows = [row.strip() for row in block.strip().split("\n") if row.strip()]
    if len(rows) < 2 or not all(row.startswith("|") or row.endswith("|") for row in rows):
        return block
    if not any(_TABLE_RULE.fullmatch(row) for row in rows):
        return block
    out = []
    for row in rows:
        if _TABLE_RULE.fullmatch(row):
            continue
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        out.append(CELL.join(cell for cell in cells if cell and cell != "#"))
    return LINE.join(out)


# Markup that a renderer left as literal text: Markdown inside raw HTML blocks (which Markdown
# does not process), reStructuredText habits in Markdown posts and vice versa.
_MD_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\([^)\s]+(?:\s+\"[^\"]*\")?\)")
_BR_TEXT = re.compile(r"<br\s*[\\/]?\s*>", re.I)
_HEADING_MARK = re.compile(r"^#{1,6}\s+(?=\S)")
_DOUBLE_BACKTICKS = re.compile(r"``(?=\S)(.+?)(?<=\S)``")
_RST_LITERAL_COLONS = re.compile(r"(?<=\S)::$")


def _clean_residue(line: str) -> str:
    if "](" in line:
        line = _MD_LINK.sub(r"\1", _MD_IMAGE.sub(r"\1", line))
    if "<" in line:
        line = _BR_TEXT.sub(" ", line)
    if "``" in line:
        line = _DOUBLE_BACKTICKS.sub(r"\1", line)
    line = line.strip()
    if line.startswith("#"):
        line = _HEADING_MARK.sub("", line)
    if line.endswith("::"):
        line = _RST_LITERAL_COLONS.sub(":", line)
    return " ".join(line.split())


def title_text(title) -> str:
    """A title as one plain line (titles may hold HTML, e.g. from reStructuredText)."""
    if title is None:
        return ""
    title = str(title)
    if "<" in title or "&" in title:
        title = BeautifulSoup(title, PARSER).get_text()
    title = _TEMPLATE_TAG.sub("", title)
    return " ".join(title.split())


_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
_INDENTED = re.compile(r"^(?: {4}|\t)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")
_MD_JUNK = re.compile(r"[ \t]*(?:<!--.*?(?:-->|\Z)|\{%(?:(?!\n\s*\n).){0,300}?%\}"
                      r"|\{\{(?:(?!\n\s*\n).){0,300}?\}\}|^\[TOC\][ \t]*$)", re.S | re.M)
_BLANK_RUN = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def markdown_text(body: str, keep_code: bool = False) -> str:
    """A Markdown body kept as Markdown, without what is never prose: code blocks (fenced or
    indented; kept verbatim with ``keep_code``), template tags (``{% ... %}``, ``{{ ... }}``) and
    comments (``<!-- ... -->``)."""
    lines = body.split("\n")
    chunks = []
    for is_code, group in itertools.groupby(zip(lines, _code_lines(lines)), key=lambda pair: pair[1]):
        text = "\n".join(line for line, _ in group)
        if not is_code:
            chunks.append(_BLANK_RUN.sub("\n\n", _MD_JUNK.sub("", text)).strip("\n"))
        elif keep_code:
            chunks.append(text.strip("\n"))
    return "\n\n".join(chunk for chunk in chunks if chunk.strip()).strip()


def _code_lines(lines: list[str]) -> list[bool]:
    """For each Markdown line, whether it is in a code block: fenced (``` or ~~~), or indented
    after a blank line that follows a paragraph (not a list item: that is the item's text)."""
    flags: list[bool] = []
    fence, indented, blank, last = None, False, True, ""
    for line in lines:
        opening = _FENCE.match(line)
        if fence:
            if opening and opening.group(1).startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
            flags.append(True)
            continue
        if opening:
            fence = opening.group(1)
            flags.append(True)
            continue
        if not line.strip():
            blank = True
            flags.append(indented)
            continue
        indented = bool(_INDENTED.match(line)) and (indented or (
            blank and not _LIST_ITEM.match(last) and not _INDENTED.match(last)))
        flags.append(indented)
        blank, last = False, line
    return flags


def normalise_plain(text: str) -> str:
    """Whitespace normalisation for plain-text sources (.txt, CSV, JSON Lines).

    Line breaks are kept, trailing spaces removed, runs of blank lines become one.
    """
    text = remove_controls(text)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    out = "\n".join(lines)
    out = re.sub(r"\n{3,}", "\n\n", out)
    return _TOC_MARKER.sub("", out).strip()
