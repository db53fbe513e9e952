"""How every `trainer` command names a run: ``-r/--run NAME_OR_PATH`` and ``--models-dir DIR``.

A bare name is ``DIR/NAME``; a value with a path separator is that folder as given
(``trainer.runs.run_path``). ``trainer fit`` writes there; ``sample``, ``eval`` and ``report`` read
a run that must exist (``trainer.runs.existing_run``). README.md, "Naming a run", says the same.

The old spellings (``trainer sample --model PATH``, ``trainer eval --model RUN_FOLDER``,
``trainer report RUN``) still work and print one ``note:`` line with the new spelling, once the
run is found: a command that fails prints its one ``error:`` line alone.
"""
from __future__ import annotations

from pathlib import Path

import click
from click.core import ParameterSource

from trainer.runs import DEFAULT_MODELS_DIR, DEFAULT_RUN, existing_run

NAMING = "README.md, 'Naming a run'"


def run_options(run_help: str, *, models_dir=DEFAULT_MODELS_DIR, **run_option):
    """Decorator: the ``-r/--run NAME_OR_PATH`` and ``--models-dir DIR`` options. ``run_option``
    overrides the ``--run`` option's settings (default: ``DEFAULT_RUN``, shown)."""
    run_option = {"default": DEFAULT_RUN, "show_default": True, **run_option}

    def decorate(command):
        command = click.option("--models-dir", default=models_dir, show_default=True, type=str,
                               metavar="DIR", help="Where run names are looked up.")(command)
        return click.option("-r", "--run", "run", type=str, metavar="NAME_OR_PATH",
                            help=f"{run_help} See {NAMING}.", **run_option)(command)

    return decorate


def given(name: str) -> bool:
    """Whether option ``name`` of the running command was given (not left at its default)."""
    return click.get_current_context().get_parameter_source(name) is not ParameterSource.DEFAULT


def found_run(command: str, run: str, models_dir: str, *, old: str | None = None) -> Path:
    """The existing folder of ``run``. ``old``: how the user named it, a deprecated spelling
    (noted once the folder is found)."""
    path = existing_run(run, models_dir)
    if old is not None:
        note_deprecated(command, old, run)
    return path


def note_deprecated(command: str, old: str, run: str) -> None:
    """The one line on stderr that an old spelling prints: the new one."""
    click.echo(f"note: `trainer {command} {old}` is deprecated; use `trainer {command} --run {run}` "
               f"(see {NAMING})", err=True)
