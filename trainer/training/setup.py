"""Setting a `trainer fit` run up, before its first step: the run folder, resuming (or starting
from the base model, or from scratch), the tokens and windows, the device, the prepared model,
its optimizer, and everything a checkpoint restores. ``setup(cfg)`` returns the ``RunState``."""
from __future__ import annotations

import logging
import time
from pathlib import Path

import torch

from common.errors import TrainerError
from trainer.devices import make_grad_scaler, pick_device, resolve_precision
from trainer.evaluation.metrics import MetricsLog
from trainer.model_loading import load_model, model_context
from trainer.training import checkpoint as ckpt
from trainer.training import data
from trainer.training.config import FitConfig, peak_lr, warmup_steps
from trainer.training.distributed import Dist, rank_device, setup_distributed, wrap_for_ranks
from trainer.training.flops import flops_per_token
from trainer.training.model_prep import cpu_threads_for, prepare_model, training_objective
from trainer.training.optimizer import make_optimizer
from trainer.training.run_folder import (
    check_same_settings,
    move_aside,
    prepare_run_dir,
    refuse_to_overwrite,
    run_settings,
)
from trainer.training.scratch import build_from_scratch
from trainer.training.state import RunState, restore_checkpoint

log = logging.getLogger(__name__)

EVAL_WINDOWS = 64  # validation windows per evaluation during training (a fixed, spread subset)


def setup(cfg: FitConfig) -> RunState:
    """Everything the first step needs; raises ``UserError`` subclasses for what a user can get
    wrong (corpus, run folder, model, block size)."""
    started = time.time()
    dist = setup_distributed(cfg.device)
    corpus = data.read_corpus(cfg.corpus)
    run_dir = cfg.run_dir
    prepare_run_dir(run_dir)
    wanted = run_settings(cfg, corpus, cfg.block_size)
    checkpoint, aside = _resume_point(cfg, run_dir, wanted, dist)
    train_idx, val_idx = data.held_out_split(corpus.documents, cfg.val_fraction)
    model, tokenizer = _model(cfg, checkpoint, corpus, train_idx)
    saved = checkpoint.trainer_state if checkpoint else {}
    block_size = _block_size(cfg, model, saved)
    settings = {**wanted, "block_size": block_size, "tokenizer_sha256": data.tokenizer_sha256(tokenizer)}

    windows, val_windows = _windows(cfg, corpus, tokenizer, train_idx, val_idx, block_size, dist)
    warnings = _warnings(saved, checkpoint, val_windows)
    device = rank_device(pick_device(cfg.device), dist)
    precision = resolve_precision(device, cfg.precision)
    _set_cpu_threads(model, device)
    model.train()
    model = prepare_model(model, device, grad_checkpointing=cfg.grad_checkpointing)
    objective = wrap_for_ranks(training_objective(model, device, cfg.compile), device, dist)  # compiled on CUDA
    lr = peak_lr(cfg, saved.get("schedule", {}))
    start_step = checkpoint.step if checkpoint else 0
    run = RunState(
        run_dir=run_dir, dist=dist, device=device, precision=precision, corpus=corpus,
        train_idx=train_idx, val_idx=val_idx, settings=settings,
        resumed_from=checkpoint.step if checkpoint else None, aside=aside,
        model=model, tokenizer=tokenizer, objective=objective,
        optimizer=make_optimizer(model, lr=lr, weight_decay=cfg.weight_decay, device=device),
        scaler=make_grad_scaler(device, precision), windows=windows, val_windows=val_windows,
        lr=lr, warmup=warmup_steps(cfg, saved.get("schedule", {})),
        start_step=start_step, target=start_step + cfg.steps,
        tokens_per_step=cfg.batch_size * windows.block * cfg.grad_accum * dist.world,
        flops_per_token=_flops_per_token(model, windows.block),
        step=start_step, warnings=warnings, metrics=MetricsLog(run_dir), started=started,
    )
    if checkpoint is not None:
        restore_checkpoint(cfg, run, checkpoint)
    else:
        torch.manual_seed(cfg.seed + dist.rank)  # dropout
    windows.step = start_step
    if dist.main:
        if checkpoint is not None:
            run.metrics.truncate_after(start_step)
        else:
            run.metrics.reset()
    return run


def _resume_point(cfg: FitConfig, run_dir: Path, wanted: dict,
                  dist: Dist) -> tuple[ckpt.Checkpoint | None, Path | None]:
    """``(checkpoint, aside)``: the newest readable checkpoint made with the same settings (None:
    start afresh) and, with ``--fresh``, where the old checkpoints were moved."""
    checkpoint = None if cfg.fresh else ckpt.load_latest(run_dir)
    if checkpoint is not None:
        check_same_settings(run_dir, checkpoint.trainer_state["settings"], wanted)
        log.info("resuming from step %d (%s)", checkpoint.step, checkpoint.path)
        return checkpoint, None
    if not cfg.fresh:
        refuse_to_overwrite(run_dir)
    return None, (move_aside(run_dir) if cfg.fresh and dist.main else None)


def _model(cfg: FitConfig, checkpoint: ckpt.Checkpoint | None, corpus: data.Corpus, train_idx: list[int]):
    """``(model, tokenizer)``: the checkpoint's, a fresh one built on the training posts, or the
    base model."""
    if checkpoint is not None:
        return checkpoint.model, checkpoint.tokenizer
    if cfg.from_scratch:
        log.info("building a %s GPT-2 and a tokenizer from the corpus", cfg.size)
        return build_from_scratch([corpus.documents[i] for i in train_idx], cfg.size, seed=cfg.seed)
    log.info("loading %s", cfg.model)
    return load_model(cfg.model)


def _block_size(cfg: FitConfig, model, saved: dict) -> int:
    """``--block-size``, else the resumed run's, else min(1024, the model's context)."""
    context = model_context(model.config) or 1024
    block_size = cfg.block_size or saved.get("settings", {}).get("block_size") or min(1024, context)
    if block_size > context:
        raise TrainerError(f"--block-size {block_size} is longer than the model's context ({context}): use at most {context}")
    return block_size


def _windows(cfg: FitConfig, corpus: data.Corpus, tokenizer, train_idx: list[int], val_idx: list[int],
             block_size: int, dist: Dist) -> tuple[data.TrainWindows, list[torch.Tensor]]:
    """The training windows (this rank's) and the fixed validation windows, from the posts
    tokenized once (cached) and joined by EOS."""
    tokens = data.encode_documents(corpus.documents, tokenizer, cache_dir=data.cache_dir_for(corpus.path),
                                   corpus_sha256=corpus.sha256)
    eos = tokenizer.eos_token_id
    train_stream = data.token_stream([tokens[i] for i in train_idx], eos)
    val_stream = data.token_stream([tokens[i] for i in val_idx], eos) if val_idx else train_stream[:0]
    windows = data.TrainWindows(train_stream, block_size, cfg.batch_size, seed=cfg.seed, rank=dist.rank,
                                eos_id=eos, post_start_share=cfg.post_start_share)
    val_windows = data.validation_windows(val_stream, block_size, max_windows=EVAL_WINDOWS)
    if windows.block < block_size:
        log.info("short corpus: %d training tokens, windows of %d tokens", len(train_stream), windows.block)
    return windows, val_windows


def _warnings(saved: dict, checkpoint: ckpt.Checkpoint | None, val_windows: list) -> list[str]:
    """The run's warnings so far: the resumed run's, skipped checkpoints, no validation posts."""
    warnings: list[str] = list(saved.get("summary", {}).get("warnings", []))
    if checkpoint is not None:
        warnings.extend(checkpoint.skipped)
    if not val_windows:
        message = "no held-out posts (one post, or --val-fraction 0): no validation loss"
        log.warning(message)
        if message not in warnings:
            warnings.append(message)
    return warnings


def _set_cpu_threads(model, device: torch.device) -> None:
    """One thread for a small model on the CPU (``cpu_threads_for``); ``fit`` restores the count."""
    threads = cpu_threads_for(model, device)
    if threads is not None and threads != torch.get_num_threads():
        log.info("small model on the CPU: training with %d thread (faster than %d for matrices "
                 "this size; set OMP_NUM_THREADS to choose)", threads, torch.get_num_threads())
        torch.set_num_threads(threads)


def _flops_per_token(model, block: int) -> float | None:
    try:
        return flops_per_token(model.config, block)
    except (TypeError, AttributeError):  # a model type the FLOP count does not know
        return None
