"""Other text sources: a folder of ``.txt`` files, a CSV column, a JSON Lines field.

Each returns ``(documents, problems, source)``: documents as :class:`~.readers.ReadResult`
(plain text, no date), bad-input problems the same way (with a reason), and one manifest
entry for the file or folder. The ``.txt`` files of a folder are read by the same rules as posts
(:mod:`.files`); a CSV or JSON Lines file named on the command line only within the size limit.
"""
from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

from common.errors import CorpusError
from common.fileio import sha256_bytes

from .files import FileLimits, Refused, read_file
from .readers import ReadResult
from .strip import normalise_plain, title_text


def _decode(path: Path, display: str, fmt: str, limits: FileLimits,
            root: Path | None = None) -> tuple[str | None, ReadResult]:
    result = ReadResult(path=display, fmt=fmt)
    try:
        data = read_file(path, limits, root)
    except Refused as refused:
        result.reason, result.detail = refused.reason, refused.detail
        return None, result
    result.sha256 = sha256_bytes(data)
    if b"\x00" in data[:8192]:
        result.reason, result.detail = "binary", "contains NUL bytes"
        return None, result
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        result.reason, result.detail = "not-utf8", f"invalid UTF-8 at byte {exc.start}; save it as UTF-8"
        return None, result
    if not text.strip():
        result.reason, result.detail = "empty", "the file is empty"
        return None, result
    return text, result


def _read_source(path: Path, display, fmt: str, what: str, option: str,
                 limits: FileLimits) -> tuple[str | None, ReadResult]:
    """A CSV or JSON Lines file given on the command line: its text, or None and the problem."""
    if not path.is_file():
        raise CorpusError(f"{what} not found: {path} (check the {option} path)")
    return _decode(path, display(path), fmt, limits)


def _add_record(item: ReadResult, text: str | None, title: str, empty_detail: str,
                docs: list[ReadResult], problems: list[ReadResult]) -> None:
    """One record of a CSV or JSON Lines file: a document, or a problem when it holds no text."""
    item.text = normalise_plain(text or "")
    item.title = title
    if item.text:
        docs.append(item)
    else:
        item.reason, item.detail = "empty", empty_detail
        problems.append(item)


def read_txt_folder(folder: Path, display,
                    limits: FileLimits = FileLimits()) -> tuple[list[ReadResult], list[ReadResult], dict]:
    """Every ``*.txt`` file under ``folder`` (sorted by path) is one text, without a title."""
    if not folder.is_dir():
        raise CorpusError(f"text folder not found: {folder} (check the --txt path)")
    docs, problems = [], []
    for path in sorted(p for p in folder.rglob("*.txt") if not any(part.startswith(".") for part in p.parts)):
        text, result = _decode(path, display(path), "txt", limits, root=folder)
        if text is None:
            problems.append(result)
            continue
        result.text = normalise_plain(text)
        docs.append(result)
    source = {"path": display(folder), "format": "txt", "files": len(docs) + len(problems)}
    return docs, problems, source


def read_csv_column(path: Path, column: str, title_column: str | None, display,
                    limits: FileLimits = FileLimits()):
    """One text per row from ``column`` (quoted multi-line fields are handled by ``csv``)."""
    text, result = _read_source(path, display, "csv", "CSV file", "--csv", limits)
    if text is None:
        return [], [result], {"path": result.path, "format": "csv", "column": column}
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    fields = reader.fieldnames or []
    for name in [column] + ([title_column] if title_column else []):
        if name not in fields:
            raise CorpusError(
                f"CSV {path} has no column {name!r} (columns: {', '.join(fields) or 'none'}); "
                "pick one with --column / --csv-title-column"
            )
    docs, problems = [], []
    try:
        for number, row in enumerate(reader, start=1):
            item = ReadResult(path=f"{display(path)}:row {number}", fmt="csv", sha256=None)
            title = title_text(row.get(title_column)) if title_column else ""
            _add_record(item, row.get(column), title, f"column {column!r} is empty", docs, problems)
    except csv.Error as exc:
        problems.append(ReadResult(path=display(path), fmt="csv", reason="unreadable", detail=f"CSV error: {exc}"))
    source = {"path": result.path, "format": "csv", "column": column, "sha256": result.sha256, "rows": len(docs) + len(problems)}
    return docs, problems, source


def read_jsonl_field(path: Path, field: str, title_field: str | None, display,
                     limits: FileLimits = FileLimits()):
    """One text per line of a JSON Lines file, from ``field``."""
    text, result = _read_source(path, display, "jsonl", "JSON Lines file", "--jsonl", limits)
    if text is None:
        return [], [result], {"path": result.path, "format": "jsonl", "field": field}
    docs, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        item = ReadResult(path=f"{display(path)}:line {number}", fmt="jsonl")
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            item.reason, item.detail = "unreadable", f"not JSON ({exc.msg})"
            problems.append(item)
            continue
        record = record if isinstance(record, dict) else {}
        value = record.get(field)
        title = title_text(record[title_field]) if title_field and isinstance(record.get(title_field), str) else ""
        _add_record(item, value if isinstance(value, str) else "", title, f"no text in field {field!r}",
                    docs, problems)
    source = {"path": result.path, "format": "jsonl", "field": field, "sha256": result.sha256, "lines": len(docs) + len(problems)}
    return docs, problems, source
