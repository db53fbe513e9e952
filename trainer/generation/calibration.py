"""The gate's calibration for one run: ``models/<run>/gate_calibration.json``.

What the blog's own posts measure (reference-model perplexity, topic similarity) and the limits
derived from them, so the daily build only reads this file. Written at the end of ``trainer fit``
and by ``trainer report`` (``trainer.evaluation.gate_calibration.calibrate_run``); read by the
gate (``trainer.generation.quality``). Torch-free.

The limits (chosen by measurement, ``bench/gate.py``, docs/quality.md):
- fluency fails above ``max(FLUENCY_FACTOR x median, p95)`` of the posts' perplexities;
- topic fails below ``min(TOPIC_FACTOR x median, p5)`` of the posts' similarities.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from common.fileio import atomic_write_json

FILE_NAME = "gate_calibration.json"
FORMAT = "gate-calibration/1"
FLUENCY_FACTOR = 2.5
TOPIC_FACTOR = 0.7  # off-topic posts measured at 0.5-0.62 x the median, human p5 at 0.8 x


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
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file")
        calibration = GateCalibration(**data)
        if not calibration.perplexities or not calibration.similarities:
            raise ValueError("it holds no figures")
        return calibration
    except (OSError, ValueError, TypeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
