"""How much a text resembles a blog, from the blog's TF-IDF vocabulary (numpy only).

``TopicModel.fit(training_posts)`` learns the vocabulary (terms in at least two posts, the most
frequent ``max_terms``) and their inverse document frequencies. ``similarity(text)`` — what the
gate's topic rule measures — is the share of the text's TF-IDF weight that falls on the blog's
vocabulary: each term weighs ``(1 + log tf) x idf``, a term the blog never uses (twice) weighs the
highest idf the blog has, and a word in every post (idf 0: "the", "and") weighs nothing. A post of
the blog scores about 0.5-0.7, a fluent post on another subject about 0.2-0.3; unlike the cosine
to the blog's centroid (``centroid_similarity``) it does not fall with the text's length, so a
150-word candidate and a whole post compare fairly (measured: docs/quality.md).
``top_k_similarity`` (the mean of the k best cosines to single posts) needs the posts' matrix,
which is kept after ``fit`` but not saved. ``to_dict``/``from_dict`` keep what the gate needs in
the run's ``gate_calibration.json``, so the daily build never reads the corpus for it.
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
    def __init__(self, vocabulary: list[str], idf: np.ndarray, centroid: np.ndarray,
                 matrix: np.ndarray | None = None):
        self.vocabulary = list(vocabulary)
        self.index = {t: i for i, t in enumerate(self.vocabulary)}
        self.idf = np.asarray(idf, dtype=np.float64)
        self.centroid = np.asarray(centroid, dtype=np.float64)
        self.matrix = matrix  # unit TF-IDF rows of the training posts (None once loaded from a file)

    @classmethod
    def fit(cls, documents: list[str], max_terms: int = 6000) -> "TopicModel":
        counts = [Counter(terms(d)) for d in documents]
        df = Counter(t for c in counts for t in c)
        min_df = 2 if len(documents) >= 4 else 1
        kept = [t for t, n in df.most_common() if n >= min_df][:max_terms]
        n_docs = len(documents)
        # no "+1": a term in every post weighs nothing (the blog's function words); measured
        # against "+1" (sklearn's default), which let off-topic posts through on shared "the, and"
        idf = np.array([math.log((1 + n_docs) / (1 + df[t])) for t in kept])
        model = cls(kept, idf, np.zeros(len(kept)))
        matrix = np.stack([model._vector(c) for c in counts]) if counts else np.zeros((0, len(kept)))
        centroid = matrix.mean(axis=0) if len(matrix) else np.zeros(len(kept))
        norm = np.linalg.norm(centroid)
        model.centroid = centroid / norm if norm else centroid
        model.matrix = matrix
        return model

    def _vector(self, counts: Counter) -> np.ndarray:
        vec = np.zeros(len(self.vocabulary))
        for term, n in counts.items():
            i = self.index.get(term)
            if i is not None:
                vec[i] = 1.0 + math.log(n)  # sublinear term frequency
        vec *= self.idf
        norm = np.linalg.norm(vec)
        return vec / norm if norm else vec

    def vector(self, text: str) -> np.ndarray:
        return self._vector(Counter(terms(text)))

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

    def centroid_similarity(self, text: str) -> float:
        """Cosine similarity of ``text`` to the centroid of the training posts (falls with length)."""
        return float(self.vector(text) @ self.centroid)

    def top_k_similarity(self, text: str, k: int = 3) -> float:
        """Mean of the ``k`` highest cosine similarities of ``text`` to single training posts."""
        if self.matrix is None or not len(self.matrix):
            return self.centroid_similarity(text)
        sims = np.sort(self.matrix @ self.vector(text))[::-1]
        return float(sims[:k].mean())

    def to_dict(self) -> dict:
        return {"vocabulary": self.vocabulary, "idf": [round(float(x), 5) for x in self.idf],
                "centroid": [round(float(x), 6) for x in self.centroid]}

    @classmethod
    def from_dict(cls, data: dict) -> "TopicModel":
        return cls(data["vocabulary"], np.array(data["idf"]), np.array(data["centroid"]))
