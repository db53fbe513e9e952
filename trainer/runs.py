"""Run folders: how a command names one, and the one reader of its ``train.json``.

Every command names a run the same way: ``--run NAME`` is ``<models-dir>/NAME``; a value that holds
a path separator (``models/blog``, ``./blog``, ``/srv/runs/blog``) is that folder as given. ``trainer fit`` writes
there; the other commands read from there. Torch-free.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from common.errors import RunFolderError

DEFAULT_MODELS_DIR = "models"
DEFAULT_RUN = "blog"
SUMMARY = "train.json"


def run_path(run: str | os.PathLike, models_dir: str | os.PathLike = DEFAULT_MODELS_DIR) -> Path:
    """Where run ``run`` lives: a value with a path separator (or ``.``/``..``) as given, else
    ``models_dir/run``. The folder need not exist (``trainer fit`` creates it)."""
    text = str(run).strip()
    if not text:
        raise RunFolderError("no run given: pass a run name under models/ or a path to a run folder")
    path = Path(text).expanduser()
    if "/" in text or os.sep in text or text in (".", "..") or text.startswith("~"):
        return path
    return Path(models_dir).expanduser() / text


def existing_run(run: str | os.PathLike, models_dir: str | os.PathLike = DEFAULT_MODELS_DIR) -> Path:
    """``run_path`` for a run that must already exist (a bare name that is not under ``models_dir``
    may also be a folder in the current directory); a one-line error naming both places if not."""
    path = run_path(run, models_dir)
    if path.is_dir():
        return path
    as_given = Path(str(run).strip()).expanduser()
    if as_given.is_dir():
        return as_given
    tried = f"{as_given} or {path}" if as_given != path else str(path)
    raise RunFolderError(f"no run folder {tried}: pass a run name under {models_dir}/ or a path "
                         "to a folder written by `trainer fit`")


def read_summary(run_dir: str | os.PathLike, *, missing_ok: bool = False) -> dict[str, Any]:
    """The run's ``train.json``. A missing, unreadable or malformed one is a one-line error, or
    ``{}`` with ``missing_ok`` (for callers that fall back to a default)."""
    path = Path(run_dir).expanduser() / SUMMARY
    try:
        return parse_summary(path.read_bytes(), path)
    except FileNotFoundError:
        if missing_ok:
            return {}
        raise RunFolderError(f"{run_dir} has no {SUMMARY}: is it a folder written by `trainer fit` "
                             "(did the run finish)?") from None
    except OSError as exc:
        if missing_ok:
            return {}
        raise RunFolderError(f"cannot read {path} ({exc}): re-run `trainer fit` to rewrite it") from None
    except RunFolderError:
        if missing_ok:
            return {}
        raise


def parse_summary(data: bytes, path: str | os.PathLike) -> dict[str, Any]:
    """``train.json``'s bytes (read from ``path``) as a dict; a one-line RunFolderError when they are
    not a JSON object (the plugin reads the bytes itself: ``common.run_files``)."""
    try:
        summary = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise RunFolderError(f"cannot read {path} ({exc}): re-run `trainer fit` to rewrite it") from None
    if not isinstance(summary, dict):
        raise RunFolderError(f"{path} is not a JSON object: re-run `trainer fit` to rewrite it")
    return summary
