"""Reading one post file with Pelican's own readers (so metadata means what it means to Pelican).

Posts whose metadata is a YAML front-matter block (``---`` ... ``---``, common after a move from
Jekyll or Hugo) are read too: the block is parsed with ``yaml.safe_load``, aliases refused (or,
when it is not valid YAML, as plain ``Key: value`` lines the way Pelican's Markdown reader reads
them), each value goes through Pelican's metadata processors, and only the body is rendered.

Every outcome is a :class:`ReadResult`: either a post (title, date, status, text) or a bad-input
reason (``unreadable``, ``binary``, ``not-utf8``, ``empty``, ``broken-metadata``).
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
from pelican.readers import MarkdownReader

from common.corpus_format import is_generated
from common.fileio import sha256_bytes

from .clean import remove_controls
from .strip import html_to_text, title_text

MARKDOWN_FORMATS = {"md", "markdown", "mkd", "mdown"}
_META_PRIORITY = 27  # where Python-Markdown's meta extension registers its preprocessor
# Front-matter keys that Pelican's processors expect as one string.
_STRING_KEYS = {"date", "modified", "status", "slug", "category", "author", "title", "lang"}
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class ReadResult:
    """What reading one file gave: a post, or a bad-input reason with a detail."""

    path: str  # as shown to the user and in the manifest
    fmt: str
    sha256: str | None = None
    title: str = ""
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

    def __init__(self, settings: dict, keep_code: bool = False, keep_markdown: bool = False):
        from pelican.readers import Readers

        self.settings = settings
        self.keep_code = keep_code
        self.keep_markdown = keep_markdown
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
            data = path.read_bytes()
        except OSError as exc:
            return _bad(result, "unreadable", exc.strerror or str(exc))
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

        # A title can come from the file name (FILENAME_METADATA), which may not be UTF-8.
        result.title = _valid_text(title_text(metadata.get("title")))
        if not result.title:
            return _bad(result, "broken-metadata", "no title in the metadata (Pelican skips it too)")
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
            result.text = markdown_body
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
            html, reader_meta = self._read_markdown(reader, path, text)
            markdown_body = split_markdown_header(text)
        else:
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
        # reStructuredText / HTML bodies: let the site's reader render a copy in a temp folder
        # (never in the content folder).
        with tempfile.TemporaryDirectory(prefix="corpus-builder-") as tmp:
            copy = Path(tmp) / f"body.{fmt}"
            copy.write_text(body, encoding="utf-8")
            html, _ = reader.read(str(copy))
        return html


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
