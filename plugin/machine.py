"""What the "About the machine" page shows: the model's training summary (``train.json``) and its
loss plot. Reads JSON only: no torch. ``describe`` returns None when there is no model yet."""
from __future__ import annotations

import json
import logging
from pathlib import Path

from corpus_builder.fileio import atomic_write_bytes

from .settings import get, model_path

logger = logging.getLogger(__name__)

SUMMARY_KEYS = ("base_model", "steps", "tokens_seen", "train_loss", "val_loss", "val_perplexity",
                "device", "time_s", "trained_at")


def describe(settings: dict) -> dict | None:
    folder = model_path(settings)
    if not (folder / "config.json").is_file():
        return None
    summary: dict = {}
    train_json = folder / "train.json"
    if train_json.is_file():
        try:
            summary = json.loads(train_json.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            logger.warning("daily post: cannot read %s (%s); the machine page shows no training summary",
                           train_json, err)
        if not isinstance(summary, dict):
            summary = {}
    machine = {"name": folder.name, "path": str(get(settings, "DAILY_POST_MODEL"))}
    machine.update({key: summary.get(key) for key in SUMMARY_KEYS})
    machine["corpus_documents"] = summary.get("documents")
    plot = str(get(settings, "DAILY_POST_MACHINE_PLOT") or "")
    machine["loss_plot"] = plot if plot and (folder / "loss.png").is_file() else None
    machine["report_url"] = None
    return machine


def copy_loss_plot(settings: dict, output_path: str | Path) -> Path | None:
    """Copy the model's loss.png into the output at DAILY_POST_MACHINE_PLOT (when both exist)."""
    plot = str(get(settings, "DAILY_POST_MACHINE_PLOT") or "")
    source = model_path(settings) / "loss.png"
    if not plot or not source.is_file():
        return None
    target = Path(output_path) / plot
    data = source.read_bytes()
    if not (target.is_file() and target.read_bytes() == data):
        atomic_write_bytes(target, data)
    return target
