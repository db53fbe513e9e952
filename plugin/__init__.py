"""Pelican plugin: every build publishes today's machine-written post, once, safely.

Enable it with ``PLUGINS = ["plugin"]``. The project must be installed in the Python that runs
Pelican (``make install``, or ``pip install -e .`` from this checkout): the plugin imports its
sibling packages (``common``, and ``trainer`` when a post must be written) as installed packages;
``PLUGIN_PATHS`` alone does not make them importable. Settings: ``DAILY_POST_*`` (see
plugin/settings.py and the README), read once at ``initialized``. Importing this package never
imports torch: the sampler is loaded only when a post is missing.
"""
from __future__ import annotations


def register() -> None:
    import logging

    from pelican import signals

    from . import hooks

    logging.getLogger("pelican").addFilter(hooks.strict_failure_filter)  # added once: same object
    signals.initialized.connect(hooks.on_initialized)
    signals.article_generator_init.connect(hooks.on_article_generator_init)
    signals.article_generator_pretaxonomy.connect(hooks.on_article_generator_pretaxonomy)
    signals.finalized.connect(hooks.on_finalized)
