"""`trainer fit`'s settings: ``FitConfig`` (the one source of its defaults), the checks on them
(``check_config``) and the defaults that depend on the run (``peak_lr``, ``warmup_steps``).

Torch-free, so the command line can build a ``FitConfig`` before any heavy import.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from common.errors import TrainerError
from trainer.runs import run_path

DEFAULT_LR_PRETRAINED = 5e-5  # fine-tuning: small steps keep what the model knows
DEFAULT_LR_SCRATCH = {"tiny": 3e-3, "small": 1e-3, "gpt2": 6e-4}  # fresh models need big ones
SCHEDULES = ("cosine", "constant")


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
    post_start_share: float = 0.0  # share of each batch's windows that begin where a post begins
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
    gate_calibration: bool = True  # measure the blog's posts for the gate at the end (gate_calibration.json)

    @property
    def run_dir(self) -> Path:
        """``--run NAME`` is ``models/NAME``; a value with a slash is a folder path as given."""
        return run_path(self.run, self.models_dir)


def check_config(cfg: FitConfig) -> None:
    """Raise ``TrainerError`` (one line, naming the option) for settings no run can use."""
    if cfg.steps < 1:
        raise TrainerError(f"--steps {cfg.steps}: give a number of steps of at least 1")
    if cfg.schedule not in SCHEDULES:
        raise TrainerError(f"--schedule {cfg.schedule!r}: choose cosine or constant")
    for name in ("batch_size", "grad_accum", "eval_every", "save_every", "keep"):
        if getattr(cfg, name) < 1:
            raise TrainerError(f"--{name.replace('_', '-')} {getattr(cfg, name)}: use 1 or more")


def peak_lr(cfg: FitConfig, schedule: dict) -> float:
    """``--lr``, else the resumed run's (``schedule`` from its checkpoint), else the default for a
    pretrained or a from-scratch model of ``--size``."""
    default = DEFAULT_LR_SCRATCH.get(cfg.size, 1e-3) if cfg.from_scratch else DEFAULT_LR_PRETRAINED
    return cfg.lr or schedule.get("lr") or default


def warmup_steps(cfg: FitConfig, schedule: dict) -> int:
    """``--warmup``, else the resumed run's, else 10 % of ``--steps`` (at most 100)."""
    if cfg.warmup is not None:
        return cfg.warmup
    return schedule.get("warmup", min(100, cfg.steps // 10))
