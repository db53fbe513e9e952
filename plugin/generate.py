"""The only module of the plugin that imports the trainer (lazily, inside each function).

``load_sampler`` and ``sample`` (torch with them) run only when a post is missing:
``daily.publish`` calls them, never on a build whose posts already exist. For the machine page,
``training_summary`` parses a model's ``train.json`` through ``trainer.runs`` and ``report_page``
regenerates its ``trainer report`` page from ``report.json`` (``trainer.evaluation.published_report``):
both torch-free.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from common.errors import ModelError

from .settings import DailyPostSettings, SettingsError


class ModelMissing(ModelError):
    """The model folder does not exist (one-line message saying what to do)."""


def load_sampler(model_path: Path, precision: str = "auto", demo: bool = False):
    """Load the model once: ModelMissing when the folder does not exist (checked before importing
    torch), common.errors.ModelError for a corrupt model."""
    if not Path(model_path).is_dir():
        raise ModelMissing(f"model folder not found: {model_path} ({_how_to_get(Path(model_path), demo)})")
    from trainer.generation.sampler import Sampler

    return Sampler.load(str(model_path), precision=precision)


def _how_to_get(model_path: Path, demo: bool) -> str:
    """What to run, with commands every installation has (`make demo-model` only where the site's
    Makefile has that target: this repository's)."""
    makefile = model_path.parent.parent / "Makefile"
    try:
        has_target = demo and "demo-model:" in makefile.read_text(encoding="utf-8", errors="replace")
    except OSError:
        has_target = False
    if has_target:
        return "`make demo-model` builds the demo model"
    return (f"train it in the site's folder: `corpus-builder`, then `trainer fit --model smollm2 "
            f"--until-step 48 --run {model_path}`; or set DAILY_POST_MODEL to a run from `trainer fit`")


def _build(cls, values: dict, setting: str):
    """The sampler's settings object from a setting's options (DailyPostSettings checked that
    they are a dict; only the sampler knows their names)."""
    try:
        return cls(**values)
    except TypeError as err:
        known = ", ".join(f.name for f in dataclasses.fields(cls)) if dataclasses.is_dataclass(cls) else "?"
        raise SettingsError(f"{setting} has an option the sampler does not know ({err}); known: {known}") from err


def sample(sampler, seed: int, settings: DailyPostSettings):
    """Best-of-N sampling through the quality gate: returns the sampler's result object."""
    from trainer.generation.gate import GateSettings
    from trainer.generation.sampler import SamplingSettings

    return sampler.best_post(
        seed=seed,
        settings=_build(SamplingSettings, dict(settings.sampling), "DAILY_POST_SAMPLING"),
        gate=_build(GateSettings, dict(settings.gate), "DAILY_POST_GATE"),
        candidates=settings.candidates,
        rounds=settings.rounds,
    )


def training_summary(model_path: Path, max_bytes: int) -> dict:
    """The model's ``train.json`` as a dict, ``{}`` when there is none; common.errors.RunFolderError
    (one line) when it is a link, not a regular file, too large (``common.run_files``) or not a
    JSON object (``trainer.runs.parse_summary``)."""
    from common.run_files import read_run_file
    from trainer.runs import SUMMARY, parse_summary

    data = read_run_file(model_path, SUMMARY, max_bytes)
    return {} if data is None else parse_summary(data, Path(model_path) / SUMMARY)


def report_page(figures: bytes, loss_png: bytes | None, source: Path) -> str:
    """The report page the site publishes, regenerated from ``report.json``'s bytes (read from
    ``source``): common.errors.RunFolderError (one line) when they are not a ``trainer report``'s figures."""
    from trainer.evaluation.published_report import published_page

    return published_page(figures, loss_png, source)
