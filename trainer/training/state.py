"""``RunState``: everything one `trainer fit` run holds and changes, in one place, and the part of
it a checkpoint keeps (``save_checkpoint``, ``restore_checkpoint``).

``setup`` builds it, ``train`` advances it step by step and ``finish`` writes it out (all three in
``trainer.training.fit``).
"""
from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from trainer.evaluation.metrics import MetricsLog, OverfitDetector
from trainer.training import checkpoint as ckpt
from trainer.training.config import FitConfig
from trainer.training.data import Corpus, TrainWindows, mix_seed
from trainer.training.distributed import Dist
from trainer.training.optimizer import restore_optimizer

FORMAT = 1  # of trainer_state.json


def new_summary() -> dict[str, Any]:
    """The running summary a checkpoint keeps (``train.json`` adds the settings at the end)."""
    return {"tokens_seen": 0, "time_s": 0.0, "best_val_loss": None, "best_step": None,
            "train_loss": None, "val_loss": None}


@dataclass
class RunState:
    # where, and on what
    run_dir: Path
    dist: Dist
    device: torch.device
    precision: str
    corpus: Corpus
    train_idx: list[int]  # the posts trained on
    val_idx: list[int]  # the posts held out
    settings: dict[str, Any]  # what the run was made with (run_folder.run_settings + block, tokenizer)
    resumed_from: int | None  # the checkpoint's step, None on a fresh start
    aside: Path | None  # --fresh: the old checkpoints, removed once a new one exists
    # the model and what trains it
    model: Any  # the model itself: saved, evaluated, sampled
    tokenizer: Any
    objective: torch.nn.Module  # model + loss (compiled, in DDP): what a training step calls
    optimizer: torch.optim.Optimizer
    scaler: Any  # a GradScaler for fp16, else None
    windows: TrainWindows  # the training batches
    val_windows: list[torch.Tensor]  # the fixed validation windows
    # the schedule
    lr: float  # the peak learning rate
    warmup: int
    start_step: int
    target: int  # the step this invocation ends at
    tokens_per_step: int
    flops_per_token: float | None  # None for a model type the FLOP count does not know
    # progress
    step: int
    warnings: list[str]
    metrics: MetricsLog
    summary: dict[str, Any] = field(default_factory=new_summary)
    detector: OverfitDetector = field(default_factory=OverfitDetector)
    stopped: bool = False  # Ctrl-C / SIGTERM: checkpoint saved, no final model
    # losses still on the device (read back every few steps), the speed since the last read-back
    pending: list[tuple[dict, torch.Tensor]] = field(default_factory=list)
    postfix: dict[str, str] = field(default_factory=dict)  # the progress bar's figures
    window_start: float = 0.0
    window_tokens: int = 0
    session_start: float = 0.0  # when this invocation's training began
    base_time: float = 0.0  # training seconds of the earlier invocations (resumed runs)
    started: float = 0.0  # when fit() began


def trainer_state(cfg: FitConfig, run: RunState) -> dict[str, Any]:
    """``trainer_state.json`` of a checkpoint: the step, settings, schedule and running summary."""
    return {
        "format": FORMAT, "step": run.step, "settings": run.settings,
        "schedule": {"lr": run.lr, "warmup": run.warmup, "horizon": run.target, "schedule": cfg.schedule},
        "summary": {**run.summary, "warnings": run.warnings}, "overfit": run.detector.state_dict(),
        "config": asdict(cfg),
    }


def save_checkpoint(cfg: FitConfig, run: RunState) -> Path:
    """Write ``checkpoints/step-N/`` for the current step, keep the last ``--keep``, and (after
    ``--fresh``) drop the checkpoints moved aside."""
    training_state = {
        "optimizer": run.optimizer.state_dict(),
        "scaler": run.scaler.state_dict() if run.scaler is not None else {},
        "rng_torch": torch.get_rng_state(),
        "rng_cuda": torch.cuda.get_rng_state_all() if run.device.type == "cuda" else [],
        "sampler": run.windows.state_dict(),
    }
    path = ckpt.save_checkpoint(run.run_dir, run.step, model=run.model, tokenizer=run.tokenizer,
                                training_state=training_state, trainer_state=trainer_state(cfg, run))
    ckpt.prune_checkpoints(run.run_dir, cfg.keep)
    if run.aside is not None:
        shutil.rmtree(run.aside, ignore_errors=True)
        run.aside = None
    return path


def restore_checkpoint(cfg: FitConfig, run: RunState, checkpoint: ckpt.Checkpoint) -> None:
    """Continue where ``checkpoint`` stopped: optimizer moments, grad scaler, data order, random
    state, running summary and overfitting history."""
    training = checkpoint.training_state
    restore_optimizer(run.optimizer, training["optimizer"])
    if run.scaler is not None and training.get("scaler"):
        run.scaler.load_state_dict(training["scaler"])
    run.windows.load_state_dict(training["sampler"])
    if run.dist.main:
        torch.set_rng_state(training["rng_torch"])
        if run.device.type == "cuda" and len(training.get("rng_cuda", [])) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(training["rng_cuda"])
    else:
        torch.manual_seed(mix_seed(cfg.seed, run.dist.rank, checkpoint.step))
    saved = checkpoint.trainer_state
    run.summary.update({k: v for k, v in saved.get("summary", {}).items() if k in run.summary})
    run.detector.load_state_dict(saved.get("overfit", {}))
