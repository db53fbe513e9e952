"""Reading one post file with Pelican's own readers (so metadata means what it means to Pelican).

Posts whose metadata is a YAML front-matter block (``---`` ... ``---``, common after a move from
Jekyll or Hugo) are read too: the block is parsed with ``yaml.safe_load``, aliases refused (or,
when it is not valid YAML, as plain ``Key: value`` lines the way Pelican's Markdown reader reads
them), each value goes through Pelican's metadata processors, and only the body is rendered.

A post without a title in its metadata takes it from a leading level-1 heading (``# Title`` or
``Title`` over ``=====``, then taken out of the body), else from its file name; ``key : value``
header lines (a space before the colon) are metadata too.

Only what belongs to the blog is read (see :mod:`.files`: regular files within the size limit,
not linked from outside the content folder), and Pelican's own readers read the very bytes that
were checked (a copy), never the file a second time.

Every outcome is a :class:`ReadResult`: either a post (title, date, status, text) or a bad-input
reason (``unreadable``, ``binary``, ``not-utf8``, ``empty``, ``broken-metadata``, ``not-a-file``,
``too-large``, ``outside-content``).
"""
from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from markdown.extensions.meta import BEGIN_RE, END_RE, META_MORE_RE, META_RE
from pelican.readers import HTMLReader, MarkdownReader, RstReader

from common.corpus_format import is_generated
from common.fileio import sha256_bytes

from .clean import remove_controls
from .files import FileLimits, Refused, read_file
from .strip import html_to_text, markdown_text, title_text

MARKDOWN_FORMATS = {"md", "markdown", "mkd", "mdown"}
_META_PRIORITY = 27  # where Python-Markdown's meta extension registers its preprocessor
# Front-matter keys that Pelican's processors expect as one string.
_STRING_KEYS = {"date", "modified", "status", "slug", "category", "author", "title", "lang"}
_SURROGATE = re.compile("[\ud800-\udfff]")
# A header line with a space before the colon ("Tags : a, b"), and the keys that make a leading
# block of such lines a header (so a first line "Note : ..." stays text).
_SPACED_META = re.compile(r"^([ ]{0,3}[A-Za-z0-9_-]+)[ \t]+:")
_ANY_META = re.compile(r"^[ ]{0,3}([A-Za-z0-9_-]+)[ \t]*:")
_SPACED_FIELD = re.compile(r"^:([A-Za-z0-9_-]+)[ \t]+:(?=\s|$)", re.M)  # reStructuredText ":tags : a"
_PELICAN_KEYS = {"title", "date", "modified", "tags", "category", "slug", "author", "authors", "summary",
                 "status", "lang"}
# A body that opens with a level-1 heading: rendered, and as Markdown (ATX, setext or raw HTML).
_LEADING_H1 = re.compile(r"\A\s*<h1\b[^>]*>(.*?)</h1>", re.S | re.I)
_MD_LEADING_H1 = re.compile(r"\A\s*(?:#(?!#)[^\n]*|[^\n]+\n=+[ \t]*|<h1\b.*?</h1>[ \t]*)(?:\n|\Z)",
                            re.S | re.I)
_DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}[-_]")


@dataclass
class ReadResult:
    """What reading one file gave: a post, or a bad-input reason with a detail."""

    path: str  # as shown to the user and in the manifest
    fmt: str
    sha256: str | None = None
    title: str = ""
    title_source: str | None = None  # "metadata", "heading" or "filename" (posts only)
    date: str | None = None  # ISO 8601, in the site's time zone
    date_utc: str | None = None  # ISO 8601 in UTC, for ordering and the future-date rule
    status: str = "published"
    generated: bool = False
    text: str = ""
    reason: str | None = None  # bad-input reason; None for a readable post
    detail: str = ""


class BrokenMetadata(ValueError):
    pass


def split_markdown_header(text: str) -> str:
    """The body of a Markdown post without its Pelican metadata header.

    Mirrors Python-Markdown's ``meta`` extension (which Pelican's reader uses), so the body is
    exactly what Pelican renders.
    """
    lines = text.split("\n")
    key = None
    if lines and BEGIN_RE.match(lines[0]):
        lines.pop(0)
    while lines:
        line = lines.pop(0)
        if line.strip() == "" or END_RE.match(line):
            break
        if META_RE.match(line):
            key = True
            continue
        if META_MORE_RE.match(line) and key:
            continue
        lines.insert(0, line)
        break
    return "\n".join(lines).strip("\n")


def normalise_spaced_header(text: str) -> str:
    """``text`` with its header's ``Key : value`` lines written ``Key: value``.

    Python-Markdown ends a header at the first line with a space before the colon, and the rest
    would be body text. Only a leading block of ``key[ ]: value`` lines that names a key Pelican
    knows (title, date, tags, ...) is a header.
    """
    lines = text.split("\n")
    end, keys = 0, set()
    while end < len(lines) and (_ANY_META.match(lines[end]) or (end and META_MORE_RE.match(lines[end]))):
        keys.update(m.group(1).lower() for m in [_ANY_META.match(lines[end])] if m)
        end += 1
    if not keys & _PELICAN_KEYS or not any(_SPACED_META.match(line) for line in lines[:end]):
        return text
    return "\n".join([_SPACED_META.sub(r"\1:", line) for line in lines[:end]] + lines[end:])


def normalise_spaced_fields(text: str) -> str:
    """reStructuredText ``:tags : a, b`` (no field to docutils: it would be text) as ``:tags: a, b``,
    for the keys Pelican knows."""
    def field(match):
        return f":{match.group(1)}:" if match.group(1).lower() in _PELICAN_KEYS else match.group(0)

    return _SPACED_FIELD.sub(field, text)


def title_from_filename(path: Path) -> str:
    """``2021-03-04-rain-gauge_notes.md`` -> ``Rain gauge notes``."""
    words = " ".join(_DATE_PREFIX.sub("", path.stem).replace("-", " ").replace("_", " ").split()) or path.stem
    return words[:1].upper() + words[1:]


def find_title(path: Path, metadata: dict, html: str, markdown_body: str | None):
    """``(title, title_source, html, markdown_body)``: the metadata's title, else a leading level-1
    heading (taken out of the body so it is not repeated), else the file name."""
    title = title_text(metadata.get("title"))
    if title:
        return title, "metadata", html, markdown_body
    match = _LEADING_H1.match(html or "")
    if match and title_text(match.group(1)):
        if markdown_body is not None:
            markdown_body = _MD_LEADING_H1.sub("", markdown_body, count=1).strip("\n")
        return title_text(match.group(1)), "heading", html[match.end():], markdown_body
    return title_from_filename(path), "filename", html, markdown_body


def split_front_matter(text: str) -> tuple[dict, str] | None:
    """``(metadata, body)`` when ``text`` starts with a ``---`` block, else None.

    Raises :class:`BrokenMetadata` when the block is neither YAML mapping nor ``Key: value``
    lines.
    """
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return None
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        return None
    block = "\n".join(lines[1:end])
    body = "\n".join(lines[end + 1:]).strip("\n")
    try:
        meta = yaml.load(block, Loader=_SafeLoaderWithoutAliases)
    except yaml.YAMLError:
        meta = None
    if meta is None and block.strip():
        meta = _parse_key_value_lines(lines[1:end])
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise BrokenMetadata("front matter is not a set of 'key: value' lines")
    return {str(k).lower(): v for k, v in meta.items()}, body


class _SafeLoaderWithoutAliases(yaml.SafeLoader):
    """``yaml.safe_load`` that refuses aliases (``*name``).

    Aliases let a few hundred bytes stand for billions of values ("billion laughs"): cheap to
    load, but turning them into text takes minutes and gigabytes. Post metadata never needs them.
    """

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise BrokenMetadata(f"front matter line {mark.line + 2} uses a YAML alias (*name), "
                                 "which post metadata never needs; write the value out")
        return super().compose_node(parent, index)


def _parse_key_value_lines(lines: list[str]) -> dict:
    """``Key: value`` lines as Pelican's Markdown reader reads a header (values stay strings)."""
    meta: dict[str, str] = {}
    key = None
    for number, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        match = re.match(r"^\s{0,3}([A-Za-z0-9_-]+)\s*:\s*(.*)$", line)
        if match:
            key = match.group(1)
            meta[key] = match.group(2).strip()
        elif key and line[:1].isspace():
            meta[key] = (meta[key] + " " + line.strip()).strip()
        else:
            raise BrokenMetadata(f"front matter line {number} is not 'key: value': {line.strip()[:60]!r}")
    return meta


def _front_matter_value(name: str, value):
    """YAML values in the shapes Pelican's metadata processors expect."""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, list) and name in _STRING_KEYS:
        return ", ".join(str(v) for v in value)
    if isinstance(value, list) and name in ("tags", "authors"):
        return [str(v) for v in value]
    if isinstance(value, bool) or value is None:
        return "true" if value else "false" if value is not None else ""
    if isinstance(value, (int, float)) or name in _STRING_KEYS:
        return str(value)
    return value


class PostReader:
    """Reads post files with one site's settings (one instance per worker process)."""

    def __init__(self, settings: dict, keep_code: bool = False, keep_markdown: bool = False,
                 limits: FileLimits = FileLimits()):
        from pelican.readers import Readers

        self.settings = settings
        self.keep_code = keep_code
        self.keep_markdown = keep_markdown
        self.limits = limits
        self.readers = Readers(settings)
        self.tz = ZoneInfo(settings.get("TIMEZONE") or "UTC")
        self._markdown = None  # one Markdown instance per process, reset between files
        self._meta_preprocessor = None

    @property
    def extensions(self):
        return list(self.readers.extensions)

    def read(self, path: Path, root: Path, display: str) -> ReadResult:
        fmt = path.suffix[1:].lower()
        result = ReadResult(path=display, fmt=fmt)
        try:
            data = read_file(path, self.limits, root)
        except Refused as refused:
            return _bad(result, refused.reason, refused.detail)
        result.sha256 = sha256_bytes(data)
        if b"\x00" in data[:8192]:
            return _bad(result, "binary", "contains NUL bytes")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            return _bad(result, "not-utf8", f"invalid UTF-8 at byte {exc.start}; save it as UTF-8")
        if not text.strip():
            return _bad(result, "empty", "the file is empty")
        text = remove_controls(text)

        try:
            metadata, html, markdown_body = self._read(path, root, fmt, text)
        except BrokenMetadata as exc:
            return _bad(result, "broken-metadata", str(exc))
        except ValueError as exc:  # Pelican's metadata processors (e.g. a date it cannot parse)
            return _bad(result, "broken-metadata", _one_line(exc))
        except Exception as exc:  # a reader failing on the markup itself
            return _bad(result, "unreadable", f"{type(exc).__name__}: {_one_line(exc)}")

        title, result.title_source, html, markdown_body = find_title(path, metadata, html, markdown_body)
        result.title = _valid_text(title)  # a file name may not be UTF-8
        result.status = str(metadata.get("status") or "published").strip().lower()
        result.generated = is_generated(metadata)
        date = metadata.get("date")
        if isinstance(date, dt.datetime):
            if date.tzinfo is None:
                date = date.replace(tzinfo=self.tz)
            result.date = date.isoformat()
            try:
                result.date_utc = date.astimezone(dt.timezone.utc).isoformat()
            except (OverflowError, ValueError):  # e.g. year 1 east of Greenwich
                return _bad(result, "broken-metadata",
                            f"date {date.isoformat(sep=' ')} is out of range once turned into UTC")
        if self.keep_markdown and markdown_body is not None:
            result.text = markdown_text(markdown_body, keep_code=self.keep_code)
        else:
            result.text = html_to_text(html or "", keep_code=self.keep_code)
        return result

    def _read(self, path: Path, root: Path, fmt: str, text: str):
        """(metadata, body HTML, Markdown body or None) the way Pelican's read_file builds them."""
        from pelican.readers import (
            _DISCARD,
            default_metadata,
            parse_path_metadata,
            path_metadata,
        )

        reader = self.readers.readers[fmt]
        source_path = os.path.relpath(path, root).replace(os.sep, "/")
        metadata = default_metadata(settings=self.settings, process=reader.process_metadata)
        metadata.update(path_metadata(full_path=str(path), source_path=source_path, settings=self.settings))
        metadata.update(
            parse_path_metadata(source_path=source_path, settings=self.settings, process=reader.process_metadata)
        )

        front = split_front_matter(text)
        markdown_body = None
        if front is not None:
            front_meta, body = front
            html = self._render_body(reader, fmt, body)
            reader_meta = self._process_front_matter(reader, front_meta)
            if fmt in MARKDOWN_FORMATS:
                markdown_body = body
        elif fmt in MARKDOWN_FORMATS and type(reader) is MarkdownReader:
            text = normalise_spaced_header(text)
            html, reader_meta = self._read_markdown(reader, path, text)
            markdown_body = split_markdown_header(text)
        elif fmt == "rst" and type(reader) is RstReader:
            html, reader_meta = self._read_copy(reader, fmt, normalise_spaced_fields(text))
        elif type(reader) is HTMLReader:
            html, reader_meta = self._read_copy(reader, fmt, text)
        else:  # a site's own reader (a plugin's) may look beside the file: it reads the file itself
            html, reader_meta = reader.read(str(path))
        metadata.update(reader_meta)
        return {k: v for k, v in metadata.items() if v is not _DISCARD}, html, markdown_body

    def _read_markdown(self, reader, path: Path, text: str):
        """Pelican's ``MarkdownReader.read``, with one Markdown instance reused across files.

        Pelican builds a new ``Markdown`` object per file, which costs about as much as the
        conversion itself. Here one instance is ``reset()`` between files; the metadata still
        goes through the reader's own ``_parse_metadata`` (which removes the ``meta``
        preprocessor to render formatted fields such as Summary: it is put back afterwards).
        """
        md = self._markdown
        if md is None:
            from markdown import Markdown

            md = self._markdown = Markdown(**self.settings["MARKDOWN"])
            self._meta_preprocessor = md.preprocessors["meta"]
        elif "meta" not in md.preprocessors:
            md.preprocessors.register(self._meta_preprocessor, "meta", _META_PRIORITY)
        md.reset()
        html = md.convert(text)
        reader._source_path = str(path)
        reader._md = md
        metadata = reader._parse_metadata(getattr(md, "Meta", {}))
        if "meta" not in md.preprocessors:
            md.preprocessors.register(self._meta_preprocessor, "meta", _META_PRIORITY)
        return html, metadata

    def _process_front_matter(self, reader, front_meta: dict) -> dict:
        out = {}
        for name, value in front_meta.items():
            value = _front_matter_value(name, value)
            if name == "draft" and str(value).lower() == "true":  # Hugo
                out.setdefault("status", "draft")
                continue
            if name == "published" and str(value).lower() == "false":  # Jekyll
                out.setdefault("status", "draft")
                continue
            try:
                out[name] = reader.process_metadata(name, value)
            except ValueError as exc:
                raise BrokenMetadata(f"front matter {name!r}: {_one_line(exc)}") from None
        return out

    def _render_body(self, reader, fmt: str, body: str) -> str:
        if fmt in MARKDOWN_FORMATS:
            from markdown import Markdown

            md = Markdown(**self.settings["MARKDOWN"])
            if "meta" in md.preprocessors:  # the body's first line is text, not metadata
                md.preprocessors.deregister("meta")
            return md.convert(body)
        return self._read_copy(reader, fmt, body)[0]

    def _read_copy(self, reader, fmt: str, text: str):
        """``reader.read`` of ``text`` (reStructuredText, HTML): the site's reader reads a copy in a
        temp folder (never in the content folder)."""
        with tempfile.TemporaryDirectory(prefix="corpus-builder-") as tmp:
            copy = Path(tmp) / f"body.{fmt}"
            copy.write_text(text, encoding="utf-8")
            return reader.read(str(copy))


def _bad(result: ReadResult, reason: str, detail: str) -> ReadResult:
    result.reason = reason
    result.detail = detail
    return result


def _valid_text(text: str) -> str:
    """``text`` with the undecodable bytes of a file name (lone surrogates) as U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] if text else type(exc).__name__
