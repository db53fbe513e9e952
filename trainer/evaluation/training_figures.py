"""The report's training figures: what ``train.json`` and ``metrics.jsonl`` say the run did.

- ``training_figures``: steps, tokens seen, time, device and throughput.
- ``loss_plot_png``: the train/validation loss curves as PNG bytes.
"""
from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from trainer.evaluation.metrics import MetricsLog, plot_losses

SUMMARY_FIGURES = (
    "base_model", "from_scratch", "size", "steps", "tokens_seen", "time_s", "device", "precision",
    "block_size", "batch_size", "grad_accum", "lr", "train_loss", "val_loss", "val_perplexity",
    "best_step", "best_val_loss", "documents", "train_documents", "val_documents", "trained_at",
    "corpus_path", "corpus_sha256",
)


def training_figures(summary: dict, records: list[dict] | None = None) -> dict:
    """What the run did: the ``train.json`` figures plus throughput: tokens seen per second of
    the whole run (``tokens_per_s``, evaluations, samples and checkpoints included) and the
    median of the per-step rates in ``metrics.jsonl`` (``step_tokens_per_s``)."""
    figures = {key: summary.get(key) for key in SUMMARY_FIGURES}
    tokens, seconds = summary.get("tokens_seen"), summary.get("time_s")
    figures["tokens_per_s"] = tokens / seconds if tokens and seconds else None
    rates = [r["tok_s"] for r in records or [] if isinstance(r.get("tok_s"), (int, float))]
    figures["step_tokens_per_s"] = statistics.median(rates) if rates else None
    return figures


def loss_plot_png(run_dir: Path, records: list[dict] | None = None) -> bytes | None:
    """PNG bytes of the loss curves: drawn from ``metrics.jsonl``, else the run's ``loss.png``."""
    records = MetricsLog(run_dir).read() if records is None else records
    if records:
        with tempfile.TemporaryDirectory() as tmp:
            written = plot_losses(records, Path(tmp) / "loss.png", title=Path(run_dir).name)
            if written is not None:
                return Path(written).read_bytes()
    existing = Path(run_dir) / "loss.png"
    return existing.read_bytes() if existing.is_file() else None
