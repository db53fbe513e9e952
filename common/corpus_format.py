"""The corpus file format shared by the corpus builder (writer) and the trainer (reader).

A corpus is UTF-8 text. Each post is its title line, a blank line, then the body as plain text
(or only the body, with ``--no-titles``). Posts are separated by a line holding exactly
``<|endoftext|>``. For GPT-2 that line becomes the single EOS token (id 50256), never the
ordinary BPE tokens of the literal text: readers split on the delimiter line first and let the
tokenizer add the EOS id between documents.
"""
from __future__ import annotations

import os
from pathlib import Path

DELIMITER = "<|endoftext|>"

# Metadata key (lower-case, as Pelican normalises it) that marks a post the plugin wrote.
# The corpus builder excludes such posts so the model never trains on its own output.
GENERATED_FLAG = "generated"


def join_documents(documents: list[str]) -> str:
    """Serialise documents into the corpus format (ends with a newline)."""
    cleaned = [doc.strip("\n") for doc in documents]
    return ("\n" + DELIMITER + "\n").join(cleaned) + "\n"


def split_documents(text: str) -> list[str]:
    """Split corpus text into documents on lines that are exactly the delimiter.

    Empty documents (e.g. from a trailing delimiter) are dropped. A delimiter that appears
    inside a line is left alone: only whole lines separate posts.
    """
    documents: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.strip() == DELIMITER:
            documents.append("\n".join(current).strip("\n"))
            current = []
        else:
            current.append(line)
    documents.append("\n".join(current).strip("\n"))
    return [doc for doc in documents if doc.strip()]


def read_documents(path: str | os.PathLike) -> list[str]:
    """Read a corpus file and return its documents (raises OSError / UnicodeDecodeError)."""
    return split_documents(Path(path).read_text(encoding="utf-8"))


def is_generated(metadata: dict) -> bool:
    """True when Pelican metadata marks a post as machine-written by the plugin."""
    value = metadata.get(GENERATED_FLAG)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"true", "yes", "1", "on"}


# A corpus smaller than this is too little to learn a blog from: the model copies the posts or
# writes off-topic text (the report, trainer fit and corpus-builder warn with the same figures).
SMALL_CORPUS_POSTS = 20
SMALL_CORPUS_WORDS = 35_000  # about 50,000 GPT-2 / SmolLM2 tokens of English


def small_corpus_warning(posts: int, words: int | None = None) -> str | None:
    """One line saying the corpus is too small to learn from, with its figures, or None."""
    if posts >= SMALL_CORPUS_POSTS and (words is None or words >= SMALL_CORPUS_WORDS):
        return None
    size = f"{posts} posts" + (f", {words:,} words" if words is not None else "")
    return (f"the corpus is too small to learn from ({size}; a fine-tune wants at least "
            f"{SMALL_CORPUS_POSTS} posts and about {SMALL_CORPUS_WORDS:,} words): the model will copy "
            "your posts or wander off topic, and the quality gate will reject much of what it writes. "
            "Add posts, or other texts of yours (corpus-builder --txt/--csv/--jsonl), and keep "
            "training short (trainer fit --until-step 48)")
