"""`trainer fit`: fine-tune (or train from scratch) a causal LM on the blog's corpus.

``fit(cfg)`` reads top to bottom like nanoGPT's train.py: ``setup`` -> ``train`` -> ``finish``,
each taking the settings (``FitConfig``, ``trainer.training.config``) and the run's state
(``RunState``, ``trainer.training.state``):

1. ``setup`` (``trainer.training.setup``): the run folder ``models/NAME/``; resume from the newest
   readable checkpoint, or load the base model (or build one from scratch); tokens (posts -> one
   stream joined by EOS, whole posts held out for validation); device, precision, the prepared
   model and its optimizer;
2. ``train``: each step sets the learning rate, accumulates gradients over micro-batches, clips
   and steps; then the periodic evaluation, samples and checkpoints. Ctrl-C / SIGTERM
   (``StopSignal``) ends it after the step with a checkpoint;
3. ``finish``: the final model at the top of the run folder, ``train.json`` and ``loss.png``.

Under ``torchrun --nproc_per_node=N`` the same code trains with DistributedDataParallel
(``trainer.training.distributed``): every rank draws its own windows, rank 0 alone evaluates,
samples, logs and writes files.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from common.corpus_format import small_corpus_warning
from common.errors import OutOfMemory
from trainer.devices import autocast
from trainer.evaluation.gate_calibration import calibrate_gate
from trainer.evaluation.metrics import plot_losses, write_summary
from trainer.evaluation.perplexity import evaluate_windows, perplexity_of
from trainer.training import checkpoint as ckpt
from trainer.training.config import FitConfig, check_config
from trainer.training.distributed import any_rank, no_sync, teardown
from trainer.training.flops import mfu
from trainer.training.model_prep import cpu_threads_for, inference_config
from trainer.training.optimizer import GRAD_CLIP, learning_rate, optimizer_step, set_learning_rate
from trainer.training.samples import generate_samples, write_samples
from trainer.training.setup import setup
from trainer.training.state import RunState, save_checkpoint
from trainer.training.stop import StopSignal

__all__ = ["FitConfig", "FitResult", "StopSignal", "fit", "setup", "train", "finish",
           "cpu_threads_for", "generate_samples", "learning_rate"]

log = logging.getLogger(__name__)

LOG_EVERY = 10  # read the loss back from the device every N steps (each read waits for the GPU)

OnStep = Callable[[int, dict], None]


@dataclass
class FitResult:
    run_dir: Path
    step: int
    stopped: bool  # interrupted (Ctrl-C / SIGTERM): a checkpoint was saved, no final model
    resumed_from: int | None
    summary: dict[str, Any] = field(default_factory=dict)


def fit(cfg: FitConfig, *, stop: StopSignal | None = None, on_step: OnStep | None = None) -> FitResult:
    """Train as ``cfg`` says; returns when done or stopped. Raises ``TrainerError`` subclasses
    for everything a user can get wrong."""
    threads = torch.get_num_threads()
    try:
        check_config(cfg)
        run = setup(cfg)
        train(cfg, run, stop or StopSignal(), on_step)
        return finish(cfg, run)
    finally:
        if torch.get_num_threads() != threads:  # setup may use one thread for a small model
            torch.set_num_threads(threads)


# --------------------------------------------------------------------------- the loop
def train(cfg: FitConfig, run: RunState, stop: StopSignal, on_step: OnStep | None = None) -> None:
    """Step until ``run.target``, or until ``stop`` is requested (then ``run.stopped``)."""
    from tqdm.auto import tqdm

    documents = run.corpus.documents
    small = small_corpus_warning(len(documents), sum(len(d.split()) for d in documents))
    if small and run.start_step == 0:
        log.warning(small)
    log.info("training %s: %d steps (%d -> %d), %d train / %d held-out posts, %d tokens per step, "
             "%s %s, lr %.2g", run.run_dir, cfg.steps, run.start_step, run.target, len(run.train_idx),
             len(run.val_idx), run.tokens_per_step, run.device, run.precision, run.lr)
    bar = tqdm(total=run.target, initial=run.start_step, disable=not (cfg.progress and run.dist.main),
               unit="step", dynamic_ncols=True)
    run.window_start, run.window_tokens = time.time(), 0
    run.session_start = time.time()
    run.base_time = float(run.summary["time_s"] or 0.0)
    try:
        with stop.installed():
            while run.step < run.target:
                record = _train_step(cfg, run)
                if _after_step(cfg, run, record, stop, on_step, bar):
                    run.stopped = run.step < run.target
                    break
    except (torch.OutOfMemoryError, MemoryError, RuntimeError) as exc:
        if not _is_oom(exc):
            raise
        bar.close()
        raise _out_of_memory(cfg, run) from None
    finally:
        bar.close()
    _read_back_losses(run)


def _train_step(cfg: FitConfig, run: RunState) -> dict:
    """One optimizer step: the scheduled learning rate, ``--grad-accum`` micro-batches, clip and
    step. Returns the step's metrics record (its loss is read back later)."""
    lr = learning_rate(run.step, lr=run.lr, warmup=run.warmup, horizon=run.target, schedule=cfg.schedule)
    set_learning_rate(run.optimizer, lr)
    loss_sum = torch.zeros((), device=run.device)
    for micro in range(cfg.grad_accum):
        x, y = run.windows.batch(run.step, micro)
        x, y = x.to(run.device, non_blocking=True), y.to(run.device, non_blocking=True)
        with no_sync(run.objective, run.dist, last=micro == cfg.grad_accum - 1):
            with autocast(run.device, run.precision):
                loss = run.objective(x, y) / cfg.grad_accum
            (run.scaler.scale(loss) if run.scaler is not None else loss).backward()
        loss_sum += loss.detach()
    optimizer_step(run.model, run.optimizer, run.scaler, clip=GRAD_CLIP)
    run.step += 1
    run.windows.step = run.step
    run.summary["tokens_seen"] += run.tokens_per_step
    run.window_tokens += run.tokens_per_step
    record = {"step": run.step, "lr": lr, "tokens_seen": run.summary["tokens_seen"]}
    run.pending.append((record, loss_sum))
    return record


def _after_step(cfg: FitConfig, run: RunState, record: dict, stop: StopSignal, on_step: OnStep | None,
                bar) -> bool:
    """What a step may be due: the losses read back, evaluation, samples, the progress bar, the
    caller's ``on_step`` and a checkpoint. True when training stops here."""
    step = run.step
    evaluate_now = step % cfg.eval_every == 0 or step == run.target
    sample_now = cfg.sample_every > 0 and cfg.sample_num > 0 and step % cfg.sample_every == 0
    stopping = any_rank(stop.requested, run.dist)
    save_now = step % cfg.save_every == 0 or step == run.target or stopping
    if len(run.pending) >= LOG_EVERY or evaluate_now or sample_now or save_now:
        _read_back_losses(run)
    if evaluate_now and run.dist.main:
        _evaluate(cfg, run, record)
    if sample_now and run.dist.main:
        _sample(cfg, run, bar)
    run.summary["time_s"] = run.base_time + time.time() - run.session_start
    bar.set_postfix(run.postfix, refresh=False)
    bar.update(1)
    if on_step is not None:
        on_step(step, record)
        stopping = stopping or any_rank(stop.requested, run.dist)
        save_now = save_now or stopping
    if save_now and run.dist.main:
        save_checkpoint(cfg, run)
    if not run.pending:  # tokens/s counts training time only, not evals, samples, saves
        run.window_start = time.time()
    return stopping


def _read_back_losses(run: RunState) -> None:
    """Read the pending steps' losses from the device (one wait for the GPU), log them with the
    tokens/s since the last read-back, and update the progress bar's figures."""
    if not run.pending:
        return
    elapsed = max(time.time() - run.window_start, 1e-9)
    tok_s = run.window_tokens / elapsed
    for record, loss in run.pending:
        record["loss"] = float(loss)
        record["tok_s"] = round(tok_s, 1)
        if run.dist.main:
            run.metrics.append(record)
    run.summary["train_loss"] = run.pending[-1][0]["loss"]
    run.postfix.update(loss=f"{run.summary['train_loss']:.3f}", tok_s=f"{tok_s:,.0f}")
    per_token = run.flops_per_token
    utilisation = mfu(tok_s / run.dist.world, per_token, run.device) if per_token else None  # per GPU
    if utilisation is not None:
        run.postfix["mfu"] = f"{100 * utilisation:.0f}%"
    run.pending.clear()
    run.window_start, run.window_tokens = time.time(), 0


def _evaluate(cfg: FitConfig, run: RunState, record: dict) -> None:
    """Validation loss on the fixed held-out windows (none without held-out posts); a new best
    is saved as ``best/``; the overfitting check gets the figures either way."""
    val_loss = None
    if run.val_windows:
        val_loss, _ = evaluate_windows(run.model, run.val_windows, batch_size=cfg.batch_size,
                                       device=run.device, precision=run.precision)
        record.update(val_loss=val_loss, val_perplexity=perplexity_of(val_loss))
        run.metrics.append({"step": run.step, "val_loss": val_loss, "val_perplexity": perplexity_of(val_loss)})
        run.summary["val_loss"] = val_loss
        run.postfix["val"] = f"{val_loss:.3f}"
        if run.summary["best_val_loss"] is None or val_loss < run.summary["best_val_loss"]:
            run.summary.update(best_val_loss=val_loss, best_step=run.step)
            with inference_config(run.model):
                ckpt.save_model_dir(run.run_dir / "best", run.model, run.tokenizer,
                                    extra={"step": run.step, "val_loss": val_loss})
    for warning in run.detector.update(run.step, run.summary["train_loss"], val_loss):
        log.warning(warning)
        run.warnings.append(warning)


def _sample(cfg: FitConfig, run: RunState, bar) -> None:
    seed = cfg.seed + run.step
    samples = generate_samples(run.model, run.tokenizer, num=cfg.sample_num, length=cfg.sample_length,
                               seed=seed, device=run.device)
    path = write_samples(run.run_dir, run.step, samples, seed)
    bar.write(f"--- samples at step {run.step} ({path}) ---\n" + "\n\n".join(samples) + "\n---")


def _is_oom(exc: BaseException) -> bool:
    if isinstance(exc, (torch.OutOfMemoryError, MemoryError)):
        return True
    text = str(exc).lower()
    return "out of memory" in text or "can't allocate memory" in text


def _out_of_memory(cfg: FitConfig, run: RunState) -> OutOfMemory:
    """The one-line error for a step that ran out of memory, with what to try."""
    smaller = (f"--batch-size {cfg.batch_size // 2} --grad-accum {cfg.grad_accum * 2} (same tokens "
               "per step), " if cfg.batch_size > 1 else "")
    checkpoint_hint = "" if cfg.grad_checkpointing else "--grad-checkpointing, "
    return OutOfMemory(
        f"out of memory on {run.device} at step {run.step + 1} with a batch of {cfg.batch_size} x "
        f"{run.windows.block} tokens (grad-accum {cfg.grad_accum}); the last checkpoint is kept. "
        f"Try {smaller}{checkpoint_hint}or a smaller --block-size (now {run.settings['block_size']}), "
        "then run the same command to resume"
    )


# --------------------------------------------------------------------------- the end
def finish(cfg: FitConfig, run: RunState) -> FitResult:
    """``loss.png``; unless stopped, the final model at the top of the run folder and
    ``train.json``; then leave the process group (torchrun)."""
    run.summary["time_s"] = run.base_time + time.time() - run.session_start
    result = FitResult(run_dir=run.run_dir, step=run.step, stopped=run.stopped, resumed_from=run.resumed_from)
    if run.dist.main:
        plot_losses(run.metrics.read(), run.run_dir / "loss.png",
                    title=f"{run.run_dir.name}: {run.settings['base_model']}")
        if not run.stopped:
            with inference_config(run.model):
                ckpt.publish_model(run.run_dir, run.model, run.tokenizer)
            result.summary = _summary(cfg, run)
            write_summary(run.run_dir, result.summary)
            if cfg.gate_calibration:
                calibrate_gate(run.run_dir, result.summary)
    teardown(run.dist)
    log.debug("fit finished in %.1fs", time.time() - run.started)
    return result


def _summary(cfg: FitConfig, run: RunState) -> dict[str, Any]:
    """``train.json``: the settings, the data, the figures (``SUMMARY_KEYS``)."""
    s, corpus = run.summary, run.corpus
    val_loss = s["val_loss"]
    return {
        "base_model": run.settings["base_model"], "from_scratch": cfg.from_scratch,
        "size": cfg.size if cfg.from_scratch else None, "corpus_path": str(corpus.path),
        "corpus_sha256": corpus.sha256, "documents": len(corpus.documents),
        "train_documents": len(run.train_idx), "val_documents": len(run.val_idx), "steps": run.step,
        "tokens_seen": s["tokens_seen"], "train_loss": s["train_loss"],
        "val_loss": val_loss, "val_perplexity": perplexity_of(val_loss) if val_loss is not None else None,
        "best_step": s["best_step"], "best_val_loss": s["best_val_loss"],
        "time_s": round(s["time_s"], 2), "device": str(run.device), "precision": run.precision,
        "block_size": run.settings["block_size"], "batch_size": cfg.batch_size, "grad_accum": cfg.grad_accum,
        "lr": run.lr, "seed": cfg.seed, "world_size": run.dist.world,
        "val_fraction": cfg.val_fraction, "run": run.run_dir.name,
        "trained_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "warnings": run.warnings,
    }
