"""Calibrating the gate's fluency and topic rules on the blog's own posts (``gate_calibration.json``).

``calibrate_run(run_dir)`` runs at the end of ``trainer fit`` and in ``trainer report``:
- fluency: the reference model's perplexity of the held-out posts, then of training posts up to
  ``MAX_POSTS`` in all (the reference model was never trained on either, and a blog of 20 posts
  holds out two: too few for a percentile);
- topic: the TF-IDF model of the training posts; the held-out posts' similarity to it, and of
  up to ``MAX_POSTS`` training posts each one's similarity to a model of the *other* training
  posts (leave one out).
- length and html: every post's body length in words, and the share of posts that show HTML.
The limits are ``GateCalibration``'s. ``calibration_posts`` is the split both use, also for
``bench/gate.py``.
"""
from __future__ import annotations

import hashlib
import logging
import os
from datetime import datetime, timezone
from pathlib import Path

from trainer.generation.calibration import GateCalibration
from trainer.generation.fluency import MAX_TOKENS, ReferenceModel, reference_for
from trainer.generation.gate import find_html, words
from trainer.generation.topic import TopicModel

log = logging.getLogger(__name__)

MAX_POSTS = 48


def leave_one_out_similarities(training: list[str], chosen: list[str]) -> list[float]:
    """Each chosen training post's topic similarity to a model of the *other* training posts (in a
    model of all of them its own words would count as the blog's)."""
    if len(training) < 2:
        return []
    return [TopicModel.fit([d for d in training if d is not post]).similarity(post) for post in chosen]


def _sample(posts: list[str], n: int) -> list[str]:
    """Up to ``n`` posts, chosen by the hash of their text (the same on every run)."""
    return sorted(posts, key=lambda d: hashlib.sha256(d.encode("utf-8")).hexdigest())[:max(n, 0)]


def calibrate(held_out: list[str], training: list[str], reference: ReferenceModel | None, *,
              reference_source: str = "", corpus_sha256: str | None = None) -> GateCalibration:
    """The calibration from the blog's posts (``reference`` None: topic figures only)."""
    topic = TopicModel.fit(training or held_out)
    loo = leave_one_out_similarities(training, _sample(training, MAX_POSTS))
    similarities = [topic.similarity(d) for d in held_out] + loo
    fluency_posts = list(held_out[:MAX_POSTS]) + _sample(training, MAX_POSTS - len(held_out))
    perplexities = reference.perplexities(fluency_posts) if reference is not None else []
    posts = list(held_out) + list(training)
    return GateCalibration(
        reference=reference.ref if reference is not None else None,
        reference_source=reference_source, max_tokens=reference.max_tokens if reference else MAX_TOKENS,
        perplexities=[round(p, 3) for p in perplexities],
        similarities=[round(s, 5) for s in similarities], held_out_posts=len(held_out),
        topic_model=topic.to_dict(), corpus_sha256=corpus_sha256,
        created_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        word_counts=[len(words(d.partition("\n\n")[2])) for d in posts],
        html_share=round(sum(bool(find_html(d)) for d in posts) / len(posts), 4) if posts else None)


def calibrate_run(run_dir: str | os.PathLike, *, summary: dict | None = None,
                  corpus: str | os.PathLike | None = None,
                  reference: ReferenceModel | None = None) -> GateCalibration:
    """Measure the run's posts and write ``gate_calibration.json``; raises ``UserError`` subclasses
    (no corpus, no reference model) with one line."""
    from common.fileio import sha256_file
    from trainer.evaluation.comparison import held_out_posts
    from trainer.runs import read_summary

    run_dir = Path(run_dir)
    summary = summary if summary is not None else read_summary(run_dir)
    posts = held_out_posts(summary, corpus)
    ref, source = reference_for(summary)
    if reference is None:
        reference = ReferenceModel.load(ref)
    else:
        source = source if reference.ref == ref else "given"
    log.info("calibrating the gate on %d held-out and %d training posts (reference %s)",
             len(posts.documents), len(posts.training), Path(reference.ref).name)
    calibration = calibrate(posts.documents, posts.training, reference, reference_source=source,
                            corpus_sha256=sha256_file(posts.corpus_path))
    calibration.write(run_dir)
    return calibration


SKIP_ENV = "TPDNE_SKIP_GATE_CALIBRATION"  # "1": `trainer fit` leaves it to `trainer report` (the tests)


def calibrate_gate(run_dir: str | os.PathLike, summary: dict) -> GateCalibration | None:
    """``calibrate_run`` at the end of ``trainer fit``: a failure is one warning, never a failed
    run (the model is already written; the gate then runs without fluency and topic)."""
    if os.environ.get(SKIP_ENV) == "1":
        return None
    try:
        return calibrate_run(run_dir, summary=summary)
    except Exception as exc:  # noqa: BLE001 - the trained model must survive any failure here
        from common.errors import first_line

        log.warning("the quality gate is not calibrated (%s): it runs without its fluency and "
                    "topic checks until `trainer report --run %s` calibrates it", first_line(exc), run_dir)
        return None


def calibrated_checks(run_dir, summary: dict, corpus, gate):
    """``(QualityChecks, note)`` for ``trainer report``: calibrate the run now (the reference model
    loaded once, for the calibration and the samples), else the calibration already there, with a
    note saying why it was not renewed."""
    from common.errors import first_line
    from trainer.generation.quality import QualityChecks

    if os.environ.get(SKIP_ENV) == "1" or not (gate.fluency or gate.topic):
        return QualityChecks(run_dir, gate), ""
    try:
        reference = ReferenceModel.load(reference_for(summary)[0]) if gate.fluency else None
        calibration = calibrate_run(run_dir, summary=summary, corpus=corpus, reference=reference) \
            if reference is not None else None
    except Exception as exc:  # noqa: BLE001 - the report still shows everything else
        note = f"the quality gate could not be calibrated ({first_line(exc)})"
        return QualityChecks(run_dir, gate), note
    return QualityChecks(run_dir, gate, calibration=calibration, reference=reference), ""
