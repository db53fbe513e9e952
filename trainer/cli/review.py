"""`trainer queue` and `trainer review`: the plugin's review commands, under the trainer's name.

They only delegate (arguments and all) to ``python -m <plugin>.review_queue`` and
``python -m <plugin>.review``: queueing and reviewing need the site (settings, salt, slugs, the
generated folder), which the plugin knows and the trainer does not. The plugin is imported here
lazily, inside the command, under its installed name (``pelican.plugins.this_post_does_not_exist``;
``plugin`` in a checkout without the install): the trainer imports no plugin module at module level,
and this file is the only place the trainer names the plugin at all.
"""
from __future__ import annotations

import importlib

import click

PLUGIN_NAMES = ("pelican.plugins.this_post_does_not_exist", "plugin")
_PASS_ON = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}


def _plugin_command(module: str):
    for name in PLUGIN_NAMES:
        try:
            return importlib.import_module(f"{name}.{module}").main
        except ModuleNotFoundError as err:
            if err.name is None or not (name.startswith(err.name) or err.name.startswith(name)):
                raise
    raise click.ClickException("the blog plugin is not installed: pip install this project (make install)")


@click.command("queue", context_settings=_PASS_ON, add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def queue_command(args: tuple[str, ...]) -> None:
    """Queue the coming days' posts for review (python -m plugin.review_queue; --help for options)."""
    _plugin_command("review_queue").main(args=list(args), prog_name="trainer queue")


@click.command("review", context_settings=_PASS_ON, add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def review_command(args: tuple[str, ...]) -> None:
    """Review the queued posts in a local page (python -m plugin.review; --help for options)."""
    _plugin_command("review").main(args=list(args), prog_name="trainer review")
