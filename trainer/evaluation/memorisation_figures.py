"""The report's memorisation figures: how much of the samples is copied verbatim from the corpus.

- ``SpanFinder``: the longest verbatim token run (a ``Span``) a text shares with any corpus post.
- ``memorisation_figures``: over all samples, the share with a long copied run, the longest run
  and its source post, and the gate's pass count and rejections per rule (a ``Memorisation``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from trainer.evaluation.samples import Sample

SPAN_WINDOW = 8  # shortest verbatim run (tokens) the span finder looks for


@dataclass
class Span:
    """A verbatim run of tokens shared by a sample and a corpus post."""

    tokens: int
    text: str
    sample: int  # index of the sample
    source: int  # index of the post in the corpus
    source_title: str


class SpanFinder:
    """Finds the longest verbatim token run a text shares with any corpus post (>= ``window``).

    Every ``window``-token run of the corpus is hashed (``memorisation.window_hashes``) with its
    position; a text's matching windows are extended token by token against the post they come
    from, so the reported run and its source are exact.
    """

    def __init__(self, documents: list[str], tokenizer, window: int = SPAN_WINDOW):
        from trainer.generation.memorisation import window_hashes

        self.documents = documents
        self.tokenizer = tokenizer
        self.window = window
        self.doc_ids = [self._encode(d) for d in documents]
        hashes, where = [], []
        for doc, ids in enumerate(self.doc_ids):
            h = window_hashes(ids, window)
            hashes.append(h)
            where.append(np.stack([np.full(h.size, doc), np.arange(h.size)], axis=1))
        self.hashes = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64)
        self.where = np.concatenate(where) if where else np.zeros((0, 2), dtype=np.int64)
        order = np.argsort(self.hashes, kind="stable")
        self.hashes, self.where = self.hashes[order], self.where[order]

    def _encode(self, text: str) -> np.ndarray:
        return np.asarray(self.tokenizer.encode(text, add_special_tokens=False, verbose=False), dtype=np.int64)

    @property
    def corpus_tokens(self) -> int:
        return int(sum(ids.size for ids in self.doc_ids))

    def longest(self, text: str, sample: int = 0) -> Span | None:
        """The longest run of >= ``window`` tokens ``text`` shares with a post (None if none)."""
        from trainer.generation.memorisation import window_hashes

        ids = self._encode(text)
        hashes = window_hashes(ids, self.window)
        if hashes.size == 0 or self.hashes.size == 0:
            return None
        pos = np.minimum(np.searchsorted(self.hashes, hashes), self.hashes.size - 1)
        hits = np.nonzero(self.hashes[pos] == hashes)[0]
        best: tuple[int, int, int] | None = None  # (length, start in text, doc)
        reach: dict[tuple[int, int], int] = {}  # (doc, offset) -> end of the run measured there
        for i in hits.tolist():
            first = stop = int(pos[i])
            while stop < self.hashes.size and self.hashes[stop] == hashes[i]:
                stop += 1
            for doc, j in self.where[first:stop].tolist():
                if reach.get((doc, j - i), -1) > i:
                    continue  # inside a run already measured from an earlier start
                length = _common_run(ids, i, self.doc_ids[doc], j)
                reach[(doc, j - i)] = i + length
                if length >= self.window and (best is None or length > best[0]):
                    best = (length, i, doc)
        if best is None:
            return None
        length, start, doc = best
        text_span = self.tokenizer.decode(ids[start:start + length].tolist())
        title = self.documents[doc].strip().split("\n", 1)[0].strip()
        return Span(tokens=length, text=text_span, sample=sample, source=doc, source_title=title)


def _common_run(ids: np.ndarray, i: int, doc_ids: np.ndarray, j: int) -> int:
    """How many tokens ``ids`` from ``i`` and ``doc_ids`` from ``j`` have in common, in a row."""
    length = 0
    while i + length < ids.size and j + length < doc_ids.size and ids[i + length] == doc_ids[j + length]:
        length += 1
    return length


@dataclass
class Memorisation:
    samples: int
    threshold: int  # tokens of a verbatim run that counts as copied
    copied: int  # samples with a run of >= threshold tokens
    share: float
    longest: Span | None
    window: int  # shortest run the finder sees
    gate_passed: int  # samples the whole gate let through
    rejections: dict[str, int] = field(default_factory=dict)  # rule -> samples it rejected


def memorisation_figures(samples: list[Sample], finder: SpanFinder, threshold: int = 50) -> Memorisation:
    """Share of samples with a >= ``threshold``-token verbatim run from the corpus, the longest
    run (with its source post), and the gate's pass count and rejections per rule."""
    spans = [finder.longest(s.text, sample=s.index) for s in samples]
    copied = sum(1 for span in spans if span is not None and span.tokens >= threshold)
    found = [span for span in spans if span is not None]
    longest = max(found, key=lambda span: span.tokens) if found else None
    rejections: dict[str, int] = {}
    for s in samples:
        for rule in s.rejected_by:
            rejections[rule] = rejections.get(rule, 0) + 1
    return Memorisation(samples=len(samples), threshold=threshold, copied=copied,
                        share=copied / len(samples) if samples else 0.0, longest=longest,
                        window=finder.window, gate_passed=sum(s.passed for s in samples),
                        rejections=rejections)
