"""The report's headline: "ready to publish" or "not ready", with the reasons in plain words.

``readiness(samples, calibration)`` reads the gate's verdicts on the report's samples: a run is
ready when at least ``READY_SHARE`` of them pass every rule (best-of-4 then finds a post most
days) and the gate is calibrated (without ``gate_calibration.json`` it cannot tell word salad or
off-topic text from a post). Each rule that rejected samples is one reason, with a figure.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field

READY_SHARE = 0.25

_WHY = {"fluency": "are not fluent", "topic": "are off-topic", "memorised": "copy the corpus",
        "repetition": "repeat themselves", "diversity": "repeat word pairs", "length": "are too short",
        "ending": "end mid-sentence", "title": "have no usable title", "html": "carry HTML"}


@dataclass
class Readiness:
    ready: bool
    headline: str
    reasons: list[str] = field(default_factory=list)


def readiness(samples: list, calibration: dict | None, reference_source: str = "") -> Readiness:
    """``samples``: ``trainer.evaluation.samples.Sample``s (verdicts and figures)."""
    n = len(samples)
    passed = sum(s.passed for s in samples)
    reasons = []
    counts: dict[str, list] = {}
    for s in samples:
        for rule in s.rejected_by:
            counts.setdefault(rule, []).append(s)
    for rule, rejected in sorted(counts.items(), key=lambda kv: -len(kv[1])):
        text = f"{len(rejected)} of {n} samples {_WHY.get(rule, f'fail {rule}')}"
        if rule == "fluency":
            ratios = [s.figures.get("fluency_ratio") for s in rejected if s.figures.get("fluency_ratio")]
            if ratios:
                under = f"the {reference_source}" if reference_source else "the reference model"
                text += f": perplexity under {under} {statistics.median(ratios):.1f}x your posts'"
        elif rule == "topic":
            sims = [s.figures.get("topic") for s in rejected if s.figures.get("topic") is not None]
            if sims and calibration:
                text += (f": similarity to your posts {statistics.median(sims):.2f} against their "
                         f"{calibration['median_similarity']:.2f}")
        reasons.append(text)
    if calibration is None:
        reasons.append("the gate is not calibrated (no gate_calibration.json): it cannot tell word "
                       "salad or off-topic text from a post")
    ready = n > 0 and calibration is not None and passed / n >= READY_SHARE
    headline = (f"ready to publish: {passed} of {n} samples pass every check of the quality gate"
                if ready else f"not ready: {passed} of {n} samples pass the quality gate")
    return Readiness(ready, headline, reasons)
