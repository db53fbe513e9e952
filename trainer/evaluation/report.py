"""`trainer report`: every figure that tells a blogger whether their model is any good.

``build_report(run_dir, ...)`` measures a finished run and returns a ``Report``;
``trainer.evaluation.report_page`` turns it into ``report.html`` (self-contained), ``report.md``
and ``report.json``. Each figure comes from its own module, so the tests can check it against an
independent computation:

- ``training_figures``: steps, tokens seen, time, device, throughput and the loss curves.
- ``comparison``: perplexity of the fine-tuned model and of its base model on the posts held out
  from training (the same split ``trainer fit`` made), and the verdict in words.
- ``samples``: one batch of unconditional samples (the gallery is its first few, each with the
  quality gate's verdicts).
- ``memorisation_figures``: how many samples share a verbatim run of >= 50 tokens with the corpus,
  and the longest shared run with the post it came from.
- ``diversity``: distinct-n / rep-n of the samples and of the real posts.
- ``run_warnings``: overfitting, a corpus too small, too few steps, in plain words.
"""
from __future__ import annotations

import logging
import os
import statistics
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from common.errors import TrainerError
from trainer.evaluation.comparison import (
    HeldOut,
    PerplexityComparison,
    compare_perplexity,
    default_base,
    held_out_posts,
)
from trainer.evaluation.diversity import Diversity, diversity
from trainer.evaluation.gate_calibration import calibrated_checks
from trainer.evaluation.memorisation_figures import Memorisation, SpanFinder, memorisation_figures
from trainer.evaluation.metrics import MetricsLog
from trainer.evaluation.readiness import Readiness, readiness
from trainer.evaluation.run_warnings import report_warnings
from trainer.evaluation.samples import Sample, sample_candidates
from trainer.evaluation.training_figures import loss_plot_png, training_figures
from trainer.runs import read_summary

log = logging.getLogger(__name__)


@dataclass
class Report:
    run_name: str
    run_dir: str
    generated_at: str
    training: dict
    loss_png: bytes | None
    perplexity: PerplexityComparison | None
    held_out_note: str
    gallery: list[Sample]
    memorisation: Memorisation
    diversity_samples: Diversity
    diversity_posts: Diversity
    corpus_path: str
    corpus_posts: int
    corpus_tokens: int
    warnings: list[str]
    options: dict
    model_identity: dict
    readiness: Readiness | None = None  # the headline: ready to publish or not, and why
    calibration: dict | None = None  # the gate's calibration figures (GateCalibration.summary)


def build_report(run_dir: str | os.PathLike, *, samples: int = 8, batch: int = 64, seed: int = 0,
                 base_model: str | None = None, precision: str = "auto", length: int = 400,
                 corpus: str | None = None, gate=None, progress: bool = False,
                 threads: int | None = None) -> Report:
    """Measure the run in ``run_dir`` (see the module docstring). Raises ``TrainerError``."""
    from common.corpus_format import read_documents
    from trainer.generation.gate import GateSettings, words
    from trainer.generation.sampler import Sampler, SamplingSettings

    run_dir = Path(run_dir)
    if samples < 0 or batch < 1:
        raise TrainerError(f"--samples {samples} and --batch {batch}: use samples >= 0 and batch >= 1")
    batch = max(batch, samples)
    summary = read_summary(run_dir)
    if threads:  # --threads (else Sampler.load's default: OMP_NUM_THREADS, else every CPU)
        import torch

        torch.set_num_threads(threads)
    records = MetricsLog(run_dir).read()
    training = training_figures(summary, records)

    log.info("held-out perplexity of %s and of its base model", run_dir)
    held_out = held_out_posts(summary, corpus)
    base_ref, base_note = default_base(summary) if base_model is None else (base_model, "")
    comparison = _held_out_comparison(run_dir, summary, held_out, base_ref, base_note)

    gate = gate or GateSettings(corpus=corpus)
    quality, calibration_note = calibrated_checks(run_dir, summary, corpus, gate)
    log.info("sampling %d posts (seed %d, up to %d tokens each)", batch, seed, length)
    sampler = Sampler.load(run_dir, precision=precision, threads=threads)
    settings = SamplingSettings(max_new_tokens=length).validate()
    drawn = sample_candidates(sampler, batch, seed, settings, gate, progress=progress,
                              quality=quality)

    documents = read_documents(held_out.corpus_path)
    finder = SpanFinder(documents, sampler.tokenizer)
    memorisation = memorisation_figures(drawn, finder, threshold=gate.memorised_tokens)
    cut = int(statistics.median(len(words(s.text)) for s in drawn)) or None  # compare like with like

    warnings = report_warnings(training, comparison, memorisation, finder.corpus_tokens,
                               comparison.documents, summary.get("warnings") or [])
    if held_out.note:
        warnings.append(held_out.note)
    if calibration_note:
        warnings.append(calibration_note)
    calibration = quality.calibration.summary() if quality.calibration else None
    return Report(
        run_name=run_dir.resolve().name,
        run_dir=str(run_dir.resolve()),
        generated_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        training=training,
        loss_png=loss_plot_png(run_dir, records),
        perplexity=comparison,
        held_out_note=held_out.note,
        gallery=drawn[:samples],
        memorisation=memorisation,
        diversity_samples=diversity([s.text for s in drawn], gate.rep_n, max_words=cut),
        diversity_posts=diversity(documents, gate.rep_n, max_words=cut),
        corpus_path=held_out.corpus_path,
        corpus_posts=len(documents),
        corpus_tokens=finder.corpus_tokens,
        warnings=warnings,
        options={"samples": samples, "batch": batch, "seed": seed, "precision": sampler.precision,
                 "length": length, "base_model": base_ref, "words_compared": cut,
                 "gate": gate.to_dict()},
        model_identity=dict(sampler.identity),
        readiness=readiness(drawn, calibration, quality.calibration.reference_source
                            if quality.calibration else ""),
        calibration=calibration,
    )


def _held_out_comparison(run_dir: Path, summary: dict, held_out: HeldOut, base_ref: str | None,
                         base_note: str) -> PerplexityComparison:
    """The run's model against ``base_ref`` on the held-out posts, on the GPU when there is one."""
    import torch

    from trainer.model_loading import load_model

    device = torch.device("cuda") if torch.cuda.is_available() else None
    model, tokenizer = load_model(str(run_dir))
    if device is not None:
        model.to(device)
    return compare_perplexity(model, tokenizer, held_out, summary.get("block_size"),
                              base_ref=base_ref, base_note=base_note, device=device)
