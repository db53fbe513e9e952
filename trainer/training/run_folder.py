"""The run folder ``models/NAME/`` before training: proving it writable (``prepare_run_dir``),
what makes a run (``run_settings``) and refusing to mix two trainings in one folder
(``check_same_settings``, ``refuse_to_overwrite``); ``--fresh`` moves the old checkpoints aside
(``move_aside``) until a new one exists."""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from common.errors import RunFolderError
from trainer.model_loading import model_reference
from trainer.training.checkpoint import CHECKPOINTS
from trainer.training.config import FitConfig
from trainer.training.data import Corpus

log = logging.getLogger(__name__)

_SETTING_LABELS = {"base_model": "base model", "from_scratch": "--from-scratch", "size": "--size",
                   "corpus_sha256": "corpus (sha256)", "block_size": "--block-size"}


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


def run_settings(cfg: FitConfig, corpus: Corpus, block_size: int | None) -> dict[str, Any]:
    """What makes a run folder: resuming with other values would mix two different trainings."""
    return {
        "base_model": f"scratch:{cfg.size}" if cfg.from_scratch else model_reference(cfg.model),
        "from_scratch": cfg.from_scratch,
        "size": cfg.size if cfg.from_scratch else None,
        "corpus_sha256": corpus.sha256,
        "block_size": block_size,
    }


def check_same_settings(run_dir: Path, saved: dict, wanted: dict) -> None:
    """Raise ``RunFolderError`` listing every setting the run was made with that ``wanted`` changes
    (a ``block_size`` of None means "the run's")."""
    differences = []
    for key, label in _SETTING_LABELS.items():
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


def refuse_to_overwrite(run_dir: Path) -> None:
    """Without a checkpoint to resume from, a folder that holds a trained model is not trained
    over unless ``--fresh`` says so."""
    if (run_dir / "train.json").exists() or (run_dir / "config.json").exists():
        raise RunFolderError(
            f"{run_dir} already holds a trained model but no checkpoint to resume from: pass "
            "--fresh to train it again (the model is replaced only when the new one is "
            "written), or --run OTHER"
        )


def move_aside(run_dir: Path) -> Path | None:
    """--fresh: move the old checkpoints and best/ aside; deleted once a new checkpoint exists."""
    old = [run_dir / CHECKPOINTS, run_dir / "best"]
    old = [p for p in old if p.exists()]
    if not old:
        return None
    aside = run_dir / f".previous-{os.getpid()}"
    aside.mkdir(exist_ok=True)
    for path in old:
        os.replace(path, aside / path.name)
    log.info("--fresh: starting over; the previous checkpoints are removed after the first new one")
    return aside
