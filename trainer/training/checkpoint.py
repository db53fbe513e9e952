"""Checkpoints: ``models/NAME/checkpoints/step-N/``, written atomically, the last ``--keep`` kept.

A checkpoint folder holds everything needed to continue exactly where training stopped:

- the model (``model.safetensors`` + ``config.json``) and tokenizer, via ``save_pretrained``;
- ``training_state.pt``: optimizer, grad scaler, RNG and data-sampler state. Plain tensors and
  numbers only, loaded back with ``torch.load(weights_only=True)`` (no pickled code);
- ``trainer_state.json``: the step, the settings the run was made with, the schedule and the
  running summary (best validation loss, tokens seen, time, warnings). Written last.

The folder is written under a temporary name and renamed into place, so a crash leaves either the
complete checkpoint or none. A checkpoint that cannot be read anyway (a damaged disk, a user's
edit) is skipped with a warning in favour of the previous one.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from common.errors import RunFolderError, first_line
from common.fileio import atomic_replace_dir, atomic_write_json

log = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
TRAINING_STATE = "training_state.pt"
TRAINER_STATE = "trainer_state.json"
_STEP_DIR = re.compile(r"^step-(\d+)$")
_DELETING = ".deleting-step-"  # a pruned checkpoint while it is deleted

# Files save_pretrained may write for a model + tokenizer (replaced together in the run folder).
MODEL_FILES = {
    "config.json", "generation_config.json", "model.safetensors", "model.safetensors.index.json",
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
    "vocab.json", "merges.txt", "chat_template.jinja", "tokenizer.model",
}
_SHARD = re.compile(r"^model-\d+-of-\d+\.safetensors$")


@dataclass
class Checkpoint:
    step: int
    path: Path
    trainer_state: dict[str, Any]
    training_state: dict[str, Any]
    model: Any = None
    tokenizer: Any = None
    skipped: list[str] = field(default_factory=list)  # warnings about newer, unreadable ones


def checkpoint_dir(run_dir: str | os.PathLike) -> Path:
    return Path(run_dir) / CHECKPOINTS


def list_checkpoints(run_dir: str | os.PathLike) -> list[tuple[int, Path]]:
    """``(step, folder)`` of every complete-looking checkpoint, oldest first."""
    folder = checkpoint_dir(run_dir)
    if not folder.is_dir():
        return []
    found = []
    for entry in folder.iterdir():
        match = _STEP_DIR.match(entry.name)
        if match and entry.is_dir():
            found.append((int(match.group(1)), entry))
    return sorted(found)


def save_checkpoint(run_dir: str | os.PathLike, step: int, *, model, tokenizer,
                    training_state: dict[str, Any], trainer_state: dict[str, Any]) -> Path:
    """Write ``checkpoints/step-<step>/`` atomically and return its path."""
    parent = checkpoint_dir(run_dir)
    parent.mkdir(parents=True, exist_ok=True)
    final = parent / f"step-{step}"
    tmp = parent / f".tmp-step-{step}-{os.getpid()}"
    with _written_aside(tmp, lambda reason: (
            f"cannot write checkpoint step-{step} in {parent}: {reason}; "
            f"{_intact(run_dir, step)}free some space (or fix the folder) and run the same command again")):
        _save_model_and_tokenizer(tmp, model, tokenizer)
        torch.save(training_state, tmp / TRAINING_STATE)
        atomic_write_json(tmp / TRAINER_STATE, {**trainer_state, "step": step})
        atomic_replace_dir(tmp, final)
    return final


@contextlib.contextmanager
def _written_aside(tmp: Path, failure: Callable[[str], str]):
    """Yield the new, empty folder ``tmp`` to write into. If anything fails, ``tmp`` is removed;
    a failure of the disk becomes one ``RunFolderError`` line, ``failure(reason)``."""
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        tmp.mkdir(parents=True)
        yield tmp
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if is_write_error(exc):
            raise RunFolderError(failure(write_reason(exc))) from None
        raise


def _save_model_and_tokenizer(folder: Path, model, tokenizer) -> None:
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)


def is_write_error(exc: BaseException) -> bool:
    """A failure of the disk rather than of the program: full, read-only, no permission, I/O."""
    if isinstance(exc, OSError):
        return True
    if type(exc).__name__ == "SafetensorError":  # safetensors' Rust writer: "No space left on device (os error 28)"
        return True
    # torch.save: "PytorchStreamWriter failed writing file data/0: file write failed"
    return isinstance(exc, RuntimeError) and "write" in str(exc).lower() and "file" in str(exc).lower()


def write_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def _intact(run_dir, failed_step: int | None) -> str:
    previous = [step for step, _ in list_checkpoints(run_dir) if step != failed_step]
    return f"the previous checkpoint step-{previous[-1]} is intact; " if previous else ""


def load_checkpoint(path: str | os.PathLike, *, load_model: bool = True) -> Checkpoint:
    """Read one checkpoint folder; raises ``ValueError`` (with the reason) when it is unreadable."""
    from trainer.model_loading import load_model as load_model_folder

    path = Path(path)
    match = _STEP_DIR.match(path.name)
    try:
        state = json.loads((path / TRAINER_STATE).read_text(encoding="utf-8"))
        if match and int(state.get("step", -1)) != int(match.group(1)):
            raise ValueError(f"{TRAINER_STATE} says step {state.get('step')}")
        training = torch.load(path / TRAINING_STATE, map_location="cpu", weights_only=True)
        model = tokenizer = None
        if load_model:
            model, tokenizer = load_model_folder(str(path))
    except Exception as exc:  # anything unreadable makes the whole checkpoint unusable
        reason = first_line(exc, 200)
        raise ValueError(reason) from None
    return Checkpoint(step=int(state["step"]), path=path, trainer_state=state,
                      training_state=training, model=model, tokenizer=tokenizer)


def load_latest(run_dir: str | os.PathLike, *, load_model: bool = True) -> Checkpoint | None:
    """The newest readable checkpoint, or None when there is none. Unreadable newer ones are
    skipped with a warning (kept on disk for inspection, and listed in ``Checkpoint.skipped``)."""
    skipped = []
    for step, path in reversed(list_checkpoints(run_dir)):
        try:
            checkpoint = load_checkpoint(path, load_model=load_model)
        except ValueError as exc:
            message = f"skipping unreadable checkpoint {path} ({exc}); using an older one"
            log.warning(message)
            skipped.append(message)
            continue
        checkpoint.skipped = skipped
        return checkpoint
    if skipped:
        raise RunFolderError(
            f"no readable checkpoint in {checkpoint_dir(run_dir)} ({len(skipped)} damaged): "
            "pass --fresh to start over, or --run OTHER"
        )
    return None


def prune_checkpoints(run_dir: str | os.PathLike, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` checkpoints (and leftovers of interrupted writes and
    deletions). Each one is renamed out of the list before it is deleted, so a process killed
    mid-deletion never leaves a half-deleted checkpoint that looks like a complete one."""
    removed = []
    parent = checkpoint_dir(run_dir)
    if parent.is_dir():
        for entry in parent.iterdir():
            interrupted_write = entry.name.startswith(".tmp-step-") and not entry.name.endswith(f"-{os.getpid()}")
            if interrupted_write or entry.name.startswith(_DELETING):
                shutil.rmtree(entry, ignore_errors=True)
    checkpoints = list_checkpoints(run_dir)
    for step, path in checkpoints[: max(0, len(checkpoints) - max(1, keep))]:
        doomed = path.with_name(f"{_DELETING}{step}-{os.getpid()}")
        try:
            os.replace(path, doomed)
        except OSError:
            doomed = path
        shutil.rmtree(doomed, ignore_errors=True)
        removed.append(path)
    return removed


def save_model_dir(folder: str | os.PathLike, model, tokenizer, *, extra: dict | None = None) -> Path:
    """Write a model + tokenizer folder (e.g. ``best/``) atomically, replacing the old one."""
    folder = Path(folder)
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    with _written_aside(tmp, lambda reason: (
            f"cannot write {folder}: {reason}; the previous {folder.name}/ is intact: "
            "free some space (or fix the folder) and run the same command again")):
        _save_model_and_tokenizer(tmp, model, tokenizer)
        if extra is not None:
            atomic_write_json(tmp / "checkpoint.json", extra)
        atomic_replace_dir(tmp, folder)
    return folder


def publish_model(run_dir: str | os.PathLike, model, tokenizer) -> None:
    """Put the final model and tokenizer at the top of the run folder (what ``from_pretrained``
    loads). Files are written aside and renamed over the old ones one by one, weights last, so the
    previous model stays loadable until the new one is complete; stale model files are removed."""
    run_dir = Path(run_dir)
    tmp = run_dir / f".final.tmp-{os.getpid()}"
    try:
        with _written_aside(tmp, lambda reason: (
                f"cannot write the final model in {run_dir}: {reason}; "
                f"{_intact(run_dir, None)}free some space and run the same command again")):
            _save_model_and_tokenizer(tmp, model, tokenizer)
        new = sorted(p.name for p in tmp.iterdir())
        weights = [n for n in new if n.endswith(".safetensors")]
        for name in [n for n in new if n not in weights] + weights:
            os.replace(tmp / name, run_dir / name)
        for entry in run_dir.iterdir():
            if entry.is_file() and entry.name not in new and (entry.name in MODEL_FILES or _SHARD.match(entry.name)):
                entry.unlink()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
