"""`trainer fit`: fine-tune (or train from scratch) a causal LM on the blog's corpus.

Read top to bottom, like nanoGPT's train.py:

1. settings (``FitConfig``) and the run folder ``models/NAME/``;
2. resume from the newest readable checkpoint, or load the base model (or build one from scratch);
3. tokens: posts -> one stream joined by EOS; whole posts held out for validation;
4. device, precision, model preparation and optimizer (``model_prep``, ``optimizer``);
5. the loop: learning rate, gradient accumulation, clipping, optimizer step, then the periodic
   evaluation, samples and checkpoints; Ctrl-C / SIGTERM ends it after the step with a checkpoint;
6. the end: the final model at the top of the run folder, ``train.json`` and ``loss.png``.

Under ``torchrun --nproc_per_node=N`` the same code trains with DistributedDataParallel: every rank
draws its own windows, rank 0 alone evaluates, samples, logs and writes files.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import os
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from trainer.training import checkpoint as ckpt
from trainer.training import data
from trainer.runs import run_path
from common.errors import OutOfMemory, RunFolderError, TrainerError
from trainer.evaluation.perplexity import evaluate_windows
from trainer.evaluation.metrics import MetricsLog, OverfitDetector, plot_losses, write_summary
from trainer.model_loading import build_from_scratch, load_model, model_context, model_reference

log = logging.getLogger(__name__)

DEFAULT_LR_PRETRAINED = 5e-5  # fine-tuning: small steps keep what the model knows
DEFAULT_LR_SCRATCH = {"tiny": 3e-3, "small": 1e-3, "gpt2": 6e-4}  # fresh models need big ones
MIN_LR_RATIO = 0.1  # cosine decays to 10 % of --lr
GRAD_CLIP = 1.0
EVAL_WINDOWS = 64  # validation windows per evaluation during training (a fixed, spread subset)
SAMPLE_TOP_K = 50
SMALL_MODEL_WIDTH = 256  # hidden size up to which CPU training uses one thread (cpu_threads_for)
LOG_EVERY = 10  # read the loss back from the device every N steps (each read waits for the GPU)
FORMAT = 1


@dataclass
class FitConfig:
    corpus: str = "data/corpus.txt"
    model: str = "gpt2"
    run: str = "blog"
    models_dir: str = "models"
    steps: int = 1000  # steps to run now: on a resumed run, N more
    from_scratch: bool = False
    size: str = "tiny"
    block_size: int | None = None  # None: min(1024, model context), or the resumed run's
    batch_size: int = 8
    grad_accum: int = 1
    lr: float | None = None  # None: 5e-5 pretrained; from scratch 3e-3 tiny, 1e-3 small, 6e-4 gpt2
    warmup: int | None = None  # None: 10 % of the first run's steps, at most 100
    schedule: str = "cosine"
    weight_decay: float = 0.01
    val_fraction: float = 0.1
    eval_every: int = 100
    sample_every: int = 200
    sample_num: int = 1
    sample_length: int = 200
    save_every: int = 100
    keep: int = 3
    seed: int = 1234
    precision: str = "auto"
    compile: str = "auto"
    grad_checkpointing: bool = False
    device: str = "auto"
    fresh: bool = False
    progress: bool = True

    @property
    def run_dir(self) -> Path:
        """``--run NAME`` is ``models/NAME``; a value with a slash is a folder path as given."""
        return run_path(self.run, self.models_dir)


@dataclass
class FitResult:
    run_dir: Path
    step: int
    stopped: bool  # interrupted (Ctrl-C / SIGTERM): a checkpoint was saved, no final model
    resumed_from: int | None
    summary: dict[str, Any] = field(default_factory=dict)


def learning_rate(step: int, *, lr: float, warmup: int, horizon: int, schedule: str) -> float:
    """Linear warmup for ``warmup`` steps, then constant or cosine down to 10 % at ``horizon``."""
    if step < warmup:
        return lr * (step + 1) / warmup
    if schedule == "constant":
        return lr
    progress = min(1.0, (step - warmup) / max(1, horizon - warmup))
    min_lr = lr * MIN_LR_RATIO
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (lr - min_lr)


# --------------------------------------------------------------------------- stop on Ctrl-C / SIGTERM
class StopSignal:
    """Set by Ctrl-C or SIGTERM (or ``request()``): the loop saves a checkpoint and returns.
    A second Ctrl-C aborts at once."""

    def __init__(self) -> None:
        self.requested = False

    def request(self) -> None:
        self.requested = True

    def _handle(self, signum, _frame) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True
        log.warning("%s: stopping after this step and saving a checkpoint (Ctrl-C again to abort)",
                    signal.Signals(signum).name)

    @contextlib.contextmanager
    def installed(self):
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


# --------------------------------------------------------------------------- DDP (torchrun)
@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    flags: object = None  # a gloo process group for stop flags when training runs on NCCL

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed(device_request: str) -> Dist:
    """Join the process group when started by torchrun (RANK / WORLD_SIZE in the environment)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    import torch.distributed as dist

    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() and device_request.split(":")[0] in ("auto", "cuda")
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    if use_cuda:
        torch.cuda.set_device(local_rank)
    # The per-step "did any rank get Ctrl-C / SIGTERM?" question goes over gloo on the CPU: over
    # NCCL it would need a GPU tensor read back every step, which drains the GPU's queue.
    flags = dist.new_group(backend="gloo") if dist.get_backend() != "gloo" else None
    return Dist(rank=rank, world=world, local_rank=local_rank, flags=flags)


def _any_rank(flag: bool, dist_info: Dist) -> bool:
    if not dist_info.enabled:
        return flag
    import torch.distributed as dist

    tensor = torch.tensor([1 if flag else 0], dtype=torch.int32)  # CPU: no GPU sync
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX, group=dist_info.flags)
    return bool(tensor.item())


# --------------------------------------------------------------------------- the run folder
def prepare_run_dir(run_dir: Path) -> None:
    """Create the run folder and prove it is writable (before any long work)."""
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=run_dir, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise RunFolderError(
            f"cannot write to the run folder {run_dir} ({exc.strerror or exc}): "
            "choose another --run, or fix the folder's permissions"
        ) from None


def run_settings(cfg: FitConfig, corpus: data.Corpus, block_size: int | None) -> dict[str, Any]:
    """What makes a run folder: resuming with other values would mix two different trainings."""
    return {
        "base_model": f"scratch:{cfg.size}" if cfg.from_scratch else model_reference(cfg.model),
        "from_scratch": cfg.from_scratch,
        "size": cfg.size if cfg.from_scratch else None,
        "corpus_sha256": corpus.sha256,
        "block_size": block_size,
    }


def check_same_settings(run_dir: Path, saved: dict, wanted: dict) -> None:
    labels = {"base_model": "base model", "from_scratch": "--from-scratch", "size": "--size",
              "corpus_sha256": "corpus (sha256)", "block_size": "--block-size"}
    differences = []
    for key, label in labels.items():
        if wanted.get(key) is None and key == "block_size":
            continue  # not given: take the run's
        if saved.get(key) != wanted.get(key):
            old, new = saved.get(key), wanted.get(key)
            if key == "corpus_sha256":
                old, new = str(old)[:12], str(new)[:12]
            differences.append(f"{label} {old} -> {new}")
    if differences:
        raise RunFolderError(
            f"{run_dir} was trained with other settings ({'; '.join(differences)}): pass --fresh "
            "to start that run over (its model is replaced only when the new one is written), or "
            "--run OTHER for a new run (to continue from the trained model, --model "
            f"{run_dir} --run OTHER)"
        )


def _move_aside(run_dir: Path) -> Path | None:
    """--fresh: move the old checkpoints and best/ aside; deleted once a new checkpoint exists."""
    old = [run_dir / ckpt.CHECKPOINTS, run_dir / "best"]
    old = [p for p in old if p.exists()]
    if not old:
        return None
    aside = run_dir / f".previous-{os.getpid()}"
    aside.mkdir(exist_ok=True)
    for path in old:
        os.replace(path, aside / path.name)
    log.info("--fresh: starting over; the previous checkpoints are removed after the first new one")
    return aside


@contextlib.contextmanager
def _inference_config(model):
    """Models saved for use (final, best/) keep the KV cache on, even when gradient checkpointing
    switched it off for training."""
    saved = getattr(model.config, "use_cache", None)
    model.config.use_cache = True
    try:
        yield
    finally:
        model.config.use_cache = saved


# --------------------------------------------------------------------------- samples
@torch.no_grad()
def generate_samples(model, tokenizer, *, num: int, length: int, seed: int, device) -> list[str]:
    """``num`` unconditional samples (from the EOS token, top-k), without touching the RNG state
    training uses."""
    eos = tokenizer.eos_token_id
    context = model_context(model.config)
    if context is not None:
        length = min(length, context - 1)  # the EOS start token takes one position
    devices = [device] if torch.device(device).type == "cuda" else []
    was_training = model.training
    model.eval()
    try:
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            ids = torch.full((num, 1), eos, dtype=torch.long, device=device)
            out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True,
                                 top_k=SAMPLE_TOP_K, max_new_tokens=length, pad_token_id=eos)
    finally:
        model.train(was_training)
    return [text.strip() for text in tokenizer.batch_decode(out[:, 1:], skip_special_tokens=True)]


def write_samples(run_dir: Path, step: int, samples: list[str], seed: int) -> Path:
    from common.fileio import atomic_write_text

    parts = [f"# step {step}, seed {seed}, top-k {SAMPLE_TOP_K}\n"]
    for i, text in enumerate(samples, 1):
        parts.append(f"\n==== sample {i} ====\n\n{text}\n")
    return atomic_write_text(run_dir / "samples" / f"step-{step}.txt", "".join(parts))


# --------------------------------------------------------------------------- the whole run
def fit(cfg: FitConfig, *, stop: StopSignal | None = None,
        on_step: Callable[[int, dict], None] | None = None) -> FitResult:
    """Train as ``cfg`` says; returns when done or stopped. Raises ``TrainerError`` subclasses
    for everything a user can get wrong."""
    threads = torch.get_num_threads()
    try:
        return _fit(cfg, stop=stop, on_step=on_step)
    finally:
        if torch.get_num_threads() != threads:  # _fit may use one thread for a small model
            torch.set_num_threads(threads)


def cpu_threads_for(model, device) -> int | None:
    """The CPU thread count for training ``model``, or None to keep PyTorch's.

    A small model (hidden size <= SMALL_MODEL_WIDTH, e.g. ``--size tiny``) multiplies matrices so
    small that splitting every operation across threads costs more than it gains: on 2 CPU cores,
    one thread trains the tiny model ~2.5x faster in wall time and uses ~2.5x less CPU time than two
    (0.32 vs 0.83 s per 2,048-token step). An explicit OMP_NUM_THREADS is always respected."""
    if torch.device(device).type != "cpu" or os.environ.get("OMP_NUM_THREADS"):
        return None
    width = next((getattr(model.config, name) for name in ("n_embd", "hidden_size", "d_model")
                  if isinstance(getattr(model.config, name, None), int)), None)
    return 1 if width is not None and width <= SMALL_MODEL_WIDTH else None


def _fit(cfg: FitConfig, *, stop: StopSignal | None, on_step: Callable[[int, dict], None] | None) -> FitResult:
    stop = stop or StopSignal()
    if cfg.steps < 1:
        raise TrainerError(f"--steps {cfg.steps}: give a number of steps of at least 1")
    if cfg.schedule not in ("cosine", "constant"):
        raise TrainerError(f"--schedule {cfg.schedule!r}: choose cosine or constant")
    for name in ("batch_size", "grad_accum", "eval_every", "save_every", "keep"):
        if getattr(cfg, name) < 1:
            raise TrainerError(f"--{name.replace('_', '-')} {getattr(cfg, name)}: use 1 or more")
    dist_info = setup_distributed(cfg.device)
    started = time.time()

    # 1. corpus and run folder -------------------------------------------------------------
    corpus = data.read_corpus(cfg.corpus)
    run_dir = cfg.run_dir
    prepare_run_dir(run_dir)
    wanted = run_settings(cfg, corpus, cfg.block_size)

    # 2. resume, or start from the base model --------------------------------------------------
    checkpoint = None if cfg.fresh else ckpt.load_latest(run_dir)
    aside = None
    if checkpoint is not None:
        check_same_settings(run_dir, checkpoint.trainer_state["settings"], wanted)
        model, tokenizer = checkpoint.model, checkpoint.tokenizer
        start_step = checkpoint.step
        log.info("resuming from step %d (%s)", start_step, checkpoint.path)
    else:
        if not cfg.fresh and ((run_dir / "train.json").exists() or (run_dir / "config.json").exists()):
            raise RunFolderError(
                f"{run_dir} already holds a trained model but no checkpoint to resume from: pass "
                "--fresh to train it again (the model is replaced only when the new one is "
                "written), or --run OTHER"
            )
        if cfg.fresh and dist_info.main:
            aside = _move_aside(run_dir)
        start_step = 0
    train_idx, val_idx = data.held_out_split(corpus.documents, cfg.val_fraction)
    if checkpoint is None:
        if cfg.from_scratch:
            log.info("building a %s GPT-2 and a tokenizer from the corpus", cfg.size)
            model, tokenizer = build_from_scratch([corpus.documents[i] for i in train_idx], cfg.size, seed=cfg.seed)
        else:
            log.info("loading %s", cfg.model)
            model, tokenizer = load_model(cfg.model)

    context = model_context(model.config) or 1024
    saved = checkpoint.trainer_state if checkpoint else {}
    block_size = cfg.block_size or saved.get("settings", {}).get("block_size") or min(1024, context)
    if block_size > context:
        raise TrainerError(f"--block-size {block_size} is longer than the model's context ({context}): use at most {context}")
    settings = {**wanted, "block_size": block_size, "tokenizer_sha256": data.tokenizer_sha256(tokenizer)}

    # 3. tokens ------------------------------------------------------------------------------
    tokens = data.encode_documents(corpus.documents, tokenizer, cache_dir=data.cache_dir_for(corpus.path),
                                   corpus_sha256=corpus.sha256)
    eos = tokenizer.eos_token_id
    train_stream = data.token_stream([tokens[i] for i in train_idx], eos)
    val_stream = data.token_stream([tokens[i] for i in val_idx], eos) if val_idx else train_stream[:0]
    sampler = data.TrainWindows(train_stream, block_size, cfg.batch_size, seed=cfg.seed, rank=dist_info.rank)
    val_windows = data.validation_windows(val_stream, block_size, max_windows=EVAL_WINDOWS)
    if sampler.block < block_size:
        log.info("short corpus: %d training tokens, windows of %d tokens", len(train_stream), sampler.block)
    warnings: list[str] = list(saved.get("summary", {}).get("warnings", []))
    if checkpoint is not None:
        warnings.extend(checkpoint.skipped)
    if not val_windows:
        message = "no held-out posts (one post, or --val-fraction 0): no validation loss"
        log.warning(message)
        if message not in warnings:
            warnings.append(message)

    # 4. device, precision, model, optimizer -----------------------------------------------------
    from trainer.training import flops as flop_count, model_prep, optimizer as opt
    from trainer.devices import autocast, make_grad_scaler, pick_device, resolve_precision

    device = pick_device(cfg.device)
    if dist_info.enabled and device.type == "cuda":
        device = torch.device("cuda", dist_info.local_rank)
    precision = resolve_precision(device, cfg.precision)
    threads = cpu_threads_for(model, device)
    if threads is not None and threads != torch.get_num_threads():
        log.info("small model on the CPU: training with %d thread (faster than %d for matrices "
                 "this size; set OMP_NUM_THREADS to choose)", threads, torch.get_num_threads())
        torch.set_num_threads(threads)
    lr = cfg.lr or saved.get("schedule", {}).get("lr") or (DEFAULT_LR_SCRATCH.get(cfg.size, 1e-3) if cfg.from_scratch else DEFAULT_LR_PRETRAINED)
    warmup = cfg.warmup if cfg.warmup is not None else saved.get("schedule", {}).get("warmup", min(100, cfg.steps // 10))
    target = start_step + cfg.steps
    model.train()
    raw_model = model_prep.prepare_model(model, device, grad_checkpointing=cfg.grad_checkpointing)
    objective = model_prep.training_objective(raw_model, device, cfg.compile)  # the loss; compiled on CUDA
    if dist_info.enabled:
        from torch.nn.parallel import DistributedDataParallel

        objective = DistributedDataParallel(objective, device_ids=[device.index] if device.type == "cuda" else None)
    optimizer = opt.make_optimizer(raw_model, lr=lr, weight_decay=cfg.weight_decay, device=device)
    scaler = make_grad_scaler(device, precision)
    detector = OverfitDetector()
    summary = {"tokens_seen": 0, "time_s": 0.0, "best_val_loss": None, "best_step": None,
               "train_loss": None, "val_loss": None}
    if checkpoint is not None:
        training = checkpoint.training_state
        opt.restore_optimizer(optimizer, training["optimizer"])
        if scaler is not None and training.get("scaler"):
            scaler.load_state_dict(training["scaler"])
        sampler.load_state_dict(training["sampler"])
        if dist_info.main:
            torch.set_rng_state(training["rng_torch"])
            if device.type == "cuda" and len(training.get("rng_cuda", [])) == torch.cuda.device_count():
                torch.cuda.set_rng_state_all(training["rng_cuda"])
        else:
            torch.manual_seed(data._mix(cfg.seed, dist_info.rank, start_step))
        summary.update({k: v for k, v in saved.get("summary", {}).items() if k in summary})
        detector.load_state_dict(saved.get("overfit", {}))
    else:
        torch.manual_seed(cfg.seed + dist_info.rank)  # dropout
    sampler.step = start_step

    metrics = MetricsLog(run_dir)
    if dist_info.main:
        if checkpoint is not None:
            metrics.truncate_after(start_step)
        else:
            metrics.reset()

    def trainer_state(step: int) -> dict:
        return {
            "format": FORMAT, "step": step, "settings": settings,
            "schedule": {"lr": lr, "warmup": warmup, "horizon": target, "schedule": cfg.schedule},
            "summary": {**summary, "warnings": warnings}, "overfit": detector.state_dict(),
            "config": asdict(cfg),
        }

    def save(step: int) -> Path:
        nonlocal aside
        training_state = {
            "optimizer": optimizer.state_dict(),
            "scaler": scaler.state_dict() if scaler is not None else {},
            "rng_torch": torch.get_rng_state(),
            "rng_cuda": torch.cuda.get_rng_state_all() if device.type == "cuda" else [],
            "sampler": sampler.state_dict(),
        }
        path = ckpt.save_checkpoint(run_dir, step, model=raw_model, tokenizer=tokenizer,
                                    training_state=training_state, trainer_state=trainer_state(step))
        ckpt.prune_checkpoints(run_dir, cfg.keep)
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
            aside = None
        return path

    # 5. the loop ------------------------------------------------------------------------------
    from tqdm.auto import tqdm

    tokens_per_step = cfg.batch_size * sampler.block * cfg.grad_accum * dist_info.world
    try:
        flops = flop_count.flops_per_token(raw_model.config, sampler.block)
    except (TypeError, AttributeError):  # a model type the FLOP count does not know
        flops = None
    log.info("training %s: %d steps (%d -> %d), %d train / %d held-out posts, %d tokens per step, "
             "%s %s, lr %.2g", run_dir, cfg.steps, start_step, target, len(train_idx), len(val_idx),
             tokens_per_step, device, precision, lr)
    bar = tqdm(total=target, initial=start_step, disable=not (cfg.progress and dist_info.main),
               unit="step", dynamic_ncols=True)
    pending: list[tuple[dict, torch.Tensor]] = []  # records whose loss is still on the device
    postfix: dict[str, str] = {}
    window_start, window_tokens = time.time(), 0
    session_start = time.time()
    base_time = float(summary["time_s"] or 0.0)
    step = start_step
    stopped = False

    def flush() -> None:
        nonlocal window_start, window_tokens
        if not pending:
            return
        elapsed = max(time.time() - window_start, 1e-9)
        tok_s = window_tokens / elapsed
        for record, loss in pending:
            record["loss"] = float(loss)
            record["tok_s"] = round(tok_s, 1)
            if dist_info.main:
                metrics.append(record)
        summary["train_loss"] = pending[-1][0]["loss"]
        postfix.update(loss=f"{summary['train_loss']:.3f}", tok_s=f"{tok_s:,.0f}")
        utilisation = flop_count.mfu(tok_s / dist_info.world, flops, device) if flops else None  # per GPU
        if utilisation is not None:
            postfix["mfu"] = f"{100 * utilisation:.0f}%"
        pending.clear()
        window_start, window_tokens = time.time(), 0

    try:
        with stop.installed():
            while step < target:
                lr_now = learning_rate(step, lr=lr, warmup=warmup, horizon=target, schedule=cfg.schedule)
                for group in optimizer.param_groups:
                    group["lr"] = lr_now
                loss_sum = torch.zeros((), device=device)
                for micro in range(cfg.grad_accum):
                    x, y = sampler.batch(step, micro)
                    x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
                    last = micro == cfg.grad_accum - 1
                    sync = contextlib.nullcontext() if (last or not dist_info.enabled) else objective.no_sync()
                    with sync:
                        with autocast(device, precision):
                            loss = objective(x, y) / cfg.grad_accum
                        (scaler.scale(loss) if scaler is not None else loss).backward()
                    loss_sum += loss.detach()
                opt.optimizer_step(raw_model, optimizer, scaler, clip=GRAD_CLIP)
                step += 1
                sampler.step = step
                summary["tokens_seen"] += tokens_per_step
                window_tokens += tokens_per_step
                record = {"step": step, "lr": lr_now, "tokens_seen": summary["tokens_seen"]}
                pending.append((record, loss_sum))

                evaluate_now = step % cfg.eval_every == 0 or step == target
                sample_now = cfg.sample_every > 0 and cfg.sample_num > 0 and step % cfg.sample_every == 0
                stopping = _any_rank(stop.requested, dist_info)
                save_now = step % cfg.save_every == 0 or step == target or stopping
                if len(pending) >= LOG_EVERY or evaluate_now or sample_now or save_now:
                    flush()
                if evaluate_now and val_windows and dist_info.main:
                    val_loss, _ = evaluate_windows(raw_model, val_windows, batch_size=cfg.batch_size,
                                                   device=device, precision=precision)
                    record.update(val_loss=val_loss, val_perplexity=_exp(val_loss))
                    metrics.append({"step": step, "val_loss": val_loss, "val_perplexity": _exp(val_loss)})
                    summary["val_loss"] = val_loss
                    postfix["val"] = f"{val_loss:.3f}"
                    if summary["best_val_loss"] is None or val_loss < summary["best_val_loss"]:
                        summary.update(best_val_loss=val_loss, best_step=step)
                        with _inference_config(raw_model):
                            ckpt.save_model_dir(run_dir / "best", raw_model, tokenizer,
                                                extra={"step": step, "val_loss": val_loss})
                    for warning in detector.update(step, summary["train_loss"], val_loss):
                        log.warning(warning)
                        warnings.append(warning)
                elif evaluate_now and dist_info.main:
                    for warning in detector.update(step, summary["train_loss"], None):
                        log.warning(warning)
                        warnings.append(warning)
                if sample_now and dist_info.main:
                    samples = generate_samples(raw_model, tokenizer, num=cfg.sample_num, length=cfg.sample_length,
                                               seed=cfg.seed + step, device=device)
                    path = write_samples(run_dir, step, samples, cfg.seed + step)
                    bar.write(f"--- samples at step {step} ({path}) ---\n" + "\n\n".join(samples) + "\n---")
                summary["time_s"] = base_time + time.time() - session_start
                bar.set_postfix(postfix, refresh=False)
                bar.update(1)
                if on_step is not None:
                    on_step(step, record)
                    stopping = stopping or _any_rank(stop.requested, dist_info)
                    save_now = save_now or stopping
                if save_now and dist_info.main:
                    save(step)
                if not pending:  # tokens/s counts training time only, not evals, samples, saves
                    window_start = time.time()
                if stopping:
                    stopped = step < target
                    break
    except (torch.OutOfMemoryError, MemoryError, RuntimeError) as exc:
        if not _is_oom(exc):
            raise
        bar.close()
        smaller = (f"--batch-size {cfg.batch_size // 2} --grad-accum {cfg.grad_accum * 2} (same tokens "
                   "per step), " if cfg.batch_size > 1 else "")
        checkpoint_hint = "" if cfg.grad_checkpointing else "--grad-checkpointing, "
        raise OutOfMemory(
            f"out of memory on {device} at step {step + 1} with a batch of {cfg.batch_size} x "
            f"{sampler.block} tokens (grad-accum {cfg.grad_accum}); the last checkpoint is kept. "
            f"Try {smaller}{checkpoint_hint}or a smaller --block-size (now {block_size}), then run "
            "the same command to resume"
        ) from None
    finally:
        bar.close()
    flush()

    # 6. the end ---------------------------------------------------------------------------------
    summary["time_s"] = base_time + time.time() - session_start
    result = FitResult(run_dir=run_dir, step=step, stopped=stopped,
                       resumed_from=checkpoint.step if checkpoint else None)
    if dist_info.main:
        plot_losses(metrics.read(), run_dir / "loss.png", title=f"{run_dir.name}: {settings['base_model']}")
        if not stopped:
            with _inference_config(raw_model):
                ckpt.publish_model(run_dir, raw_model, tokenizer)
            val_loss = summary["val_loss"]
            result.summary = {
                "base_model": settings["base_model"], "from_scratch": cfg.from_scratch,
                "size": cfg.size if cfg.from_scratch else None, "corpus_path": str(corpus.path),
                "corpus_sha256": corpus.sha256, "documents": len(corpus.documents),
                "train_documents": len(train_idx), "val_documents": len(val_idx), "steps": step,
                "tokens_seen": summary["tokens_seen"], "train_loss": summary["train_loss"],
                "val_loss": val_loss, "val_perplexity": _exp(val_loss) if val_loss is not None else None,
                "best_step": summary["best_step"], "best_val_loss": summary["best_val_loss"],
                "time_s": round(summary["time_s"], 2), "device": str(device), "precision": precision,
                "block_size": block_size, "batch_size": cfg.batch_size, "grad_accum": cfg.grad_accum,
                "lr": lr, "seed": cfg.seed, "world_size": dist_info.world,
                "val_fraction": cfg.val_fraction, "run": run_dir.name,
                "trained_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "warnings": warnings,
            }
            write_summary(run_dir, result.summary)
    if dist_info.enabled:
        import torch.distributed as dist

        dist.barrier()
        dist.destroy_process_group()
    log.debug("fit finished in %.1fs", time.time() - started)
    return result


def _is_oom(exc: BaseException) -> bool:
    if isinstance(exc, (torch.OutOfMemoryError, MemoryError)):
        return True
    text = str(exc).lower()
    return "out of memory" in text or "can't allocate memory" in text


def _exp(loss: float) -> float:
    try:
        return math.exp(loss)
    except OverflowError:
        return float("inf")
