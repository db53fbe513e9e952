"""Is a sampled post copied from the training corpus? An index of the corpus's token windows.

The index holds a 64-bit hash of every run of ``window`` consecutive tokens in each training
document (sorted, unique, as a NumPy array). A candidate shares a verbatim run of at least
``window`` tokens with the corpus exactly when one of its own windows is in the index (up to hash
collisions, about 1 in 10^19 per lookup). The longest shared run is then the longest chain of
consecutive matching windows plus ``window - 1``.

Building it tokenizes the whole corpus once; the result is cached beside the run as
``memorisation-<corpus sha256 prefix>-<tokenizer hash prefix>-w<window>.npy``, so it is rebuilt
only when the corpus, the tokenizer or the window changes. The corpus path and its sha256 come
from the run's ``train.json`` (``corpus_path``, ``corpus_sha256``) unless the gate names a corpus.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.corpus_format import read_documents
from common.errors import RunFolderError
from common.fileio import atomic_write_bytes, sha256_file
from trainer.runs import SUMMARY, read_summary

log = logging.getLogger(__name__)

_MULT = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier (golden ratio)
_OFFSET = np.uint64(0x632BE59BD9B4E019)


@dataclass
class MemorisationIndex:
    """Hashes of every ``window``-token run in the corpus; ``check`` measures a candidate."""

    hashes: np.ndarray  # sorted unique uint64
    window: int
    corpus_path: str
    corpus_sha256: str
    note: str = ""  # e.g. "the corpus changed since training"
    titles: frozenset = frozenset()  # the corpus posts' titles, title_key()-normalised

    def has_title(self, title: str) -> bool:
        """Whether ``title`` is, but for case, spacing and punctuation, a corpus post's title."""
        return bool(title) and title_key(title) in self.titles

    def longest_shared_run(self, token_ids: list[int]) -> int:
        """Length of the longest verbatim run shared with the corpus, if >= window; else 0."""
        matches = self.matching_windows(token_ids)
        if not matches.any():
            return 0
        best = run = 0
        for hit in matches:
            run = run + 1 if hit else 0
            best = max(best, run)
        return best + self.window - 1

    def matching_windows(self, token_ids: list[int]) -> np.ndarray:
        """One bool per window start of ``token_ids``: is that window in the corpus?"""
        hashes = window_hashes(np.asarray(token_ids, dtype=np.int64), self.window)
        if hashes.size == 0 or self.hashes.size == 0:
            return np.zeros(hashes.size, dtype=bool)
        positions = np.searchsorted(self.hashes, hashes)
        positions = np.minimum(positions, self.hashes.size - 1)
        return self.hashes[positions] == hashes


@dataclass
class Skipped:
    """Why there is no index (the memorisation rule reports it, or fails in strict mode)."""

    reason: str


def window_hashes(ids: np.ndarray, window: int) -> np.ndarray:
    """A 64-bit polynomial hash of each run of ``window`` consecutive ids (uint64 wraps)."""
    count = ids.size - window + 1
    if count <= 0:
        return np.zeros(0, dtype=np.uint64)
    values = ids.astype(np.uint64) + _OFFSET
    hashes = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(window):
            hashes = hashes * _MULT + values[j:j + count]
        hashes ^= hashes >> np.uint64(29)
    return hashes


def tokenizer_fingerprint(tokenizer) -> str:
    """A hash of what decides the token ids: the fast tokenizer's JSON, or the vocabulary."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        data = backend.to_str()
    else:
        data = json.dumps(sorted(tokenizer.get_vocab().items()))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def build_index(corpus: Path, tokenizer, window: int) -> np.ndarray:
    """Hashes of every ``window``-token run inside each document of the corpus file."""
    parts = []
    for document in read_documents(corpus):
        ids = tokenizer.encode(document, add_special_tokens=False, verbose=False)  # whole posts: longer than the context on purpose
        parts.append(window_hashes(np.asarray(ids, dtype=np.int64), window))
    if not parts:
        return np.zeros(0, dtype=np.uint64)
    return np.unique(np.concatenate(parts))


def load_or_build(corpus: Path, corpus_sha256: str, tokenizer, window: int,
                  cache_dir: Path | None) -> np.ndarray:
    """The index for this corpus, tokenizer and window: read from the cache or built and cached."""
    name = (f"memorisation-{corpus_sha256[:16]}-{tokenizer_fingerprint(tokenizer)[:16]}"
            f"-w{window}.npy")
    cached = cache_dir / name if cache_dir is not None else None
    if cached is not None and cached.exists():
        try:
            return np.load(cached, allow_pickle=False)
        except (OSError, ValueError):
            log.warning("memorisation index %s is unreadable; rebuilding it", cached)
    log.info("indexing %s for the memorisation check (%d-token windows)", corpus, window)
    hashes = build_index(corpus, tokenizer, window)
    if cached is not None:
        buffer = io.BytesIO()
        np.save(buffer, hashes, allow_pickle=False)
        try:
            atomic_write_bytes(cached, buffer.getvalue())
        except OSError as exc:
            log.warning("cannot cache the memorisation index in %s (%s); using it from memory",
                        cache_dir, exc.strerror or exc)
    return hashes


def index_for_run(run_folder: Path, tokenizer, gate) -> MemorisationIndex | Skipped:
    """The index for a run: corpus from ``gate.corpus`` or the run's ``train.json``.

    A missing ``train.json`` or corpus file gives ``Skipped`` with the reason. A corpus whose
    sha256 differs from the one recorded at training is still indexed (it is usually the same
    posts plus new ones) and the index carries a note saying so.
    """
    run_folder = Path(run_folder)
    recorded_sha = None
    if gate.corpus:
        corpus = Path(gate.corpus).expanduser()
    else:
        try:
            info = read_summary(run_folder)
        except RunFolderError as exc:
            return Skipped(f"skipped: corpus not found ({exc}; pass the corpus with --corpus)")
        if not info.get("corpus_path"):
            return Skipped(f"skipped: corpus not found ({run_folder / SUMMARY} has no corpus_path)")
        corpus = Path(info["corpus_path"])
        if not corpus.is_absolute():
            corpus = run_folder / corpus
        recorded_sha = info.get("corpus_sha256")
    if not corpus.is_file():
        return Skipped(f"skipped: corpus not found ({corpus})")
    try:
        actual_sha = sha256_file(corpus)
        cache_dir = run_folder if run_folder.is_dir() else None
        hashes = load_or_build(corpus, actual_sha, tokenizer, gate.memorised_tokens, cache_dir)
        titles = corpus_titles(corpus)
    except (OSError, UnicodeDecodeError) as exc:
        return Skipped(f"skipped: corpus not readable ({corpus}: {exc})")
    note = ""
    if recorded_sha and recorded_sha != actual_sha:
        note = "the corpus changed since training; checked against the current file"
    return MemorisationIndex(hashes=hashes, window=gate.memorised_tokens,
                             corpus_path=str(corpus), corpus_sha256=actual_sha, note=note,
                             titles=titles)


def title_key(title: str) -> str:
    """``title`` compared as a reader would: case, spacing and punctuation left out."""
    return " ".join(re.findall(r"\w+", title.casefold()))


def corpus_titles(corpus: Path) -> frozenset:
    """The first line (the title) of every post in the corpus, as ``title_key``s."""
    titles = set()
    for document in read_documents(corpus):
        first = document.strip().split("\n", 1)[0]
        if first:
            titles.add(title_key(first))
    return frozenset(titles)
