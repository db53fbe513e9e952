"""``corpus-builder``: turn a Pelican blog's posts into one training file (+ corpus.json).

A thin click layer over :func:`corpus_builder.build.build_corpus`.
"""
from __future__ import annotations

import logging
import sys

import click

from common.corpus_format import small_corpus_warning
from common.errors import CorpusError, fail

from .build import BuildOptions, build_corpus, summary_lines
from .files import DEFAULT_MAX_FILE_MB

EXAMPLES = """
\b
Examples:
  corpus-builder                            # in the site: pelicanconf.py, PATH -> data/corpus.txt
  corpus-builder content/ -o data/corpus.txt --min-words 50 --dedupe
  corpus-builder old-blog/ --include-drafts --keep-code
  corpus-builder --csv posts.csv --column body --jsonl more.jsonl --field text
  corpus-builder content/ --tokenizer models/blog   # adds the token count to corpus.json
"""


@click.command(epilog=EXAMPLES, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("content_dirs", nargs=-1, type=click.Path(file_okay=False, path_type=str))
@click.option("-o", "--output", default="data/corpus.txt", show_default=True, type=click.Path(dir_okay=False),
              help="Corpus file to write; the manifest goes beside it (corpus.json).")
@click.option("-s", "--settings", "settings_file", type=click.Path(dir_okay=False),
              help="Pelican settings file [default: ./pelicanconf.py when present, else Pelican's defaults].")
@click.option("--no-titles", is_flag=True, help="Write only the bodies, without title lines.")
@click.option("--keep-code", is_flag=True, help="Keep code blocks (dropped by default).")
@click.option("--keep-markdown", is_flag=True,
              help="Write Markdown posts' bodies as Markdown instead of plain text (code blocks still go "
                   "unless --keep-code; template tags and comments always go).")
@click.option("--include-drafts", is_flag=True, help="Keep posts with Status: draft.")
@click.option("--txt", "txt_dirs", multiple=True, type=click.Path(file_okay=False),
              help="Also read a folder of .txt files, one text each (repeatable).")
@click.option("--csv", "csv_files", multiple=True, type=click.Path(dir_okay=False),
              help="Also read a CSV file, one text per row (repeatable; needs --column).")
@click.option("--column", "csv_column", help="CSV column holding the text.")
@click.option("--csv-title-column", help="CSV column holding a title (optional).")
@click.option("--jsonl", "jsonl_files", multiple=True, type=click.Path(dir_okay=False),
              help="Also read a JSON Lines file, one text per line (repeatable).")
@click.option("--field", "jsonl_field", default="text", show_default=True, help="JSON Lines field holding the text.")
@click.option("--jsonl-title-field", help="JSON Lines field holding a title (optional).")
@click.option("--drop-regex", multiple=True, metavar="PATTERN",
              help="Drop every line matching this Python regex (repeatable).")
@click.option("--dedupe", is_flag=True, help="Remove exact and near-duplicate texts (keeps the first).")
@click.option("--near-threshold", default=0.8, show_default=True, type=click.FloatRange(0.0, 1.0),
              help="Word 5-gram Jaccard similarity from which --dedupe calls texts near-duplicates.")
@click.option("--min-words", default=1, show_default=True, type=click.IntRange(min=1),
              help="Exclude texts with fewer words than this (too-short).")
@click.option("--shuffled-copies", default=0, show_default=True, type=click.IntRange(min=0),
              help="Append N copies of every post with its paragraphs shuffled.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed for --shuffled-copies.")
@click.option("--tokenizer", metavar="NAME_OR_PATH",
              help="Count tokens with this tokenizer: a hub name, or a local folder (Hugging Face "
                   "files, or OpenAI's GPT-2 encoder.json + vocab.bpe).")
@click.option("-j", "--workers", type=click.IntRange(min=1), help="Processes reading posts [default: one per core].")
@click.option("--max-file-size", default=DEFAULT_MAX_FILE_MB, show_default=True, metavar="MB",
              type=click.FloatRange(min=0, min_open=True),
              help="Exclude a file bigger than this many megabytes (too-large).")
@click.option("--follow-symlinks", is_flag=True,
              help="Also read files and folders that symbolic links bring in from outside the content folder "
                   "(excluded by default: outside-content).")
@click.option("--file-timeout", default=30.0, show_default=True, metavar="SECONDS",
              type=click.FloatRange(min=0),
              help="Stop reading a post that takes longer than this and exclude it (too-slow); 0: no limit.")
@click.option("--strict", is_flag=True, help="Stop with an error at the first bad input file.")
@click.option("-v", "--verbose", is_flag=True, help="Also list each excluded post and why.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
def main(content_dirs, output, settings_file, no_titles, keep_code, keep_markdown, include_drafts, txt_dirs,
         csv_files, csv_column, csv_title_column, jsonl_files, jsonl_field, jsonl_title_field, drop_regex, dedupe,
         near_threshold, min_words, shuffled_copies, seed, tokenizer, workers, max_file_size, follow_symlinks,
         file_timeout, strict, verbose, quiet):
    """Build the training corpus from CONTENT_DIR ... (default: the site's PATH, or content/).

    Reads every post Pelican reads (Markdown, reStructuredText, HTML; YAML front matter too),
    strips the markup to plain text, leaves out drafts, hidden, skipped, future-dated and
    machine-written posts, and writes one UTF-8 file: title line, blank line, body, with a line
    <|endoftext|> between posts. corpus.json beside it lists every source with its hash and
    word count, every excluded file with the reason, and the corpus hash.

    Only what belongs to the blog is read: regular files up to --max-file-size, nothing that a
    symbolic link brings in from outside the content folder (unless --follow-symlinks), no file
    that a reStructuredText directive (include, raw, csv-table) would insert; a post that takes
    longer than --file-timeout to read is stopped and left out.
    """
    _setup_logging(logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING)
    options = BuildOptions(
        content_dirs=list(content_dirs), output=output, settings_file=settings_file, titles=not no_titles,
        keep_code=keep_code, keep_markdown=keep_markdown, include_drafts=include_drafts, txt_dirs=list(txt_dirs),
        csv_files=list(csv_files), csv_column=csv_column, csv_title_column=csv_title_column,
        jsonl_files=list(jsonl_files), jsonl_field=jsonl_field, jsonl_title_field=jsonl_title_field,
        drop_regex=list(drop_regex), dedupe=dedupe, near_threshold=near_threshold, min_words=min_words,
        shuffled_copies=shuffled_copies, seed=seed, tokenizer=tokenizer, workers=workers,
        max_file_size=max_file_size, follow_symlinks=follow_symlinks, file_timeout=file_timeout,
        strict=strict, progress=not quiet,
    )
    try:
        result = build_corpus(options)
    except CorpusError as exc:
        fail(exc)
    if not quiet:
        for line in summary_lines(result):
            click.echo(line)
    manifest = result.manifest
    small = small_corpus_warning(manifest["posts"], manifest["words"])
    if small and not quiet:
        click.echo(f"warning: {small}", err=True)


_handler: logging.Handler | None = None


def _setup_logging(level: int) -> None:
    """One line per message on stderr: "warning: content/x.md: not-utf8 (...)"."""
    global _handler
    log = logging.getLogger("corpus_builder")
    if _handler is not None:
        log.removeHandler(_handler)
    _handler = logging.StreamHandler(sys.stderr)
    _handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    log.addHandler(_handler)
    log.setLevel(level)
    # Pelican's and Markdown's own chatter (feeds, empty alt texts) is not the corpus's business.
    for name in ("pelican", "MARKDOWN"):
        logging.getLogger(name).setLevel(logging.ERROR)


if __name__ == "__main__":
    main()
