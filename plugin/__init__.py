"""Pelican plugin: every build publishes today's machine-written post, once, safely.

Installed (``pip install``), it is the namespace plugin ``pelican.plugins.this_post_does_not_exist``:
Pelican >= 4.5 loads it with no ``PLUGINS`` line, or ``PLUGINS = ["this_post_does_not_exist"]`` (after
an editable install: the full name). This checkout's own site loads the same folder as ``plugin``
(``PLUGIN_PATHS = ["."]``). Either way the project must be installed in the Python that runs
Pelican: the plugin imports its sibling packages (``common``, and ``trainer`` when a post must be
written) as installed packages. Settings: ``DAILY_POST_*`` (see
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
    signals.content_object_init.connect(hooks.on_content_object_init)
    signals.page_generator_finalized.connect(hooks.on_page_generator_finalized)
    signals.all_generators_finalized.connect(hooks.on_all_generators_finalized)
    signals.article_generator_finalized.connect(hooks.on_article_generator_finalized)
    signals.content_written.connect(hooks.on_content_written)
    signals.finalized.connect(hooks.on_finalized)
