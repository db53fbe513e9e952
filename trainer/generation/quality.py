"""The gate's two calibrated rules: ``fluency`` (perplexity under a reference model) and ``topic``
(TF-IDF similarity to the blog), each against the run's ``gate_calibration.json``.

``QualityChecks(run_dir, gate)`` is made once per ``Sampler`` (``Sampler.quality_checks``) and
passed to ``gate.assess``; it reads the calibration and loads the reference model lazily, on the
first candidate, only when the fluency rule is on. Bad input, each one warning:
- no calibration (a run from before it existed) or an unreadable one: the gate runs without the
  two rules (the old gate);
- a reference model that cannot be loaded: every candidate fails ``fluency`` (no post that day,
  never an unchecked one) unless the owner switched the rule off (``GateSettings(fluency=False)``).
"""
from __future__ import annotations

import logging
import math
from pathlib import Path

from common.errors import ModelError
from trainer.generation.calibration import GateCalibration, read_calibration

log = logging.getLogger(__name__)


def scored_text(title: str, body: str) -> str:
    """The text both rules measure: a post as the corpus holds it (title line, blank line, body)."""
    return f"{title}\n\n{body}" if title else body


class QualityChecks:
    def __init__(self, run_dir, gate, calibration: GateCalibration | None = None, reference=None,
                 summary: dict | None = None):
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.gate = gate
        self.enabled = bool(getattr(gate, "fluency", True) or getattr(gate, "topic", True))
        self.calibration = calibration
        self.reference = reference  # a ReferenceModel, loaded on first use
        self.reference_error: str | None = None
        self.summary = summary
        self._topic = None
        if self.enabled and self.calibration is None and self.run_dir is not None:
            try:
                self.calibration = read_calibration(self.run_dir)
                missing = "it has no gate_calibration.json (a run from an older version)"
            except ValueError as exc:
                missing = str(exc)
            if self.calibration is None:
                log.warning("the gate runs without its fluency and topic checks for %s: %s; run "
                            "`trainer report --run %s` to calibrate them", self.run_dir, missing,
                            self.run_dir)

    @property
    def active(self) -> bool:
        return self.enabled and self.calibration is not None

    def min_words(self, configured: int) -> int:
        """The length limit: ``configured``, lowered for a blog of short posts (calibration)."""
        return self.calibration.min_words(configured) if self.active else configured

    @property
    def html_is_the_blogs_style(self) -> bool:
        """The blog's own posts show HTML (code samples): a candidate's HTML is no fault."""
        return self.active and self.calibration.html_is_the_blogs_style

    # ------------------------------------------------------------------ the reference model
    def _reference(self):
        if self.reference is None and self.reference_error is None:
            from trainer.generation.fluency import ReferenceModel

            ref = self.calibration.reference
            try:
                if ref is None or not _exists_or_hub_id(ref):
                    from trainer.generation.fluency import reference_for
                    from trainer.runs import read_summary

                    summary = self.summary if self.summary is not None else \
                        (read_summary(self.run_dir) if self.run_dir else {})
                    ref = reference_for(summary)[0] or ref
                self.reference = ReferenceModel.load(ref, max_tokens=self.calibration.max_tokens)
            except (ModelError, OSError, RuntimeError, ValueError) as exc:
                self.reference_error = f"the reference model could not be loaded ({exc})"
                log.warning("%s: no candidate passes the fluency check (switch it off with "
                            "DAILY_POST_GATE = {'fluency': False} to publish without it)",
                            self.reference_error)
        return self.reference

    def prepare(self, posts) -> None:
        """Score a batch of candidates at once (faster than one by one)."""
        if self.active and getattr(self.gate, "fluency", True) and self._reference() is not None:
            self.reference.perplexities([scored_text(p.title, p.body) for p in posts])

    # ------------------------------------------------------------------ the rules
    def verdicts(self, post, figures: dict) -> list:
        from trainer.generation.gate import Verdict

        if not self.active:
            return []
        cal, out = self.calibration, []
        text = scored_text(post.title, post.body)
        if getattr(self.gate, "fluency", True):
            limit = (f"<= {cal.max_perplexity:.1f} (your posts: median {cal.median_perplexity:.1f}, "
                     f"p95 {cal.p95_perplexity:.1f})")
            reference = self._reference()
            if reference is None:
                figures["fluency"] = None
                out.append(Verdict("fluency", False, "not measured", limit, self.reference_error))
            else:
                ppl = reference.perplexity(text)
                ratio = ppl / cal.median_perplexity if cal.median_perplexity else math.inf
                figures["fluency"] = round(ppl, 2)
                figures["fluency_ratio"] = round(ratio, 2)
                out.append(Verdict("fluency", ppl <= cal.max_perplexity,
                                   f"perplexity {ppl:.1f}, {ratio:.1f}x your posts'", limit))
        if getattr(self.gate, "topic", True) and cal.topic_model:
            if self._topic is None:
                from trainer.generation.topic import TopicModel

                self._topic = TopicModel.from_dict(cal.topic_model)
            sim = self._topic.similarity(text)
            figures["topic"] = round(sim, 4)
            out.append(Verdict("topic", sim >= cal.min_similarity, f"similarity {sim:.3f}",
                               f">= {cal.min_similarity:.3f} (your posts: median "
                               f"{cal.median_similarity:.3f}, p5 {cal.p5_similarity:.3f})"))
        return out


def _exists_or_hub_id(ref: str) -> bool:
    """A local path that exists, or something that is not a path at all (a hub id)."""
    path = Path(ref).expanduser()
    return path.exists() or not (ref.startswith(("/", ".", "~")) or ref.count("/") > 1)
