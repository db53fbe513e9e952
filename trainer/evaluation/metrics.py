"""What a run tells the user afterwards: ``metrics.jsonl``, ``train.json``, ``loss.png``, and the
overfitting detector that turns validation curves into a warning."""
from __future__ import annotations

import io
import json
import logging
import os
from pathlib import Path
from typing import Any

from common.fileio import atomic_write_bytes, atomic_write_json, atomic_write_text
from trainer.runs import SUMMARY

log = logging.getLogger(__name__)

METRICS = "metrics.jsonl"

# Keys of train.json that other parts read (sampler, plugin, report): keep them stable.
SUMMARY_KEYS = (
    "base_model", "from_scratch", "size", "corpus_path", "corpus_sha256", "documents",
    "train_documents", "val_documents", "steps", "tokens_seen", "train_loss", "val_loss",
    "val_perplexity", "best_step", "best_val_loss", "time_s", "device", "precision",
    "block_size", "batch_size", "grad_accum", "lr", "seed", "trained_at", "warnings",
)


class MetricsLog:
    """``metrics.jsonl``: one JSON object per training step (and per evaluation)."""

    def __init__(self, run_dir: str | os.PathLike):
        self.path = Path(run_dir) / METRICS

    def truncate_after(self, step: int) -> None:
        """Drop records of steps after ``step`` (a resumed run redoes them)."""
        records = [r for r in self.read() if r.get("step", 0) <= step]
        atomic_write_text(self.path, "".join(json.dumps(r) + "\n" for r in records))

    def reset(self) -> None:
        atomic_write_text(self.path, "")

    def append(self, record: dict[str, Any]) -> None:
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        records = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut by a crash
        return records


def write_summary(run_dir: str | os.PathLike, summary: dict[str, Any]) -> Path:
    """``train.json``: the training summary (see ``SUMMARY_KEYS``)."""
    missing = [key for key in SUMMARY_KEYS if key not in summary]
    if missing:
        raise ValueError(f"train.json is missing {missing}")
    return atomic_write_json(Path(run_dir) / SUMMARY, summary)


def plot_losses(records: list[dict[str, Any]], path: str | os.PathLike, *, title: str = "") -> Path | None:
    """``loss.png``: training loss per step and validation loss per evaluation."""
    train = [(r["step"], r["loss"]) for r in records if "loss" in r]
    val = [(r["step"], r["val_loss"]) for r in records if "val_loss" in r]
    if not train and not val:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4), dpi=100)
    axes = figure.subplots()
    if train:
        axes.plot(*zip(*train), label="training loss", linewidth=1, alpha=0.8)
    if val:
        axes.plot(*zip(*val), "o-", label="validation loss", linewidth=1.5, markersize=3)
    axes.set_xlabel("step")
    axes.set_ylabel("loss (nats/token)")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return atomic_write_bytes(path, buffer.getvalue())


class OverfitDetector:
    """Warns when the model starts memorising the corpus: validation loss has risen for
    ``patience`` evaluations in a row while training loss fell, or training loss went below
    ``memorise_below`` nats/token. Each kind of warning is given once."""

    def __init__(self, patience: int = 3, memorise_below: float = 1.0):
        self.patience = patience
        self.memorise_below = memorise_below
        self.history: list[tuple[int, float, float]] = []  # (step, train, val)
        self.given: set[str] = set()

    def state_dict(self) -> dict:
        return {"history": [list(h) for h in self.history], "given": sorted(self.given)}

    def load_state_dict(self, state: dict) -> None:
        self.history = [tuple(h) for h in state.get("history", [])]
        self.given = set(state.get("given", []))

    def update(self, step: int, train_loss: float | None, val_loss: float | None) -> list[str]:
        """Record one evaluation; return new warnings (possibly none)."""
        warnings = []
        if train_loss is not None and train_loss < self.memorise_below and "memorise" not in self.given:
            self.given.add("memorise")
            warnings.append(
                f"step {step}: training loss {train_loss:.2f} is below {self.memorise_below:.1f}: "
                "the model is memorising the corpus; use an earlier checkpoint (best/), fewer "
                "--steps or a lower --lr"
            )
        if train_loss is not None and val_loss is not None:
            self.history.append((step, train_loss, val_loss))
            recent = self.history[-(self.patience + 1):]
            if len(recent) == self.patience + 1 and "val_rising" not in self.given:
                val_rising = all(b[2] > a[2] for a, b in zip(recent, recent[1:]))
                train_falling = recent[-1][1] < recent[0][1]
                if val_rising and train_falling:
                    self.given.add("val_rising")
                    warnings.append(
                        f"step {step}: validation loss rose for {self.patience} evaluations "
                        f"({recent[0][2]:.3f} -> {recent[-1][2]:.3f}) while training loss fell: "
                        "the model is memorising the corpus; best/ holds the best checkpoint"
                    )
        return warnings
