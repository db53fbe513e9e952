"""Pelican signal receivers. Module-level functions: Pelican holds receivers by weak reference.

- ``initialized``: read and check the settings once into a ``DailyPostSettings``, kept in
  Pelican's settings under ``SETTINGS_KEY`` (the other receivers use only that object), and fill in
  the DAILY_POST_* defaults for the templates. A bad setting is one warning naming it, and the
  plugin sits the build out.
- ``article_generator_init``: before any article is read, write the missing post(s) into the
  generated folder, so Pelican reads them like every other post (index, feeds, archives,
  categories, tags); put DAILY_POST_MACHINE into the context.
- ``article_generator_pretaxonomy``: a generated post sharing its slug with another article gets
  another one (``collisions.separate_shared_slugs``); hide generated posts dated after today
  (scheduled posts).
- ``content_object_init``: a post with ``Generated: true`` gets the disclosure notice first in its
  content and summary (``disclosure.add_notice``), in any theme and every feed.
- ``page_generator_finalized``: the page with ``Template: machine`` ("About the machine") gets the
  model's figures in its content (``machine.section``) with a link to "Best of the machine", and
  the theme's ``page.html`` when the theme has no ``machine.html``.
- ``article_generator_finalized``: DAILY_POST_INDEX leaves machine posts off the home page
  ("newest": all but the newest; "none": all), nowhere else.
- ``all_generators_finalized``: a generated post whose page would land on another output file of
  the site gets another slug, with one warning (``collisions.resolve_collisions``); its file stays.
  Then, with every URL fixed, ``showcase.prepare`` reads the owner's stars, notes the published
  machine posts and adds the hidden "Best of the machine" page.
- ``content_written``: a machine-written post's page and "About the machine" get the "show me
  another" box (``showcase.with_box``); a machine-written post's page gets ``noindex``, every page
  showing the plugin's markup its CSS (``disclosure.finish_page``); written back atomically.
- ``finalized``: write the "show me another" index and script (when a page has the box); copy the
  model's loss plot and report into the output for the machine page (only when the site has one:
  files no page uses are not copied).

Any failure is one warning and the site builds; DAILY_POST_STRICT = True makes it fail instead,
with one line: ``pelican`` logs the DailyPostError as "CRITICAL DailyPostError: daily post: no post
for DAY: why" and exits 1; ``strict_failure_filter`` keeps Pelican from printing a traceback under
that line (the message says everything; ``pelican --debug`` still shows it).
"""
from __future__ import annotations

import logging

from . import collisions, dates, disclosure, in_browser, machine, showcase, store, tombstones
from .settings import (
    DEFAULTS,
    SETTINGS_KEY,
    DailyPostSettings,
    SettingsError,
    apply_defaults,
    strict_requested,
)

logger = logging.getLogger(__name__)

PLUGIN_NAME = __name__.rpartition(".")[0]
MACHINE_PAGES_KEY = "DAILY_POST_MACHINE_PAGES"  # how many Template: machine pages this build has
# The plugin's own files in the generated folder: its lock, a killed write's temporary file, the
# record of posts written and taken down (which names deleted posts). Never content, never published.
PRIVATE_FILES = (store.LOCK_NAME, ".*.tmp", tombstones.RECORD_NAME)


def _loaded(settings: dict) -> bool:
    """Signals are global: act only for a Pelican whose PLUGINS name this plugin."""
    names = [p if isinstance(p, str) else getattr(p, "__name__", "") for p in settings.get("PLUGINS") or []]
    return PLUGIN_NAME in names


def strict_failure_filter(record: logging.LogRecord) -> bool:
    """A filter on the ``pelican`` logger: Pelican's ``main`` logs the exception that ends a build
    with ``exc_info=True``; for a DailyPostError (strict mode) drop the traceback, keep the line."""
    exc = record.exc_info[1] if isinstance(record.exc_info, tuple) else None
    if exc is not None:
        from .daily import DailyPostError

        if isinstance(exc, DailyPostError):
            record.exc_info = None
            record.exc_text = None
    return True


def _fail(strict: bool, message: str, err: BaseException | None = None, without: str = "it") -> None:
    if strict:
        from .daily import DailyPostError

        raise DailyPostError(f"{message}; the build fails because DAILY_POST_STRICT = True") from err
    logger.warning("%s. The site was built without %s (DAILY_POST_STRICT = True fails the build instead).",
                   message, without)


def _daily(settings: dict) -> DailyPostSettings | None:
    """The object ``on_initialized`` read for this Pelican; None when this plugin is not among its
    PLUGINS or its settings are bad (already reported)."""
    daily = settings.get(SETTINGS_KEY)
    return daily if isinstance(daily, DailyPostSettings) else None


def on_initialized(pelican) -> None:
    settings = pelican.settings
    if not _loaded(settings):
        return
    apply_defaults(settings)
    keep_private(settings)
    settings[SETTINGS_KEY] = None
    try:
        settings[SETTINGS_KEY] = daily = DailyPostSettings.from_pelican(settings)
    except SettingsError as err:
        _fail(strict_requested(settings), f"daily post: {err}", err, without="the plugin")
        return
    if daily.review_folder_is_read and (daily.review or daily.review_folder.exists()):
        from .review_queue import warn_if_read

        logger.warning("daily post: %s", warn_if_read(daily))


def keep_private(settings: dict) -> None:
    """Add PRIVATE_FILES to IGNORE_FILES, which every Pelican generator obeys: even a site whose
    STATIC_PATHS cover the generated folder never publishes them."""
    ignored = list(settings.get("IGNORE_FILES") or [])
    settings["IGNORE_FILES"] = ignored + [name for name in PRIVATE_FILES if name not in ignored]


def on_article_generator_init(generator) -> None:
    if _loaded(generator.settings):
        # Pelican's warnings about a generated post sharing its slug wait: the pretaxonomy receiver
        # gives the post another slug and says so (collisions.separate_shared_slugs).
        collisions.hold_duplicate_warnings(True)
    daily = _daily(generator.settings)
    if daily is None:
        return
    try:
        generator.context["DAILY_POST_MACHINE"] = machine.describe(daily)
    except Exception as err:  # the machine page is decoration: never worth a failed build
        logger.warning("daily post: cannot describe the model for the machine page: %s", err)
        generator.context["DAILY_POST_MACHINE"] = None
    if not daily.enabled:
        return
    day = None
    try:
        day = dates.today(daily)
        if not daily.folder_is_read:
            logger.warning("daily post: %s is not under ARTICLE_PATHS %s, so Pelican will not read the "
                           "generated posts; add it there or change DAILY_POST_FOLDER",
                           daily.generated_folder, list(daily.article_paths))
        days = dates.day_range(day, back=daily.backfill_days)
        from .daily import publish

        outcome = publish(daily, days)
    except Exception as err:
        from common.errors import one_line

        what = f"for {day}" if day else "today"
        _fail(daily.strict, f"daily post: no post {what}: {one_line(err)}", err)
        return
    if outcome.unreviewed:  # the owner's choice, not a failure: a warning even in strict mode
        from .review_publish import warning

        logger.warning("%s", warning(outcome.unreviewed, PLUGIN_NAME))
    if outcome.failures:
        _fail(daily.strict, "daily post: no post for " + " | ".join(outcome.failures))


def on_article_generator_pretaxonomy(generator) -> None:
    """A generated post that shares its slug with another article gets another one (before
    Pelican's taxonomy); scheduled posts: a generated post dated after today stays unpublished
    until its day."""
    if not _loaded(generator.settings):
        return
    collisions.hold_duplicate_warnings(False)
    try:
        collisions.separate_shared_slugs(generator)
    except Exception as err:  # never worth a failed build: the output check comes later anyway
        logger.warning("daily post: cannot check the slugs of the generated posts: %s", err)
    import datetime as dt

    from common.corpus_format import is_generated

    daily = _daily(generator.settings)
    try:
        zone = daily.zone
        day = dates.today(daily)
    except (AttributeError, SettingsError):
        # Bad settings (already reported): scheduled posts still stay hidden, their day judged in
        # UTC, rather than all going out at once.
        zone = dt.timezone.utc
        day = dt.datetime.now(zone).date()

    review = getattr(daily, "review_folder", None)

    def due(article) -> bool:
        if review is not None and _inside(getattr(article, "source_path", None), review):
            return False  # a queued post is never published from the review folder
        if not is_generated(getattr(article, "metadata", {})):
            return True
        return article.date.astimezone(zone).date() <= day

    for name in ("articles", "translations", "drafts", "drafts_translations"):
        items = getattr(generator, name, None)
        if items:
            kept = [article for article in items if due(article)]
            if len(kept) != len(items):
                logger.info("daily post: %d scheduled post(s) in %s wait for their day",
                            len(items) - len(kept), name)
                setattr(generator, name, kept)


def _inside(path, folder) -> bool:
    from pathlib import Path

    try:
        return bool(path) and folder in Path(path).resolve().parents
    except (OSError, ValueError):
        return False


def on_all_generators_finalized(generators) -> None:
    """Everything the site will write is known, nothing is written yet: a generated post whose page
    would land on another output file (an archive, a direct template, a page, a static file, ...)
    is published under another slug, with one warning (collisions.resolve_collisions)."""
    settings = next((g.settings for g in generators if hasattr(g, "settings")), None)
    if settings is None or not _loaded(settings):
        return
    try:
        collisions.resolve_collisions(settings, generators)
    except Exception as err:
        logger.warning("daily post: cannot check the generated posts' pages against the site's other "
                       "files: %s", err)
    daily = _daily(settings)
    if daily is not None:
        try:
            showcase.prepare(daily, generators, bool(settings.get(MACHINE_PAGES_KEY)))
        except Exception as err:  # decoration: never worth a failed build
            logger.warning("daily post: no \"Best of the machine\" page or \"show me another\" button in "
                           "this build: %s", err)
        try:
            in_browser.prepare(daily, bool(settings.get(MACHINE_PAGES_KEY)))
        except Exception as err:  # decoration too
            logger.warning("daily post: no \"Write me a new post\" button in this build: %s", err)


def _disclosure_settings(settings: dict) -> tuple[str, bool]:
    """The notice's text and whether machine-written pages get noindex. With bad settings (already
    reported) the plugin still discloses, with the defaults."""
    daily = _daily(settings)
    if daily is None:
        return DEFAULTS["DAILY_POST_DISCLOSURE"], DEFAULTS["DAILY_POST_ROBOTS_NOINDEX"]
    return daily.disclosure, daily.robots_noindex


def on_content_object_init(content) -> None:
    """A machine-written post says so first in its content and summary, whatever the theme."""
    from pelican.contents import Article

    from common.corpus_format import is_generated

    if isinstance(content, Article) and _loaded(content.settings) and is_generated(content.metadata):
        text, _ = _disclosure_settings(content.settings)
        disclosure.add_notice(content, text)


def on_page_generator_finalized(generator) -> None:
    """"About the machine" (``Template: machine``): the model's figures, built here, end the page's
    content; a theme without a ``machine.html`` renders it with its ``page.html``."""
    if not _loaded(generator.settings):
        return
    from pelican.generators import PelicanTemplateNotFound

    names = ("pages", "hidden_pages", "draft_pages", "translations", "hidden_translations", "draft_translations")
    pages = [page for name in names for page in getattr(generator, name, []) if page.template == "machine"]
    generator.settings[MACHINE_PAGES_KEY] = len(pages)  # on_finalized copies the files only for them
    if not pages:
        return
    try:
        generator.get_template("machine")
        template = "machine"
    except PelicanTemplateNotFound:
        template = "page"
    daily = _daily(generator.settings)  # bad settings (reported): no figures, no "not trained"
    for page in pages:
        page.template = template
        setattr(page, machine.MACHINE_PAGE, True)
        if daily is not None:
            page._content = (page._content or "") + "\n" + machine.section(
                generator.context.get("DAILY_POST_MACHINE"), page.save_as, daily.best_of_url)


def on_article_generator_finalized(generator) -> None:
    """DAILY_POST_INDEX: the home page lists every machine post ("all"), only the newest ("newest")
    or none; archives, categories, tags and feeds keep them all. Pelican paginates the index from
    ``generator.articles`` while it writes the direct templates (after the feeds), so only there
    does the list leave out the others (archives list ``dates``, which stays whole)."""
    daily = _daily(generator.settings)
    if daily is None or daily.index == "all":
        return
    from common.corpus_format import is_generated

    machine_posts = [a for a in generator.articles if is_generated(getattr(a, "metadata", {}))]
    kept = max(machine_posts, key=lambda a: a.date, default=None) if daily.index == "newest" else None
    listed = [a for a in generator.articles if a is kept or a not in machine_posts]
    write_direct_templates = generator.generate_direct_templates

    def generate_direct_templates(write):
        everything, generator.articles = generator.articles, listed
        try:
            write_direct_templates(write)
        finally:
            generator.articles = everything

    generator.generate_direct_templates = generate_direct_templates


def on_content_written(path: str, context: dict) -> None:
    """The written page of a machine-written post: noindex (unless the theme put a robots tag
    there, or the setting is off); any page showing the plugin's markup: its CSS."""
    if not _loaded(context):
        return
    from common.corpus_format import is_generated
    from common.fileio import atomic_write_text

    _, noindex_on = _disclosure_settings(context)
    article = context.get("article")
    generated = article is not None and is_generated(getattr(article, "metadata", {}))
    shown = article if generated else context.get("page")
    if shown is not None and not (generated or getattr(shown, machine.MACHINE_PAGE, False)):
        shown = None
    try:
        with open(path, encoding="utf-8") as handle:
            page = handle.read()
        finished = page if shown is None else showcase.with_box(page, shown, _daily(context))
        if shown is not None and not generated:  # "About the machine"
            daily = _daily(context)
            finished = in_browser.with_box(finished, shown, daily, showcase.posts_page(daily))
        finished = disclosure.finish_page(finished, noindex_on and generated)
        if finished != page:  # Pelican writes every page again next build: no fsync (thousands of pages)
            atomic_write_text(path, finished, durable=False)
    except (OSError, UnicodeDecodeError) as err:
        logger.warning("daily post: cannot add the disclosure's noindex and style, or the \"show me "
                       "another\" box, to %s: %s", path, err)


def on_finalized(pelican) -> None:
    daily = _daily(pelican.settings)
    if daily is None:
        return
    try:
        showcase.write_index(daily, pelican.output_path)
    except OSError as err:
        logger.warning("daily post: cannot write the \"show me another\" index: %s", err)
    try:
        in_browser.copy_files(daily, pelican.output_path)
    except OSError as err:
        logger.warning("daily post: cannot copy the \"Write me a new post\" model into the site: %s", err)
    if not pelican.settings.get(MACHINE_PAGES_KEY):
        return  # no "About the machine" page: no page would use the plot or the report
    try:
        machine.copy_machine_files(daily, pelican.output_path)
    except OSError as err:
        logger.warning("daily post: cannot copy the loss plot or report for the machine page: %s", err)
