"""Optional cleaning and augmentation of the documents, in corpus order.

- ``drop_lines``: remove every line that matches one of the ``--drop-regex`` patterns;
- ``find_duplicates``: exact duplicates (same normalised text) and near-duplicates (MinHash
  over word 5-gram shingles, candidate pairs from LSH bands, confirmed by the exact Jaccard
  similarity of the shingle sets); the first document in corpus order is kept;
- ``shuffled_copy``: a document with its body paragraphs shuffled (seeded, deterministic).
"""
from __future__ import annotations

import hashlib
import random
import re
import struct

from common import text_rules
from common.corpus_format import DELIMITER

SHINGLE = 5
NUM_PERM = 64
BANDS = 16  # 16 bands of 4 rows: pairs above ~0.6 Jaccard almost always become candidates
_MASK64 = (1 << 64) - 1


def compile_patterns(patterns) -> list[re.Pattern]:
    from common.errors import CorpusError

    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise CorpusError(f"bad --drop-regex {pattern!r}: {exc}") from None
    return compiled


def drop_lines(text: str, patterns: list[re.Pattern]) -> str:
    """``text`` without the lines that any pattern matches (``re.search``); blank runs collapsed."""
    if not patterns:
        return text
    kept = [line for line in text.split("\n") if not any(p.search(line) for p in patterns)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def remove_delimiter(text: str) -> str:
    """The delimiter may never appear inside a document (it would split it, or become EOS)."""
    if DELIMITER not in text:
        return text
    lines = []
    for line in text.split("\n"):
        if DELIMITER in line:
            line = " ".join(part.strip() for part in line.split(DELIMITER) if part.strip())
        lines.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# Terminal escape sequences (ESC [ ... letter): pasted from a terminal, they would teach the model
# to write them. The control characters themselves follow the shared rule (common.text_rules).
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


def remove_controls(text: str) -> str:
    """``text`` without terminal escapes and control characters (vertical tab, form feed: a space)."""
    if not text_rules.CONTROL.search(text):
        return text
    return text_rules.remove_controls(_ANSI_ESCAPE.sub("", text))


def word_count(text: str) -> int:
    return len(text.split())


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _shingles(text: str) -> set[int]:
    words = _words(text)
    if len(words) < SHINGLE:
        grams = {" ".join(words)} if words else set()
    else:
        grams = {" ".join(words[i:i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}
    return {struct.unpack("<Q", hashlib.blake2b(g.encode(), digest_size=8).digest())[0] for g in grams}


def _minhash(shingles: set[int], params) -> tuple[int, ...]:
    """MinHash signature with multiply-shift hashes ``((a*x + b) mod 2**64) >> 32``."""
    a, b = params
    if not shingles:
        return tuple([0] * NUM_PERM)
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy ships with the project's dependencies
        return tuple(min(((ai * s + bi) & _MASK64) >> 32 for s in shingles) for ai, bi in zip(a, b))
    x = np.fromiter(shingles, dtype=np.uint64, count=len(shingles))
    a_arr = np.array(a, dtype=np.uint64)[:, None]
    b_arr = np.array(b, dtype=np.uint64)[:, None]
    with np.errstate(over="ignore"):
        values = (a_arr * x[None, :] + b_arr) >> np.uint64(32)
    return tuple(int(v) for v in values.min(axis=1))


def _params():
    rng = random.Random(1234)
    a = [rng.getrandbits(64) | 1 for _ in range(NUM_PERM)]
    b = [rng.getrandbits(64) for _ in range(NUM_PERM)]
    return a, b


def normalised(text: str) -> str:
    return " ".join(_words(text))


def find_duplicates(texts: list[str], threshold: float = 0.8) -> dict[int, tuple[str, int]]:
    """``{index: (reason, index_of_the_kept_original)}`` for each duplicate after the first.

    ``reason`` is ``duplicate`` (same words, ignoring case, punctuation and spacing) or
    ``near-duplicate`` (Jaccard similarity of word 5-gram shingles >= ``threshold``).
    """
    found: dict[int, tuple[str, int]] = {}
    seen: dict[str, int] = {}
    for i, text in enumerate(texts):
        key = hashlib.sha256(normalised(text).encode()).hexdigest()
        if key in seen:
            found[i] = ("duplicate", seen[key])
        else:
            seen[key] = i

    params = _params()
    rows = NUM_PERM // BANDS
    buckets: dict[tuple, list[int]] = {}
    shingle_sets: dict[int, set[int]] = {}
    for i, text in enumerate(texts):
        if i in found:
            continue
        shingles = _shingles(text)
        shingle_sets[i] = shingles
        signature = _minhash(shingles, params)
        candidates = set()
        for band in range(BANDS):
            key = (band, signature[band * rows:(band + 1) * rows])
            candidates.update(buckets.get(key, ()))
            buckets.setdefault(key, []).append(i)
        best = None
        for j in sorted(candidates):
            if j in found:
                continue
            if _jaccard(shingles, shingle_sets[j]) >= threshold:
                best = j
                break
        if best is not None:
            found[i] = ("near-duplicate", best)
    return found


def _jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def shuffled_copy(document: str, has_title: bool, seed: int, index: int, copy: int) -> str:
    """``document`` with its body paragraphs in a seeded random order (title stays first)."""
    parts = document.split("\n\n")
    head, body = (parts[:1], parts[1:]) if has_title else ([], parts)
    rng = random.Random(f"{seed}:{index}:{copy}")
    body = body[:]
    rng.shuffle(body)
    return "\n\n".join(head + body)
