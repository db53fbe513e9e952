"""Orchestration: find posts, read them (in parallel), exclude, clean, write corpus + manifest.

``build_corpus(BuildOptions(...))`` is what the CLI calls and what the tests call. It raises
:class:`~common.errors.CorpusError` (one-line message) for problems the user can fix, and writes the
corpus and its manifest atomically only at the very end, so a failed run leaves the previous
ones intact.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from common.corpus_format import join_documents, split_documents
from common.errors import CorpusError
from common.fileio import atomic_write_files, json_bytes, sha256_bytes

from . import clean
from .files import DEFAULT_MAX_FILE_MB, FileLimits, outside_detail
from .readers import PostReader, ReadResult
from .settings import find_settings_file, list_post_files, load_settings
from .sources import read_csv_column, read_jsonl_field, read_txt_folder
from .workers import read_files

log = logging.getLogger("corpus_builder")

MANIFEST_FORMAT = "corpus-builder/1"
BAD_INPUT = ("unreadable", "binary", "not-utf8", "empty", "broken-metadata", "not-a-file", "too-large",
             "outside-content", "too-slow")
# Posts per worker below which a process pool costs more than it saves.
_MIN_POSTS_PER_WORKER = 50


@dataclass
class BuildOptions:
    content_dirs: list = field(default_factory=list)
    output: str | os.PathLike = "data/corpus.txt"
    settings_file: str | os.PathLike | None = None
    titles: bool = True
    keep_code: bool = False
    keep_markdown: bool = False
    include_drafts: bool = False
    txt_dirs: list = field(default_factory=list)
    csv_files: list = field(default_factory=list)
    csv_column: str | None = None
    csv_title_column: str | None = None
    jsonl_files: list = field(default_factory=list)
    jsonl_field: str = "text"
    jsonl_title_field: str | None = None
    drop_regex: list = field(default_factory=list)
    dedupe: bool = False
    near_threshold: float = 0.8
    min_words: int = 1
    shuffled_copies: int = 0
    seed: int = 0
    tokenizer: str | None = None
    workers: int | None = None  # None: one per CPU core
    max_file_size: float = DEFAULT_MAX_FILE_MB  # MB (1,000,000 bytes); a bigger file is too-large
    follow_symlinks: bool = False  # read files and folders linked from outside the content folder
    file_timeout: float | None = 30.0  # seconds per file, then too-slow; 0 or None: no limit
    strict: bool = False
    now: dt.datetime | None = None  # "now" for the future-date rule (tests pin it)
    progress: bool = True  # a progress bar on a terminal, for large blogs


@dataclass
class BuildResult:
    output: Path
    manifest_path: Path
    manifest: dict


def manifest_path_for(output: Path) -> Path:
    """``data/corpus.txt`` -> ``data/corpus.json`` (the manifest sits beside the corpus)."""
    if output.suffix == ".json":
        return output.with_name(output.name + ".manifest.json")
    return output.with_suffix(".json")


def display_path(path: Path) -> str:
    """A path as shown to the user: relative to the current folder when inside it."""
    try:
        return Path(os.path.relpath(path)).as_posix() if not os.path.relpath(path).startswith("..") else str(path)
    except ValueError:  # another drive on Windows
        return str(path)


# --------------------------------------------------------------------------- reading, in parallel
def read_posts(tasks: list, reader: PostReader, settings_file, options: BuildOptions) -> list[ReadResult]:
    """Read every file (each within ``file_timeout``); results come back in the order of ``tasks``."""
    from tqdm import tqdm

    workers = options.workers or os.cpu_count() or 1
    workers = max(1, min(workers, len(tasks) // _MIN_POSTS_PER_WORKER))
    reader_args = (settings_file, dict(keep_code=reader.keep_code, keep_markdown=reader.keep_markdown,
                                       limits=reader.limits))
    with tqdm(total=len(tasks), unit="post", desc="reading", leave=False,
              disable=not options.progress or len(tasks) < 200 or not sys.stderr.isatty()) as progress:
        return read_files(tasks, reader, reader_args, workers, options.file_timeout, progress)


# --------------------------------------------------------------------------- the build
def build_corpus(options: BuildOptions) -> BuildResult:
    """Read, exclude, clean and write: the corpus and its manifest, or a ``CorpusError``."""
    settings_file = find_settings_file(options.settings_file)
    settings = load_settings(settings_file)
    output, roots = _check_paths(options, settings, settings_file)
    limits = FileLimits.from_options(options.max_file_size, options.follow_symlinks)
    reader = PostReader(settings, keep_code=options.keep_code, keep_markdown=options.keep_markdown,
                        limits=limits)
    excluded = _Exclusions(strict=options.strict)
    tasks = []
    for root in roots:
        paths, linked_out = list_post_files(root, settings, reader.extensions, options.follow_symlinks)
        tasks += [(str(path), str(root), display_path(path)) for path in paths]
        for folder, target in linked_out:
            excluded.add(ReadResult(path=display_path(folder), fmt="folder"), "outside-content",
                         outside_detail(target, root))
    log.info("reading %d post files from %s", len(tasks), ", ".join(map(str, roots)) or "-")
    results = read_posts(tasks, reader, settings_file, options)

    now = (options.now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    posts = []
    for item in results:
        rule = _exclusion_rule(item, options, now)
        if rule:
            excluded.add(item, *rule)
        else:
            posts.append(item)
    posts.sort(key=lambda p: (p.date_utc or "", p.path))
    others, source_entries = _read_other_sources(options, excluded, limits)
    kept = _clean(posts + others, options, excluded)
    if not kept:
        raise CorpusError(_nothing_usable(len(results) + len(others), excluded.entries, reader, roots, options))

    documents = [_document(item, options.titles) for item in kept]
    copies = [clean.shuffled_copy(documents[index], bool(options.titles and item.title),
                                  options.seed, index, copy)
              for copy in range(options.shuffled_copies) for index, item in enumerate(kept)]
    corpus_text = join_documents(documents + copies)
    tokens = None
    if options.tokenizer:
        from .tokens import count_tokens

        tokens = count_tokens(split_documents(corpus_text), options.tokenizer)
    corpus_bytes = corpus_text.encode("utf-8")
    manifest = _manifest(options, output, settings_file, roots, kept, documents, copies, source_entries,
                         excluded.entries, corpus_bytes, tokens)
    return _write(output, manifest, corpus_bytes)


def _check_paths(options: BuildOptions, settings: dict, settings_file) -> tuple[Path, list[Path]]:
    """The output file and the content folders, checked: one-line errors for what cannot work."""
    output = Path(options.output)
    other_sources = options.txt_dirs or options.csv_files or options.jsonl_files
    if options.csv_files and not options.csv_column:
        raise CorpusError("--csv needs --column NAME (the CSV column that holds the text)")
    for target in (output, manifest_path_for(output)):
        if target.is_dir():
            raise CorpusError(f"the output {target} is a folder; give a file name (e.g. data/corpus.txt)")
    roots = [Path(d) for d in options.content_dirs]
    if not roots and not other_sources:
        roots = [Path(settings["PATH"]) if settings_file else Path("content")]
    for root in roots:
        if not root.is_dir():
            raise CorpusError(f"content folder not found: {root} (give the folder that holds your posts)")
        if _inside(output, root):
            raise CorpusError(f"the output {output} is inside the content folder {root}; write it elsewhere (e.g. data/)")
    return output, roots


class _Exclusions:
    """What stays out of the corpus and why (the manifest's ``excluded``); bad input is a warning,
    or with ``--strict`` the error that stops the build."""

    def __init__(self, strict: bool):
        self.strict = strict
        self.entries: list[dict] = []

    def add(self, item: ReadResult, reason: str, detail: str) -> None:
        self.entries.append({"path": item.path, "reason": reason, "detail": detail})
        if reason in BAD_INPUT:
            log.warning("%s: %s (%s)", item.path, reason, detail)
            if self.strict:
                raise CorpusError(f"{item.path}: {reason} ({detail}); fix the file or run without --strict")
        else:
            log.info("%s: excluded, %s (%s)", item.path, reason, detail)


def _read_other_sources(options: BuildOptions, excluded: _Exclusions,
                        limits: FileLimits) -> tuple[list[ReadResult], list[dict]]:
    """Documents from --txt folders, --csv columns and --jsonl fields, and their manifest entries."""
    def shown(path):
        return display_path(Path(path))

    # (reader, file, its options, whether the manifest lists the file as a source)
    sources = ([(read_txt_folder, folder, (), False) for folder in options.txt_dirs]
               + [(read_csv_column, csv_file, (options.csv_column, options.csv_title_column), True)
                  for csv_file in options.csv_files]
               + [(read_jsonl_field, jsonl_file, (options.jsonl_field, options.jsonl_title_field), True)
                  for jsonl_file in options.jsonl_files])
    others: list[ReadResult] = []
    entries: list[dict] = []
    for read, path, args, has_entry in sources:
        docs, problems, entry = read(Path(path), *args, shown, limits=limits)
        for item in problems:
            excluded.add(item, item.reason, item.detail)
        others.extend(docs)
        if has_entry:
            entries.append(entry)
    return others, entries


def _clean(items: list[ReadResult], options: BuildOptions, excluded: _Exclusions) -> list[ReadResult]:
    """Drop lines, never the delimiter inside a document, the minimum length, then duplicates."""
    patterns = clean.compile_patterns(options.drop_regex)
    min_words = max(options.min_words, 1)
    kept: list[ReadResult] = []
    for item in items:
        item.text = clean.remove_delimiter(clean.drop_lines(clean.remove_controls(item.text), patterns))
        item.title = " ".join(clean.remove_delimiter(clean.remove_controls(item.title)).split())
        words = clean.word_count(item.text)
        if words < min_words:
            excluded.add(item, "too-short", f"{words} words, fewer than {min_words}")
        else:
            kept.append(item)
    if not (options.dedupe and kept):
        return kept
    duplicates = clean.find_duplicates([_document(i, options.titles) for i in kept], options.near_threshold)
    for index in sorted(duplicates):
        reason, original = duplicates[index]
        excluded.add(kept[index], reason, f"same text as {kept[original].path}" if reason == "duplicate"
                     else f"nearly the same text as {kept[original].path}")
    return [item for i, item in enumerate(kept) if i not in duplicates]


def _nothing_usable(read: int, excluded: list[dict], reader: PostReader, roots: list[Path],
                    options: BuildOptions) -> str:
    """The one-line error when no document remains: what was read and why each went."""
    if read:
        reasons = _reasons(Counter(e["reason"] for e in excluded))
        found = f"{read} texts read, {len(excluded)} excluded ({reasons}; -v lists each file)"
    else:
        looked = ", ".join("." + ext for ext in sorted(reader.extensions) if ext != "static")
        where = [str(p) for p in roots + options.txt_dirs + options.csv_files + options.jsonl_files]
        found = f"no texts found in {', '.join(where)}" + (f" (posts are files ending in {looked})"
                                                           if roots else "")
    return f"nothing usable remains: {found}; the previous corpus was left as it was"


def _write(output: Path, manifest: dict, corpus_bytes: bytes) -> BuildResult:
    """Write the manifest and the corpus together.

    Both files are encoded and written to temporary files before either is replaced, so a failure
    (an unencodable value, a full disk) leaves the previous pair as it was. The manifest is renamed
    first: should the process die between the two renames, a new corpus.json sits beside the old
    corpus.txt (its corpus_sha256 then says they do not match), never a new corpus that an old
    manifest claims to describe.
    """
    manifest_path = manifest_path_for(output)
    try:
        atomic_write_files([(manifest_path, json_bytes(manifest)), (output, corpus_bytes)])
    except OSError as exc:
        raise CorpusError(f"cannot write {output} and {manifest_path.name} in {output.parent}: "
                          f"{exc.strerror or exc} (check the free space and permissions, or choose another -o)"
                          ) from None
    return BuildResult(output=output, manifest_path=manifest_path, manifest=manifest)


def _exclusion_rule(item: ReadResult, options: BuildOptions, now: dt.datetime):
    """``(reason, detail)`` when a read post must stay out of the corpus, else None."""
    if item.reason:
        return item.reason, item.detail
    if item.generated:
        return "generated", "written by the model (Generated: true)"
    if item.status == "draft" and not options.include_drafts:
        return "draft", "Status: draft (use --include-drafts to keep drafts)"
    if item.status == "hidden":
        return "hidden", "Status: hidden"
    if item.status == "skip":
        return "skipped", "Status: skip"
    if item.date_utc and dt.datetime.fromisoformat(item.date_utc) > now:
        return "future-dated", f"dated {item.date}, after now"
    return None


def _document(item: ReadResult, titles: bool) -> str:
    if titles and item.title:
        return f"{item.title}\n\n{item.text}"
    return item.text


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _manifest(options, output, settings_file, roots, kept, documents, copies, source_entries, excluded,
              corpus_bytes, tokens) -> dict:
    sources = []
    for item, document in zip(kept, documents):
        if item.fmt in ("csv", "jsonl"):
            continue
        sources.append({
            "path": item.path,
            "format": item.fmt,
            "sha256": item.sha256,
            "title": item.title,
            "title_source": item.title_source,
            "date": item.date,
            "words": clean.word_count(document),
        })
    for entry in source_entries:
        prefix = entry["path"] + ":"
        entry = dict(entry)
        rows = [d for i, d in zip(kept, documents) if i.path.startswith(prefix)]
        entry["documents"] = len(rows)
        entry["words"] = sum(clean.word_count(d) for d in rows)
        sources.append(entry)
    by_reason = Counter(e["reason"] for e in excluded)
    words = sum(clean.word_count(d) for d in documents + copies)
    return {
        "format": MANIFEST_FORMAT,
        "corpus": output.name,
        "corpus_sha256": sha256_bytes(corpus_bytes),
        "bytes": len(corpus_bytes),
        "documents": len(documents) + len(copies),
        "posts": len(documents),
        "shuffled_copies": len(copies),
        "words": words,
        "tokens": tokens,
        "tokenizer": options.tokenizer,
        "settings_file": str(settings_file) if settings_file else None,
        "content_dirs": [display_path(r) for r in roots],
        "options": {
            "titles": options.titles,
            "keep_code": options.keep_code,
            "keep_markdown": options.keep_markdown,
            "include_drafts": options.include_drafts,
            "drop_regex": list(options.drop_regex),
            "dedupe": options.dedupe,
            "near_duplicate_threshold": options.near_threshold if options.dedupe else None,
            "min_words": options.min_words,
            "shuffled_copies": options.shuffled_copies,
            "seed": options.seed,
            "max_file_size_mb": options.max_file_size,
            "follow_symlinks": options.follow_symlinks,
            "file_timeout_s": options.file_timeout or None,
        },
        "sources": sources,
        "excluded": excluded,
        "totals": {
            "read": len(kept) + len(excluded),
            "documents": len(documents) + len(copies),
            "words": words,
            "tokens": tokens,
            "excluded": len(excluded),
            "excluded_by_reason": dict(sorted(by_reason.items())),
        },
    }


def _reasons(by_reason: dict) -> str:
    """``"draft 2, too-short 1"``: how many texts each reason excluded, by reason."""
    return ", ".join(f"{reason} {count}" for reason, count in sorted(by_reason.items()))


def summary_lines(result: BuildResult) -> list[str]:
    """The short summary the CLI prints: read, excluded by reason, words, tokens, where."""
    m = result.manifest
    totals = m["totals"]
    reasons = _reasons(totals["excluded_by_reason"])
    lines = [
        f"read {totals['read']} texts: {m['posts']} kept, {totals['excluded']} excluded"
        + (f" ({reasons})" if reasons else ""),
        f"corpus: {m['documents']} documents"
        + (f" ({m['shuffled_copies']} shuffled copies)" if m["shuffled_copies"] else "")
        + f", {m['words']:,} words"
        + (f", {m['tokens']:,} tokens ({m['tokenizer']})" if m["tokens"] is not None else ""),
        f"wrote {result.output} and {result.manifest_path}",
    ]
    return lines
