"""Option defaults read from the API a command calls, so each default is written once, there.

``trainer fit`` reads ``FitConfig``, ``trainer sample`` ``SamplingSettings`` and ``GateSettings``,
``trainer report`` the keyword defaults of ``build_report``, ``trainer eval`` those of
``evaluate_model``. A default is read when click needs it (to parse a command line or to print
``--help``), never when the command's module is imported: ``trainer.training.fit`` imports torch,
and ``trainer --help`` must not.

    fit_default = defaults_of(load_fit_config)
    @click.option("--steps", default=fit_default("steps"), show_default=True, type=int)
"""
from __future__ import annotations

import dataclasses
import inspect
from typing import Any, Callable


class ApiDefault:
    """A click default: the default of ``name`` in what ``load()`` returns (a dataclass's field, or
    a function's keyword). Click calls it for the value and prints ``str()`` of it in ``--help``."""

    def __init__(self, load: Callable[[], Any], name: str) -> None:
        self.load = load
        self.name = name

    def __call__(self) -> Any:
        return api_default(self.load(), self.name)

    def __str__(self) -> str:
        return str(self())

    def __repr__(self) -> str:
        return f"ApiDefault({self.name})"


def api_default(owner, name: str) -> Any:
    """The default of dataclass field ``name`` of ``owner``, or of keyword ``name`` of function
    ``owner``; a KeyError when it has none (an option that names a field the API lacks)."""
    if dataclasses.is_dataclass(owner):
        defaults = {f.name: f.default for f in dataclasses.fields(owner)}
    else:
        defaults = {p.name: p.default for p in inspect.signature(owner).parameters.values()}
    value = defaults[name]
    if value is dataclasses.MISSING or value is inspect.Parameter.empty:
        raise KeyError(f"{name} has no default in {owner.__name__}")
    return value


def defaults_of(load: Callable[[], Any]) -> Callable[[str], ApiDefault]:
    """``defaults_of(load)("steps")``: the lazy default of ``steps`` in what ``load()`` returns."""
    return lambda name: ApiDefault(load, name)


def defaults_of_this(owner) -> Callable[[str], ApiDefault]:
    """``defaults_of`` for an owner already imported (its defaults, even where a test replaces
    the name it was defined under)."""
    return defaults_of(lambda: owner)


def load_fit_config():
    from trainer.training.config import FitConfig  # torch-free

    return FitConfig


def load_sampling_settings():
    from trainer.generation.sampler import SamplingSettings

    return SamplingSettings


def load_gate_settings():
    from trainer.generation.gate import GateSettings

    return GateSettings


def load_build_report():
    from trainer.evaluation.report import build_report

    return build_report
