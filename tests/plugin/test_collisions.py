"""A generated post never collides with another output file of the site (issue 14, item 1).

With this project's URL scheme a machine post titled "Index" got the slug ``index`` and was saved
over the month archive (``2026/03/index.html``); with Pelican's defaults ("{slug}.html") the titles
"Archives", "Tags", "Categories" and "Authors" did the same with the direct templates, and Pelican
stopped with FileOverwriteFailedError on every later build too. Two guarantees, each in real builds:

- before writing, the plugin picks a slug whose URL and file collide with nothing the site writes;
- a generated post already on disk that collides (an older version wrote it, or a person) is
  published under another slug, with one warning, and its file is left as it is.
"""
from __future__ import annotations

import logging
import runpy

import pytest
from plugin_site import REPO, site_settings
from plugin_site import build as site_build

DAY = "2026-03-14"
BODY = "The wind turned at noon and the harbour went quiet. Gulls stood on the mast."


@pytest.fixture(autouse=True)
def _every_warning_counts(monkeypatch):
    """Pelican logs a warning once per process (pelican.log.LimitFilter): a build is one process,
    here every build gets a fresh record of what was logged."""
    from pelican.log import LimitFilter

    monkeypatch.setattr(LimitFilter, "_raised_messages", set())
    yield


def build(settings: dict) -> None:
    from pelican.log import LimitFilter

    LimitFilter._raised_messages.clear()
    site_build(settings)


def _project_scheme() -> dict:
    """The URL scheme (and theme) of this repository's pelicanconf.py."""
    conf = runpy.run_path(str(REPO / "pelicanconf.py"))
    keep = {key: value for key, value in conf.items() if key.isupper() and not key.startswith("DAILY_POST_")
            and key not in ("PATH", "PLUGINS", "PLUGIN_PATHS", "SITEURL", "THEME")}
    keep["THEME"] = str(REPO / "theme")
    return keep


SCHEMES = {
    "pelican": {},  # Pelican's defaults: "{slug}.html", direct templates at the root, no pagination
    "project": _project_scheme(),  # "{date:%Y}/{date:%m}/{slug}.html", month archives, pagination
}

# title -> slug, and whether that slug's post collides with another output under each scheme
NAMES = {
    "Index": ("index", {"pelican": "index.html", "project": "2026/03/index.html"}),  # month archive
    "Archives": ("archives", {"pelican": "archives.html"}),
    "Tags": ("tags", {"pelican": "tags.html"}),
    "Categories": ("categories", {"pelican": "categories.html"}),
    "Authors": ("authors", {"pelican": "authors.html"}),
    # tests/plugin/plugin_site.py: a human post has the slug machine-words (2024/07 in the project's
    # scheme: no shared file there, but the same slug makes Pelican take them for translations)
    "Machine words": ("machine-words", {"pelican": "machine-words.html", "project": None}),
    "About": ("about", {}),  # the page: pages/about.html in both schemes, no collision
}


def _post_path(scheme: str, slug: str) -> str:
    return f"{slug}.html" if scheme == "pelican" else f"2026/03/{slug}.html"


def _write_generated(site, slug: str, title: str) -> object:
    folder = site / "content" / "generated"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{DAY}-{slug}.md"
    path.write_text(f"Title: {title}\nDate: {DAY} 06:00\nSlug: {slug}\nCategory: Machine\nTags: generated\n"
                    f"Author: The Machine\nGenerated: true\nSeed: 12345\nSummary: The wind turned at noon.\n\n"
                    f"{BODY}\n", encoding="utf-8")
    return path


def _warnings(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING and r.name != "pelican.settings"]


def _is_post_page(path) -> bool:
    """The page Pelican wrote for the generated post (the plugin marks it noindex), not another one."""
    html = path.read_text(encoding="utf-8")
    return 'name="robots" content="noindex"' in html and "Gulls stood on the mast" in html


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
@pytest.mark.parametrize("title", list(NAMES))
def test_a_post_on_disk_that_collides_is_reslugged_with_one_warning(site, fixed_day, caplog, scheme, title):
    slug, clashes = NAMES[title]
    clash = clashes.get(scheme)
    collides = scheme in clashes
    post = _write_generated(site, slug, title)
    before = post.read_bytes()
    caplog.set_level(logging.WARNING)

    build(site_settings(site, **SCHEMES[scheme]))
    build(site_settings(site, **SCHEMES[scheme]))  # and every later build as well

    assert post.read_bytes() == before  # the file on disk stays as it is
    out = site / "output"
    warnings = _warnings(caplog)
    if collides:
        new = f"{slug}-{DAY}"
        assert len(warnings) == 2, [w.getMessage() for w in warnings]  # one per build
        message = warnings[0].getMessage()
        assert warnings[0].name.startswith("plugin") and warnings[0].levelno == logging.WARNING
        assert post.name in message and f"'{slug}'" in message and f"'{new}'" in message, message
        assert _is_post_page(out / _post_path(scheme, new))
        if clash:
            assert (out / clash).is_file() and not _is_post_page(out / clash)
    else:
        assert warnings == [], [w.getMessage() for w in warnings]
        assert _is_post_page(out / _post_path(scheme, slug))
    # what the post would have collided with is all there
    assert (out / "pages" / "about.html").is_file() and not _is_post_page(out / "pages" / "about.html")
    human = out / _post_path(scheme, "machine-words").replace("2026/03", "2024/07")
    assert "Cumulus in the morning" in human.read_text(encoding="utf-8")


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
@pytest.mark.parametrize("title", list(NAMES))
def test_a_new_post_gets_a_slug_that_collides_with_nothing(site, stub_sampler, fixed_day, caplog, scheme, title):
    slug, clashes = NAMES[title]
    stub_sampler.title = title
    caplog.set_level(logging.WARNING)

    build(site_settings(site, **SCHEMES[scheme]))
    build(site_settings(site, **SCHEMES[scheme]))

    [post] = (site / "content" / "generated").glob("*.md")
    # a slug of another post or page is never taken (as before); a colliding output file neither
    taken = scheme in clashes or slug in ("machine-words", "about")
    expected = f"{slug}-{DAY}" if taken else slug
    assert post.name == f"{DAY}-{expected}.md"
    assert f"Slug: {expected}\n" in post.read_text(encoding="utf-8")
    assert _warnings(caplog) == [], [w.getMessage() for w in _warnings(caplog)]
    assert len(stub_sampler.calls) == 1
    out = site / "output"
    assert _is_post_page(out / _post_path(scheme, expected))
    clash = clashes.get(scheme)
    if clash:
        assert (out / clash).is_file() and not _is_post_page(out / clash)


# Other settings that put some other output where a post would go: pages at the root, category
# pages in the articles' folders, clean URLs for the archives, pagination, a static file, a feed.
OTHER_SITES = {
    "page at the root": ("About", "about", {"PAGE_URL": "{slug}.html", "PAGE_SAVE_AS": "{slug}.html"}, "about.html"),
    "category page": ("Index", "index", {"ARTICLE_URL": "{category}/{slug}.html",
                                         "ARTICLE_SAVE_AS": "{category}/{slug}.html",
                                         "CATEGORY_URL": "{slug}/", "CATEGORY_SAVE_AS": "{slug}/index.html"},
                      "machine/index.html"),
    "clean archives": ("Archives", "archives", {"ARTICLE_URL": "{slug}/", "ARTICLE_SAVE_AS": "{slug}/index.html",
                                                "ARCHIVES_URL": "archives/",
                                                "ARCHIVES_SAVE_AS": "archives/index.html"},
                       "archives/index.html"),
    "second index page": ("Index2", "index2", {"DEFAULT_PAGINATION": 2}, "index2.html"),
    "static file": ("Hello", "hello", {"STATIC_PATHS": ["extra"],
                                       "EXTRA_PATH_METADATA": {"extra/hello.html": {"path": "hello.html"}}},
                    "hello.html"),
    "feed": ("Feed", "feed", {"ARTICLE_URL": "{slug}/", "ARTICLE_SAVE_AS": "{slug}/index.html",
                              "FEED_ALL_ATOM": "feed/index.html"}, "feed/index.html"),
}


def _other_site(site, name):
    title, slug, settings, clash = OTHER_SITES[name]
    (site / "content" / "extra").mkdir()
    (site / "content" / "extra" / "hello.html").write_text("<p>A static greeting.</p>\n", encoding="utf-8")
    return title, slug, settings, clash


def _post_file(settings: dict, slug: str) -> str:
    url = settings.get("ARTICLE_SAVE_AS", "{slug}.html")
    return url.format(slug=slug, category="machine")


@pytest.mark.parametrize("name", list(OTHER_SITES))
def test_other_outputs_a_post_on_disk_could_collide_with(site, fixed_day, caplog, name):
    title, slug, settings, clash = _other_site(site, name)
    post = _write_generated(site, slug, title)
    before = post.read_bytes()
    caplog.set_level(logging.WARNING)

    build(site_settings(site, **settings))

    assert post.read_bytes() == before
    [warning] = _warnings(caplog)
    new = f"{slug}-{DAY}"
    assert f"'{slug}'" in warning.getMessage() and f"'{new}'" in warning.getMessage()
    out = site / "output"
    assert _is_post_page(out / _post_file(settings, new))
    assert (out / clash).is_file() and not _is_post_page(out / clash)


@pytest.mark.parametrize("name", list(OTHER_SITES))
def test_other_outputs_a_new_post_never_takes(site, stub_sampler, fixed_day, caplog, name):
    title, slug, settings, clash = _other_site(site, name)
    stub_sampler.title = title
    caplog.set_level(logging.WARNING)

    build(site_settings(site, **settings))

    [post] = (site / "content" / "generated").glob("*.md")
    new = f"{slug}-{DAY}"
    assert f"Slug: {new}\n" in post.read_text(encoding="utf-8")
    assert _warnings(caplog) == [], [w.getMessage() for w in _warnings(caplog)]
    out = site / "output"
    assert _is_post_page(out / _post_file(settings, new))
    assert (out / clash).is_file() and not _is_post_page(out / clash)


def test_two_generated_posts_with_one_slug_keep_the_older_and_reslug_the_newer(site, caplog, monkeypatch):
    monkeypatch.setenv("DAILY_POST_DATE", "2026-03-15")
    first = _write_generated(site, "same", "Same")
    second = first.with_name("2026-03-15-same.md")
    second.write_text(first.read_text(encoding="utf-8").replace(f"Date: {DAY}", "Date: 2026-03-15"),
                      encoding="utf-8")
    caplog.set_level(logging.WARNING)

    build(site_settings(site))

    [warning] = _warnings(caplog)
    assert second.name in warning.getMessage() and "'same-2026-03-15'" in warning.getMessage()
    out = site / "output"
    assert _is_post_page(out / "same.html") and _is_post_page(out / "same-2026-03-15.html")
    assert "2026-03-14" in (out / "same.html").read_text(encoding="utf-8")
