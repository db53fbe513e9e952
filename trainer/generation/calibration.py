"""The gate's calibration for one run: ``models/<run>/gate_calibration.json``.

What the blog's own posts measure (reference-model perplexity, topic similarity) and the limits
derived from them, so the daily build only reads this file. Written at the end of ``trainer fit``
and by ``trainer report`` (``trainer.evaluation.gate_calibration.calibrate_run``); read by the
gate (``trainer.generation.quality``). Torch-free.

The limits (chosen by measurement, ``bench/gate.py``, docs/quality.md):
- fluency fails above ``max(FLUENCY_FACTOR x median, p95)`` of the posts' perplexities;
- topic fails below ``min(TOPIC_FACTOR x median, p5)`` of the posts' similarities;
- length: a blog of short posts lowers the gate's ``min_words`` to the 5th percentile of its posts'
  lengths (never below ``MIN_WORDS_FLOOR``): a blog of 50-word notes would otherwise publish nothing;
- html: when at least ``HTML_SHARE`` of the blog's posts show HTML (a web developer's code
  samples), a candidate that does is the blog's style, not a fault: it passes, escaped when written
  like every post's text.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from common.fileio import atomic_write_json

FILE_NAME = "gate_calibration.json"
FORMAT = "gate-calibration/2"  # 2: topic is the vocabulary share, not the centroid cosine
FLUENCY_FACTOR = 2.5
TOPIC_FACTOR = 0.8  # chosen on three blogs' posts and 13 off-topic posts (docs/quality.md)
MIN_WORDS_FLOOR = 30
HTML_SHARE = 0.1


@dataclass
class GateCalibration:
    reference: str | None  # the reference model (path or hub id)
    reference_source: str  # "base model" or "embedded default"
    max_tokens: int
    perplexities: list[float]  # of the blog's posts under the reference model
    similarities: list[float]  # of the blog's posts to the other posts (topic)
    held_out_posts: int
    topic_model: dict = field(default_factory=dict)  # trainer.generation.topic.TopicModel.to_dict
    corpus_sha256: str | None = None
    created_at: str = ""
    word_counts: list[int] = field(default_factory=list)  # body words of the blog's posts
    html_share: float | None = None  # share of the blog's posts that show HTML (gate.find_html)
    format: str = FORMAT

    # ------------------------------------------------------------------ figures and limits
    @property
    def median_perplexity(self) -> float:
        return float(np.median(self.perplexities))

    @property
    def p95_perplexity(self) -> float:
        return float(np.percentile(self.perplexities, 95))

    @property
    def max_perplexity(self) -> float:
        """Fluency fails above this."""
        return max(FLUENCY_FACTOR * self.median_perplexity, self.p95_perplexity)

    @property
    def median_similarity(self) -> float:
        return float(np.median(self.similarities))

    @property
    def p5_similarity(self) -> float:
        return float(np.percentile(self.similarities, 5))

    @property
    def min_similarity(self) -> float:
        """Topic fails below this."""
        return min(TOPIC_FACTOR * self.median_similarity, self.p5_similarity)

    def min_words(self, configured: int) -> int:
        """The length rule's limit: ``configured``, lowered for a blog of short posts."""
        if not self.word_counts:
            return configured
        p5 = int(np.percentile(self.word_counts, 5))
        return min(configured, max(MIN_WORDS_FLOOR, p5))

    @property
    def html_is_the_blogs_style(self) -> bool:
        return self.html_share is not None and self.html_share >= HTML_SHARE

    def summary(self) -> dict:
        """The figures a report shows (no per-post lists, no topic model)."""
        return {"reference": self.reference, "reference_source": self.reference_source,
                "posts": len(self.perplexities), "held_out_posts": self.held_out_posts,
                "median_perplexity": round(self.median_perplexity, 2),
                "p95_perplexity": round(self.p95_perplexity, 2),
                "max_perplexity": round(self.max_perplexity, 2),
                "median_similarity": round(self.median_similarity, 4),
                "p5_similarity": round(self.p5_similarity, 4),
                "min_similarity": round(self.min_similarity, 4),
                "p5_words": int(np.percentile(self.word_counts, 5)) if self.word_counts else None,
                "html_share": self.html_share,
                "created_at": self.created_at}

    # ------------------------------------------------------------------ the file
    def write(self, run_dir: str | os.PathLike) -> Path:
        return atomic_write_json(Path(run_dir) / FILE_NAME, asdict(self))


def read_calibration(run_dir: str | os.PathLike) -> GateCalibration | None:
    """The run's calibration, or None when there is none (older runs). ``ValueError`` (one line)
    when the file is there but cannot be used."""
    path = Path(run_dir) / FILE_NAME
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and str(data.get("format", "")).startswith("gate-calibration/") \
                and data.get("format") != FORMAT:
            raise ValueError(f"written by an older version ({data['format']}, not {FORMAT})")
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file")
        calibration = GateCalibration(**data)
        if not calibration.perplexities or not calibration.similarities:
            raise ValueError("it holds no figures")
        return calibration
    except (OSError, ValueError, TypeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
