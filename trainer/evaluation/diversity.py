"""The report's diversity figures: distinct-n and rep-n of the samples and of the real posts."""
from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass
class Diversity:
    texts: int
    words: float  # mean words per text (after cutting)
    distinct1: float
    distinct2: float
    rep: float  # rep-n: share of repeated word n-grams
    rep_n: int


def diversity(texts: list[str], rep_n: int = 4, max_words: int | None = None) -> Diversity:
    """Mean distinct-1, distinct-2 and rep-n over ``texts`` (words as the gate counts them),
    each text cut to its first ``max_words`` words so that samples and posts of different
    lengths compare fairly."""
    from trainer.generation.gate import distinct_n, repeated_ngram_share, words

    cut = [words(t)[:max_words] if max_words else words(t) for t in texts]
    cut = [w for w in cut if w]
    if not cut:
        return Diversity(0, 0.0, float("nan"), float("nan"), float("nan"), rep_n)
    return Diversity(
        texts=len(cut),
        words=statistics.fmean(len(w) for w in cut),
        distinct1=statistics.fmean(distinct_n(w, 1) for w in cut),
        distinct2=statistics.fmean(distinct_n(w, 2) for w in cut),
        rep=statistics.fmean(repeated_ngram_share(w, rep_n) for w in cut),
        rep_n=rep_n,
    )
