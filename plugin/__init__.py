"""Pelican plugin: every build publishes today's machine-written post, once, safely.

Enable it with ``PLUGINS = ["plugin"]`` (and ``PLUGIN_PATHS = ["path/to/this/checkout"]`` unless
the project is pip-installed). Settings: ``DAILY_POST_*`` (see plugin/settings.py and the README).
Importing this package never imports torch: the sampler is loaded only when a post is missing.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def _ensure_project_importable() -> None:
    """Loaded through PLUGIN_PATHS from a checkout that is not pip-installed: make its sibling
    packages (corpus_builder, trainer) importable too."""
    root = Path(__file__).resolve().parent.parent
    if importlib.util.find_spec("corpus_builder") is None and (root / "corpus_builder").is_dir():
        sys.path.append(str(root))


_ensure_project_importable()


def register() -> None:
    import logging

    from pelican import signals

    from . import hooks

    logging.getLogger("pelican").addFilter(hooks.strict_failure_filter)  # added once: same object
    signals.initialized.connect(hooks.on_initialized)
    signals.article_generator_init.connect(hooks.on_article_generator_init)
    signals.article_generator_pretaxonomy.connect(hooks.on_article_generator_pretaxonomy)
    signals.finalized.connect(hooks.on_finalized)
