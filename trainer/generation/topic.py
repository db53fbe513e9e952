"""How much a text resembles a blog, from the blog's TF-IDF vocabulary (numpy only).

``TopicModel.fit(training_posts)`` learns the vocabulary (terms in at least two posts, the most
frequent ``max_terms``) and their inverse document frequencies. ``similarity(text)`` — what the
gate's topic rule measures — is the share of the text's TF-IDF weight that falls on the blog's
vocabulary: each term weighs ``(1 + log tf) x idf``, a term the blog never uses (twice) weighs the
highest idf the blog has, and a word in every post (idf 0: "the", "and") weighs nothing. A post of
the blog scores about 0.5-0.7, a fluent post on another subject about 0.2-0.3; unlike the cosine
to the blog's centroid (the rule until 2026-12-01) it does not fall with the text's length, so a
150-word candidate and a whole post compare fairly (measured: docs/quality.md).
``to_dict``/``from_dict`` keep the vocabulary and idf in the run's ``gate_calibration.json``, so
the daily build never reads the corpus for it.
"""
from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np

_TERM = re.compile(r"[^\W\d_]{2,}", re.UNICODE)  # words of letters, two or more


def terms(text: str) -> list[str]:
    return _TERM.findall(text.lower())


class TopicModel:
    def __init__(self, vocabulary: list[str], idf: np.ndarray):
        self.vocabulary = list(vocabulary)
        self.index = {t: i for i, t in enumerate(self.vocabulary)}
        self.idf = np.asarray(idf, dtype=np.float64)

    @classmethod
    def fit(cls, documents: list[str], max_terms: int = 6000) -> "TopicModel":
        counts = [Counter(terms(d)) for d in documents]
        df = Counter(t for c in counts for t in c)
        min_df = 2 if len(documents) >= 4 else 1
        kept = [t for t, n in df.most_common() if n >= min_df][:max_terms]
        n_docs = len(documents)
        # no "+1": a term in every post weighs nothing (the blog's function words); measured
        # against "+1" (sklearn's default), which let off-topic posts through on shared "the, and"
        return cls(kept, np.array([math.log((1 + n_docs) / (1 + df[t])) for t in kept]))

    def similarity(self, text: str) -> float:
        """The share of ``text``'s TF-IDF weight on the blog's vocabulary (0 = none, 1 = all)."""
        unknown = float(self.idf.max()) if len(self.idf) else 1.0
        inside = total = 0.0
        for term, n in Counter(terms(text)).items():
            i = self.index.get(term)
            weight = (1.0 + math.log(n)) * (self.idf[i] if i is not None else unknown)
            total += weight
            inside += weight if i is not None else 0.0
        return inside / total if total else 0.0

    def to_dict(self) -> dict:
        return {"vocabulary": self.vocabulary, "idf": [round(float(x), 5) for x in self.idf]}

    @classmethod
    def from_dict(cls, data: dict) -> "TopicModel":
        return cls(data["vocabulary"], np.array(data["idf"]))
