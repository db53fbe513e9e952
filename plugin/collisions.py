"""A generated post never lands on another output file of the site.

Pelican stops a build with FileOverwriteFailedError when two things are written to one file (a post
titled "Index" saved as ``{date:%Y}/{date:%m}/index.html``, the month archive; with Pelican's default
``ARTICLE_SAVE_AS = "{slug}.html"``, a post titled "Archives", "Tags", "Categories" or "Authors"), and
a static file copied over a post's page hides it. Two guards, both computed from the site's actual
settings and content:

- before a post is written (``new_post_slug``): the slug is the title's unless the post's URL or file
  would be one that something else of the site has (``site_outputs``: the direct templates, period
  archives, category/tag/author pages, feeds, every page of a paginated listing, the other articles
  and pages, static and theme files, ``TEMPLATE_PAGES``, ``OUTPUT_SOURCES`` copies), or the slug of
  another article or page; then the date is appended, then -2, -3, ...
- at read time, for the generated posts already on disk (written by an older version, or by a
  person): one that collides is published under the first free slug of the same sequence, with one
  warning a build; its file is never touched. ``separate_shared_slugs`` (``article_generator_pretaxonomy``)
  does it for a post that shares its slug and language with another article, which Pelican would
  group with it as two originals of one post (and warn about, a warning ``HeldDuplicateWarnings``
  holds back since the plugin resolves it); ``resolve_collisions`` (``all_generators_finalized``, when everything the site will
  write is known and nothing is written yet) for every other output.

Paths are compared as the web serves them: a URL ``x/`` is the file ``x/index.html``, case is
ignored (a case-insensitive file system or server would merge them), and a URL and a file name
compete with each other.
"""
from __future__ import annotations

import datetime as dt
import fnmatch
import logging
import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from common.corpus_format import is_generated

from .settings import SETTINGS_KEY, DailyPostSettings

logger = logging.getLogger(__name__)

_META_LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(.*)$")  # a post file's header line (as plugin.store reads it)
ORIGINAL_SLUG = "_daily_post_original_slug"  # set on an article the plugin re-slugged at read time
REASON = "_daily_post_reslug_reason"
MAX_SUFFIX = 1000


def output_key(path: Any) -> str | None:
    """A save path or URL as the file a server would answer it with (None: not a site path)."""
    if path is None:
        return None
    text = str(path).strip().replace("\\", "/")
    if "://" in text or text.startswith("//"):
        return None  # an absolute URL elsewhere
    text = re.split(r"[?#]", text, maxsplit=1)[0]
    directory = text == "" or text.endswith("/")
    text = posixpath.normpath("/" + text).lstrip("/")
    if directory:
        text = posixpath.join(text, "index.html") if text else "index.html"
    return text.casefold() or None


@dataclass
class SiteContent:
    """What the site writes content objects for (Pelican Article, Page and Static objects)."""

    articles: list = field(default_factory=list)  # published, in listings: taxonomy, archives, feeds
    translations: list = field(default_factory=list)  # published translations
    hidden: list = field(default_factory=list)  # hidden articles and their translations
    drafts: list = field(default_factory=list)  # draft articles and their translations
    pages: list = field(default_factory=list)  # every page, any status, translations too
    statics: list = field(default_factory=list)

    def all_articles(self) -> list:
        return self.articles + self.translations + self.hidden + self.drafts

    def slugs(self) -> set[str]:
        return {item.slug for item in self.all_articles() + self.pages if getattr(item, "slug", None)}


def _rel(settings: Mapping[str, Any], source_path: Any) -> str:
    path = str(source_path or "?")
    try:
        return Path(os.path.relpath(path, settings.get("PATH") or os.curdir)).as_posix()
    except ValueError:  # another drive (Windows)
        return path


def _location(item, key: str):
    """``item.save_as``/``item.url`` without side effects: a Static object's own properties mark
    its location as referenced, which would stop a later ``{attach}`` link from moving it."""
    return item.get_url_setting(key) if hasattr(item, "get_url_setting") else getattr(item, key, None)


class Outputs:
    """Every file and URL of the site, each with what owns it."""

    def __init__(self, settings: Mapping[str, Any]):
        self.settings = settings
        self.owners: dict[str, str] = {}

    def add(self, save_as: Any, url: Any, what: str) -> None:
        if not save_as:
            return  # not written
        for path in (save_as, url):
            key = output_key(path)
            if key:
                self.owners.setdefault(key, what)

    def content_keys(self, item) -> list[tuple[str, str]]:
        """(key, path) for what Pelican writes for an article or page (and the OUTPUT_SOURCES copy)."""
        save_as = _location(item, "save_as")
        if not save_as:
            return []
        paths = [save_as, _location(item, "url")]
        if self.settings.get("OUTPUT_SOURCES"):
            paths.append(os.path.splitext(save_as)[0] + str(self.settings.get("OUTPUT_SOURCES_EXTENSION") or ""))
        return [(key, str(path)) for path in paths if (key := output_key(path))]

    def add_content(self, item, what: str) -> None:
        for key, _ in self.content_keys(item):
            self.owners.setdefault(key, what)

    def clash(self, item) -> tuple[str, str] | None:
        """(path, what owns it) for the first output of ``item`` something else has, else None."""
        for key, path in self.content_keys(item):
            if key in self.owners:
                return path, self.owners[key]
        return None

    def paged(self, template: str, save_as: Any, url: Any, count: int, what: str) -> None:
        """A listing, with every page Pelican's pagination gives it (PAGINATION_PATTERNS)."""
        if not save_as:
            return
        paginated = self.settings.get("PAGINATED_TEMPLATES") or {}
        if template not in paginated:
            self.add(save_as, url, what)
            return
        from pelican.paginator import Paginator

        per_page = paginated[template] or self.settings.get("DEFAULT_PAGINATION")
        paginator = Paginator(save_as, url, [None] * max(count, 1), self.settings, per_page)
        for number in range(1, paginator.num_pages + 1):
            page = paginator.page(number)
            self.add(page.save_as, page.url, what if number == 1 else f"{what} (page {number})")


_PERIODS = (("year", lambda d: (d.year,)), ("month", lambda d: (d.year, d.month)),
            ("day", lambda d: (d.year, d.month, d.day)))
_FEEDS = ("FEED_ATOM", "FEED_RSS", "FEED_ALL_ATOM", "FEED_ALL_RSS")


def site_outputs(settings: Mapping[str, Any], site: SiteContent, skip: Iterable = ()) -> Outputs:
    """Everything the site writes, under its settings; the articles in ``skip`` (their ids) still
    count in listings, archives and feeds, but their own pages are left out."""
    skipped = {id(item) for item in skip}
    out = Outputs(settings)
    for kind, items in (("post", site.articles + site.translations + site.hidden), ("draft", site.drafts),
                        ("page", site.pages)):
        for item in items:
            if id(item) not in skipped:
                out.add_content(item, f"the {kind} {_rel(settings, item.source_path)}")
    for item in site.statics:
        out.add(_location(item, "save_as"), _location(item, "url"),
                f"the static file {_rel(settings, item.source_path)}")
    _theme_files(settings, out)
    daily = settings.get(SETTINGS_KEY)
    if isinstance(daily, DailyPostSettings):
        for path, what in daily.own_outputs():
            out.add(path, path, what)
    for source, destination in (settings.get("TEMPLATE_PAGES") or {}).items():
        out.add(destination, destination, f"the template page {source}")

    listed = site.articles
    for name in settings.get("DIRECT_TEMPLATES") or ():
        save_as = settings.get(f"{name.upper()}_SAVE_AS", f"{name}.html")
        url = settings.get(f"{name.upper()}_URL", f"{name}.html")
        out.paged(name, save_as, url, len(listed), f"the {name} page")
    for period, key in _PERIODS:
        save_fmt, url_fmt = settings.get(f"{period.upper()}_ARCHIVE_SAVE_AS"), settings.get(f"{period.upper()}_ARCHIVE_URL")
        if not save_fmt:
            continue
        groups: dict[tuple, list] = {}
        for article in listed:
            if getattr(article, "date", None) is not None:
                groups.setdefault(key(article.date), []).append(article)
        for number, members in sorted(groups.items()):
            date = members[0].date
            out.paged("period_archives", save_fmt.format(date=date), (url_fmt or save_fmt).format(date=date),
                      len(members), f"the {period} archive {'-'.join(f'{n:02d}' for n in number)}")
    taxonomies: dict[str, dict] = {"category": {}, "tag": {}, "author": {}}
    for article in listed:
        if getattr(article, "category", None) is not None:
            taxonomies["category"].setdefault(article.category, []).append(article)
        for tag in getattr(article, "tags", None) or ():
            taxonomies["tag"].setdefault(tag, []).append(article)
        for author in getattr(article, "authors", None) or ():
            taxonomies["author"].setdefault(author, []).append(article)
    for kind, members in taxonomies.items():
        for obj, articles in members.items():
            out.paged(kind, obj.save_as, obj.url, len(articles), f"the {kind} page {obj.name!r}")
    _feeds(settings, out, taxonomies, {getattr(a, "lang", None) for a in listed + site.translations})
    return out


def _feeds(settings: Mapping[str, Any], out: Outputs, taxonomies: dict, langs: set) -> None:
    for key in _FEEDS:
        if settings.get(key):
            out.add(settings[key], settings.get(f"{key}_URL", settings[key]), f"the feed {key}")
    for kind, setting in (("category", "CATEGORY"), ("tag", "TAG"), ("author", "AUTHOR")):
        for flavour in ("ATOM", "RSS"):
            fmt = settings.get(f"{setting}_FEED_{flavour}")
            if not fmt:
                continue
            url_fmt = str(settings.get(f"{setting}_FEED_{flavour}_URL", fmt))
            for obj in taxonomies[kind]:
                out.add(str(fmt).format(slug=obj.slug), url_fmt.format(slug=obj.slug),
                        f"the {kind} feed of {obj.name!r}")
    for flavour in ("ATOM", "RSS"):
        fmt = settings.get(f"TRANSLATION_FEED_{flavour}")
        if fmt:
            url_fmt = str(settings.get(f"TRANSLATION_FEED_{flavour}_URL", fmt))
            for lang in sorted(filter(None, langs)):
                out.add(str(fmt).format(lang=lang), url_fmt.format(lang=lang), f"the {lang} feed")


def _theme_files(settings: Mapping[str, Any], out: Outputs) -> None:
    """The theme's static files, where Pelican copies them (THEME_STATIC_DIR)."""
    theme = settings.get("THEME")
    if not theme or not os.path.isdir(theme):
        return
    target = str(settings.get("THEME_STATIC_DIR") or "")
    for rel in settings.get("THEME_STATIC_PATHS") or ():
        source = os.path.join(theme, rel)
        if os.path.isfile(source):
            name = posixpath.join(target, os.path.basename(source))
            out.add(name, name, f"the theme file {name}")
            continue
        for folder, _, files in os.walk(source):
            for filename in files:
                name = posixpath.join(target, Path(os.path.relpath(os.path.join(folder, filename), source)).as_posix())
                out.add(name, name, f"the theme file {name}")


# --- the slugs --------------------------------------------------------------------------------

def slug_candidates(base: str, day: dt.date) -> Iterable[str]:
    """After ``base``: ``base-YYYY-MM-DD``, then ``base-YYYY-MM-DD-2``, -3, ..."""
    yield f"{base}-{day.isoformat()}"
    for number in range(2, MAX_SUFFIX):
        yield f"{base}-{day.isoformat()}-{number}"


def _set_slug(item, slug: str) -> None:
    item.slug = slug
    if "slug" in item.metadata:
        item.metadata["slug"] = slug


def _day(item) -> dt.date:
    date = getattr(item, "date", None)
    return date.date() if isinstance(date, dt.datetime) else dt.date.min


def _order(item) -> tuple:
    return (getattr(item, "date", None) or dt.datetime.max.replace(tzinfo=dt.timezone.utc), str(item.source_path))


def _mark(item, reason: str) -> None:
    """Remember the slug the post's file gives it (once) and why it changes."""
    if not hasattr(item, ORIGINAL_SLUG):
        setattr(item, ORIGINAL_SLUG, item.slug)
    setattr(item, REASON, reason)


def _restore(items: Iterable) -> None:
    """Content caching (CACHE_CONTENT) may hand back an article a previous build re-slugged: start
    from the slug its file gives it, so the check and its warning are the same every build."""
    for item in items:
        original = item.__dict__.pop(ORIGINAL_SLUG, None)
        item.__dict__.pop(REASON, None)
        if original is not None:
            _set_slug(item, original)


# --- read time: posts on disk ---------------------------------------------------------------

class HeldDuplicateWarnings(logging.Filter):
    """Holds back Pelican's "There are N items with slug X" warnings about a generated post
    (``separate_shared_slugs`` gives it another slug and says so itself). Installed on the
    ``pelican.utils`` logger while the articles are read."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith("There are %s"):
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        paths = [arg for arg in args if isinstance(arg, str) and os.path.isabs(arg)]
        generated = [path for path in paths if _generated_file(path)]
        return not generated or len(paths) - len(generated) > 1


def _generated_file(path: str) -> bool:
    from .store import read_header

    try:
        return is_generated(read_header(Path(path)))
    except (OSError, ValueError):
        return False


_HELD = HeldDuplicateWarnings()


def hold_duplicate_warnings(on: bool) -> None:
    pelican_utils = logging.getLogger("pelican.utils")
    (pelican_utils.addFilter if on else pelican_utils.removeFilter)(_HELD)


_STATUS_LISTS = (("articles", "translations"), ("hidden_articles", "hidden_translations"),
                 ("drafts", "drafts_translations"))


def separate_shared_slugs(generator) -> None:
    """A generated post that shares its slug (ARTICLE_TRANSLATION_ID) and its language with another
    article gets another slug, before Pelican's taxonomy: Pelican would write both to one file (and
    warn that the group has two originals). A person's post keeps its slug; between generated posts
    the oldest does. Posts in other languages are translations: they keep theirs."""
    from pelican.utils import order_content, process_translations

    settings = generator.settings
    everything = [a for names in _STATUS_LISTS for name in names for a in getattr(generator, name, None) or []]
    _restore(everything)
    translation_id = settings.get("ARTICLE_TRANSLATION_ID")
    if not translation_id:
        return
    fields = (translation_id,) if isinstance(translation_id, str) else tuple(translation_id)
    slugs = {a.slug for a in everything if getattr(a, "slug", None)}
    for originals_name, translations_name in _STATUS_LISTS:
        items = list(getattr(generator, originals_name, None) or []) + list(getattr(generator, translations_name, None) or [])
        groups: dict[tuple, list] = {}  # one translation group, one language: a true duplicate
        for item in items:
            try:
                key = tuple(getattr(item, name) for name in fields) + (getattr(item, "lang", None),)
            except AttributeError:
                continue
            groups.setdefault(key, []).append(item)
        moved = False
        for group in groups.values():
            generated = sorted((a for a in group if is_generated(a.metadata)), key=_order)
            if len(group) < 2 or not generated:
                continue
            others = [a for a in group if not is_generated(a.metadata)] or generated[:1]
            for item in generated:
                if item is others[0]:
                    continue
                new = next((s for s in slug_candidates(item.slug, _day(item)) if s not in slugs), None)
                if new is None:
                    continue
                _mark(item, f"is also the slug of {_rel(settings, others[0].source_path)}, in the same "
                            "language")
                _set_slug(item, new)
                slugs.add(new)
                moved = True
        if moved:  # group them again, as Pelican did before: it warned once already, if at all
            held = _QuietDuplicates()
            logging.getLogger("pelican.utils").addFilter(held)
            try:
                originals, translations = process_translations(items, translation_id=translation_id)
            finally:
                logging.getLogger("pelican.utils").removeFilter(held)
            setattr(generator, originals_name, order_content(originals, settings.get("ARTICLE_ORDER_BY")))
            setattr(generator, translations_name, translations)


class _QuietDuplicates(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(("There are %s", "All items"))


def site_from_generators(generators) -> SiteContent:
    from pelican.generators import ArticlesGenerator, PagesGenerator, StaticGenerator

    site = SiteContent()
    for generator in generators:
        if isinstance(generator, ArticlesGenerator):
            site.articles += generator.articles
            site.translations += generator.translations
            site.hidden += generator.hidden_articles + generator.hidden_translations
            site.drafts += generator.drafts + generator.drafts_translations
        elif isinstance(generator, PagesGenerator):
            site.pages += (generator.pages + generator.translations + generator.hidden_pages
                           + generator.hidden_translations + generator.draft_pages + generator.draft_translations)
        elif isinstance(generator, StaticGenerator):
            site.statics += generator.staticfiles
    return site


def resolve_collisions(settings: Mapping[str, Any], generators) -> list:
    """Give every generated post whose page would collide with another output of the site (or with
    another generated post's) the first free slug, and warn once for each post re-slugged in this
    build. Returns those posts."""
    site = site_from_generators(generators)
    generated = sorted((a for a in site.all_articles() if is_generated(a.metadata)), key=_order)
    out = site_outputs(settings, site, skip=generated)
    slugs = site.slugs()
    for item in generated:
        clash = out.clash(item)
        if clash is not None:
            path, owner = clash
            _mark(item, f"would be written to {path}, which is {owner}")
            base = getattr(item, ORIGINAL_SLUG)
            for drop in ("override_save_as", "override_url"):  # the site's scheme, not the file's
                item.__dict__.pop(drop, None)
            for slug in slug_candidates(base, _day(item)):
                if slug in slugs and slug != item.slug:
                    continue
                _set_slug(item, slug)
                if out.clash(item) is None:
                    break
            slugs.add(item.slug)
        out.add_content(item, f"the post {_rel(settings, item.source_path)}")
    moved = [item for item in generated if getattr(item, ORIGINAL_SLUG, item.slug) != item.slug]
    for item in moved:
        original = getattr(item, ORIGINAL_SLUG)
        logger.warning("daily post: %s: its slug %r %s; published as %r instead. The file is left as it "
                       "is: give it \"Slug: %s\" to keep that slug and end this warning.",
                       _rel(settings, item.source_path), original, getattr(item, REASON, "collides"),
                       item.slug, item.slug)
    return moved


# --- before writing: a new post -------------------------------------------------------------

def read_site(settings) -> SiteContent:
    """The site's articles, pages and static files read from disk the way Pelican finds and reads
    them (``settings``: the plugin's DailyPostSettings). Files Pelican cannot read are left out."""
    from pelican.contents import Article, Page, Static
    from pelican.readers import Readers

    pelican = settings.pelican
    content = settings.content_path
    readers = Readers(pelican)
    extensions = set(readers.extensions)
    site = SiteContent()
    sources = set()
    for rel in _files(pelican, content, pelican.get("ARTICLE_PATHS"), pelican.get("ARTICLE_EXCLUDES"), extensions):
        sources.add(rel)
        item = _read(readers, content, rel, Article)
        if item is not None:
            {"published": site.articles, "hidden": site.hidden, "draft": site.drafts}.get(
                item.status, site.articles).append(item)
    for rel in _files(pelican, content, pelican.get("PAGE_PATHS"), pelican.get("PAGE_EXCLUDES"), extensions):
        sources.add(rel)
        item = _read(readers, content, rel, Page)
        if item is not None:
            site.pages.append(item)
    for rel in _files(pelican, content, pelican.get("STATIC_PATHS"), pelican.get("STATIC_EXCLUDES"), None):
        if pelican.get("STATIC_EXCLUDE_SOURCES", True) and rel in sources:
            continue
        item = _read(readers, content, rel, Static, fmt="static")
        if item is not None:
            site.statics.append(item)
    return site


def _read(readers, content: Path, rel: str, content_class, fmt: str | None = None):
    try:
        item = readers.read_file(base_path=str(content), path=rel, content_class=content_class, fmt=fmt)
    except Exception as err:  # a file Pelican itself will complain about
        logger.debug("daily post: could not read %s: %s", rel, err)
        return None
    return item if getattr(item, "slug", None) is not None or content_class.__name__ == "Static" else None


def _files(pelican: Mapping[str, Any], content: Path, paths, excludes, extensions: set | None) -> list[str]:
    """The files Pelican's ``Generator.get_files`` finds (relative to PATH, sorted)."""
    ignores = list(pelican.get("IGNORE_FILES") or [])
    excluded = {os.path.normpath(os.path.join(content, e)) for e in excludes or []}

    def wanted(name: str) -> bool:
        if any(fnmatch.fnmatch(name, pattern) for pattern in ignores):
            return False
        return extensions is None or name.rpartition(".")[2] in extensions and "." in name

    found: set[str] = set()
    for path in [paths] if isinstance(paths, str) else paths or []:
        root = os.path.join(content, path) if path else str(content)
        if os.path.isfile(root):
            if wanted(os.path.basename(root)):
                found.add(Path(os.path.relpath(root, content)).as_posix())
            continue
        for folder, dirs, files in os.walk(root, followlinks=True):
            dirs[:] = [d for d in dirs if os.path.normpath(os.path.join(folder, d)) not in excluded
                       and not any(fnmatch.fnmatch(d, pattern) for pattern in ignores)]
            for name in files:
                if wanted(name):
                    found.add(Path(os.path.relpath(os.path.join(folder, name), content)).as_posix())
    return sorted(found)


def candidate_article(settings, text: str, path: Path):
    """The Article Pelican will make of the post file ``text`` once it is written at ``path``
    (metadata the way its readers process it; published, whatever its date)."""
    from pelican import readers as pelican_readers
    from pelican.contents import Article

    pelican = settings.pelican
    reader = pelican_readers.BaseReader(pelican)
    discard = getattr(pelican_readers, "_DISCARD", object())
    rel = Path(os.path.relpath(path, settings.content_path)).as_posix()
    metadata: dict[str, Any] = {}
    metadata.update(pelican_readers.default_metadata(settings=pelican, process=reader.process_metadata))
    metadata.update(pelican_readers.path_metadata(full_path=str(path), source_path=rel, settings=pelican))
    metadata.update(pelican_readers.parse_path_metadata(source_path=rel, settings=pelican,
                                                        process=reader.process_metadata))
    formatted = {name.lower() for name in pelican.get("FORMATTED_FIELDS") or ()}
    for line in text.split("\n"):
        match = _META_LINE.match(line)
        if not match:
            break
        name = match.group(1).lower()
        if name not in formatted:
            metadata[name] = reader.process_metadata(name, match.group(2).strip())
    metadata = {name: value for name, value in metadata.items() if value is not discard}
    article = Article(content="", metadata=metadata, settings=pelican, source_path=str(path), context={})
    article.status = "published"  # a scheduled post is published on its day: at its own address
    return article


def new_post_slug(settings, site: SiteContent, slug: str, day: dt.date, render) -> tuple[str, Any]:
    """The slug for a new post: ``slug`` unless another article or page has it or the post's URL or
    file would collide with another output of the site (the post itself counted in the listings);
    then the first free one of ``slug_candidates``. ``render(slug)`` gives the post file's text.
    Returns the slug and the post as Pelican will read it (add it to ``site`` once it is written)."""
    taken = site.slugs()
    folder = settings.generated_folder
    article = candidate_article(settings, render(slug), folder / f"{day.isoformat()}-{slug}.md")
    trial = SiteContent(articles=site.articles + [article], translations=site.translations, hidden=site.hidden,
                        drafts=site.drafts, pages=site.pages, statics=site.statics)
    out = site_outputs(settings.pelican, trial, skip=[article])
    for candidate in [slug, *slug_candidates(slug, day)]:
        if candidate in taken:
            continue
        _set_slug(article, candidate)
        article.source_path = str(folder / f"{day.isoformat()}-{candidate}.md")
        if out.clash(article) is None:
            return candidate, article
    raise RuntimeError(f"no free slug for {slug!r}")  # pragma: no cover
