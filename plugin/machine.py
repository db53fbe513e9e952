"""What the "About the machine" page shows: the model's training summary (``train.json``, read by
``generate.training_summary``), its loss plot and a link to its ``trainer report`` page. Reads
JSON only: no torch. ``describe`` returns None when there is no model yet."""
from __future__ import annotations

import logging
from pathlib import Path

from common.errors import RunFolderError
from common.fileio import atomic_write_bytes

from .generate import training_summary
from .settings import DailyPostSettings

logger = logging.getLogger(__name__)

SUMMARY_KEYS = ("base_model", "steps", "tokens_seen", "train_loss", "val_loss", "val_perplexity",
                "device", "time_s", "trained_at")


def describe(settings: DailyPostSettings) -> dict | None:
    folder = settings.model_path
    if not (folder / "config.json").is_file():
        return None
    summary: dict = {}
    if (folder / "train.json").is_file():
        try:
            summary = training_summary(folder)
        except RunFolderError as err:
            logger.warning("daily post: %s; the machine page shows no training summary", err)
    machine = {"name": folder.name, "path": settings.model}
    machine.update({key: summary.get(key) for key in SUMMARY_KEYS})
    machine["corpus_documents"] = summary.get("documents")
    for key, (name, where) in _machine_files(settings).items():
        machine[key] = where if where and (folder / name).is_file() else None
    return machine


def _machine_files(settings: DailyPostSettings) -> dict[str, tuple[str, str]]:
    """The model's files the machine page shows: its context key, the file's name in the model
    folder, and where it goes in the output (DAILY_POST_MACHINE_PLOT / _REPORT; "" for nowhere)."""
    return {"loss_plot": ("loss.png", settings.machine_plot),
            "report_url": ("report.html", settings.machine_report)}


def copy_machine_files(settings: DailyPostSettings, output_path: str | Path) -> list[Path]:
    """Copy the model's loss.png and report.html (from `trainer report`) into the output, at
    DAILY_POST_MACHINE_PLOT and DAILY_POST_MACHINE_REPORT, when they exist."""
    copied = []
    for name, where in _machine_files(settings).values():
        source = settings.model_path / name
        if not where or not source.is_file():
            continue
        target = Path(output_path) / where
        data = source.read_bytes()
        if not (target.is_file() and target.read_bytes() == data):
            atomic_write_bytes(target, data)
        copied.append(target)
    return copied
