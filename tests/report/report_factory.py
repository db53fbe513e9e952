"""A ``trainer report`` Report made by hand (no model, no torch): every dataclass and figure the
report page shows, with every text set to one string, so a test can fill them all with a payload."""
from __future__ import annotations


def make_report(text: str = "a note", loss_png: bytes | None = None):
    from trainer.evaluation.comparison import PerplexityComparison
    from trainer.evaluation.diversity import Diversity
    from trainer.evaluation.memorisation_figures import Memorisation, Span
    from trainer.evaluation.readiness import Readiness
    from trainer.evaluation.report import Report
    from trainer.evaluation.samples import Sample

    training = {"base_model": text, "from_scratch": False, "size": text, "steps": 1000, "tokens_seen": 4096000,
                "time_s": 754.2, "device": text, "precision": text, "block_size": 32, "batch_size": 4,
                "grad_accum": 2, "lr": 3e-4, "train_loss": 2.71828, "val_loss": 3.14159, "val_perplexity": 23.14,
                "best_step": 900, "best_val_loss": 3.0, "documents": 16, "train_documents": 14,
                "val_documents": 2, "trained_at": text, "corpus_path": text, "corpus_sha256": text,
                "tokens_per_s": 5431.2, "step_tokens_per_s": 6012.5}
    samples = [Sample(index=i, seed=i, title=text, body=text, text=text, tokens=12, stop=text, passed=bool(i % 2),
                      rejected_by=[] if i % 2 else [text], verdicts=[text, text], figures={text: 0.5, "words": 40})
               for i in range(3)]
    return Report(
        run_name=text, run_dir=text, generated_at=text, training=training, loss_png=loss_png,
        perplexity=PerplexityComparison(documents=2, tokens=300, fine_tuned=20.5, base=40.1, base_model=text,
                                        base_note=text, change_pct=48.9, verdict=text),
        held_out_note=text, gallery=samples,
        memorisation=Memorisation(samples=8, threshold=50, copied=1, share=0.125,
                                  longest=Span(tokens=60, text=text, sample=0, source=3, source_title=text),
                                  window=8, gate_passed=5, rejections={text: 3, "too_short": 1}),
        diversity_samples=Diversity(texts=8, words=120.0, distinct1=0.5, distinct2=0.8, rep=0.01, rep_n=4),
        diversity_posts=Diversity(texts=16, words=130.0, distinct1=float("nan"), distinct2=0.85, rep=0.0, rep_n=4),
        corpus_path=text, corpus_posts=16, corpus_tokens=20000, warnings=[text, text],
        options={"samples": 3, "batch": 8, "seed": 0, "precision": text, "length": 400, "base_model": text,
                 "words_compared": 100, "gate": {"memorised_tokens": 50, "rule": text}},
        model_identity={"weights_sha256": text, "name": text, "path": text},
        readiness=Readiness(ready=False, headline=text, reasons=[text, text]),
        calibration={"reference": text, "reference_source": text, "posts": 16, "held_out_posts": 2,
                     "median_perplexity": 30.0, "p95_perplexity": 60.0, "max_perplexity": 90.0,
                     "median_similarity": 0.3, "p5_similarity": 0.1, "min_similarity": 0.05, "p5_words": 40,
                     "html_share": 0.25, "created_at": text})
