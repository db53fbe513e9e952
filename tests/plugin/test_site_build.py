"""Whole-site builds with the plugin: the post appears everywhere a post appears, exactly once,
and nothing the model writes can reach the page as HTML."""
from __future__ import annotations

import datetime as dt
import logging
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup
from plugin_site import STUB_TITLE, build, daily_settings, site_settings
from site_scripts import is_plugin_script


def _generated(root):
    return sorted((root / "content" / "generated").glob("*.md"))


def _read(path):
    return path.read_text(encoding="utf-8")


def test_todays_post_appears_in_index_feed_archives_category_and_tag(site, stub_sampler, fixed_day):
    build(site_settings(site))

    [post] = _generated(site)
    assert post.name == "2026-03-14-wind-over-the-harbour.md"
    header = _read(post).split("\n\n", 1)[0]
    assert "Generated: true" in header and "Model: stub" in header
    assert f"Seed: {stub_sampler.calls[0]}" in header
    out = site / "output"
    page = out / "wind-over-the-harbour.html"
    assert STUB_TITLE in _read(page)
    assert "The wind turned at noon" in _read(page)
    for listing in ("index.html", "archives.html", "category/machine.html", "tag/generated.html",
                    "feeds/all.atom.xml", "feeds/machine.atom.xml", "feeds/tag-generated.atom.xml"):
        assert STUB_TITLE in _read(out / listing), listing
    # the other posts are still there
    assert "A wet morning" in _read(out / "index.html")


def test_second_build_adds_nothing_and_is_byte_for_byte_the_same(site, stub_sampler, fixed_day):
    build(site_settings(site))
    first = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    build(site_settings(site))
    second = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert len(stub_sampler.calls) == 1  # the model was asked once, on the first build
    assert first == second


def test_same_date_gives_same_seed_and_next_day_another_post(site, stub_sampler, monkeypatch):
    monkeypatch.setenv("DAILY_POST_DATE", "2026-03-14")
    build(site_settings(site))
    monkeypatch.setenv("DAILY_POST_DATE", "2026-03-15")
    build(site_settings(site))
    posts = _generated(site)
    assert [p.name[:10] for p in posts] == ["2026-03-14", "2026-03-15"]
    # same title both days: the second slug gets the date, so nothing collides
    assert posts[1].name == "2026-03-15-wind-over-the-harbour-2026-03-15.md"
    assert stub_sampler.calls[0] != stub_sampler.calls[1]
    other = site.parent / "again"
    other.mkdir()
    from plugin_site import write_site

    write_site(other)
    build(site_settings(other))
    assert stub_sampler.calls[2] == stub_sampler.calls[1]  # same date + site -> same seed


def test_slug_never_collides_with_an_existing_post(site, stub_sampler, fixed_day):
    stub_sampler.title = "Machine words"  # tests/plugin/plugin_site.py: a user post has this slug
    build(site_settings(site))
    [post] = _generated(site)
    assert "Slug: machine-words-2026-03-14" in _read(post)
    assert (site / "output" / "machine-words.html").is_file()
    assert (site / "output" / "machine-words-2026-03-14.html").is_file()


def test_missing_model_builds_the_site_with_one_warning(site, fixed_day, caplog):
    caplog.set_level(logging.WARNING)
    build(site_settings(site))
    assert not (site / "content" / "generated").exists()  # nothing written into the content folder
    assert (site / "output" / "a-wet-morning.html").is_file()
    warnings = [r.getMessage() for r in caplog.records if r.name.startswith("plugin")]
    assert len(warnings) == 1
    assert "no post for 2026-03-14: model folder not found" in warnings[0] and "no-model-here" in warnings[0]
    assert "DAILY_POST_MODEL" in warnings[0] and "DAILY_POST_STRICT" in warnings[0]


def test_strict_mode_fails_the_build(site, fixed_day):
    from plugin.daily import DailyPostError

    with pytest.raises(DailyPostError, match="no post for 2026-03-14"):
        build(site_settings(site, DAILY_POST_STRICT=True))


@pytest.mark.parametrize("setting, value, line", [
    ("DAILY_POST_TIME", "25:00", "DAILY_POST_TIME='25:00' is not a time of day: use HH:MM"),
    ("DAILY_POST_SAMPLING", ["temperature", 0.9], "DAILY_POST_SAMPLING must be a dict of options"),
    ("DAILY_POST_CANDIDATES", "four", "DAILY_POST_CANDIDATES must be a whole number, got 'four'"),
    ("DAILY_POST_TAGS", 5, "DAILY_POST_TAGS must be a list of tags or a comma-separated text, got 5"),
    ("DAILY_POST_DISCLOSURE", ["text"], "DAILY_POST_DISCLOSURE must be a text, got ['text']"),
])
def test_a_bad_setting_is_reported_at_initialized_in_one_line_naming_it(site, stub_sampler, fixed_day, caplog,
                                                                        setting, value, line):
    import re

    from pelican import Pelican

    from plugin.daily import DailyPostError

    # strict: Pelican(settings) itself fails (the initialized signal), before any content is read
    with pytest.raises(DailyPostError, match=re.escape(f"daily post: {line}")) as failure:
        Pelican(site_settings(site, DAILY_POST_STRICT=True, **{setting: value}))
    assert "\n" not in str(failure.value) and "DAILY_POST_STRICT = True" in str(failure.value)
    # default: one warning, and the site builds without the plugin's post
    caplog.set_level(logging.WARNING)
    build(site_settings(site, **{setting: value}))
    [warning] = [r.getMessage() for r in caplog.records if r.name.startswith("plugin")]
    assert warning.startswith(f"daily post: {line}") and "\n" not in warning
    assert "built without the plugin" in warning
    assert _generated(site) == [] and stub_sampler.calls == []
    assert "A wet morning" in _read(site / "output" / "index.html")


def test_a_bad_setting_still_keeps_scheduled_posts_hidden(site, stub_sampler, monkeypatch):
    """With the settings unusable the plugin sits the build out, but a post scheduled for a later
    day must not go out early: its day is judged in UTC."""
    from plugin.daily import publish
    from plugin.dates import day_range

    today = dt.datetime.now(dt.timezone.utc).date()
    monkeypatch.setenv("DAILY_POST_DATE", today.isoformat())
    publish(daily_settings(site), day_range(today, back=0, ahead=2), sampler=stub_sampler)
    build(site_settings(site, DAILY_POST_CANDIDATES="four"))
    out = site / "output"
    later = (today + dt.timedelta(days=2)).isoformat()
    assert (out / "index.html").is_file() and not list(out.rglob(f"*{later}*"))


def test_gate_rejecting_every_candidate_is_a_warning_naming_the_rules(site, stub_sampler, fixed_day, caplog):
    stub_sampler.reject = True
    caplog.set_level(logging.WARNING)
    build(site_settings(site))
    assert _generated(site) == []
    [warning] = [r.getMessage() for r in caplog.records if r.name.startswith("plugin")]
    assert "quality gate rejected every candidate" in warning and "rep4=0.61" in warning
    with pytest.raises(Exception, match="quality gate"):
        build(site_settings(site, DAILY_POST_STRICT=True))


def test_sampling_error_is_a_warning(site, stub_sampler, fixed_day, caplog):
    def boom(*args, **kwargs):
        raise RuntimeError("CUDA exploded")

    stub_sampler.best_post = boom
    caplog.set_level(logging.WARNING)
    build(site_settings(site))
    [warning] = [r.getMessage() for r in caplog.records if r.name.startswith("plugin")]
    assert "RuntimeError: CUDA exploded" in warning
    assert (site / "output" / "index.html").is_file()


XSS_TITLE = 'Hello <script>alert("t")</script> <img src=x onerror=alert(1)>'
XSS_BODY = """<script>alert(1)</script>
An image <img src="x" onerror="alert(2)"> and a [link](javascript:alert(3)) and ![i](javascript:alert(4)).
<a href="javascript:alert(5)">click</a> <javascript:alert(6)> <svg onload=alert(7)>
Text
{: onclick="alert(8)" }

[ref]: javascript:alert(9)
Use [ref] and <iframe src="data:text/html,x"></iframe> &#60;script&#62;alert(10)&#60;/script&#62;
    <script>indented()</script>
<div markdown="1" onmouseover="alert(11)">x</div>
"""


def test_model_output_can_never_become_html_or_javascript(site, stub_sampler, fixed_day):
    stub_sampler.title, stub_sampler.body = XSS_TITLE, XSS_BODY
    build(site_settings(site))
    [post] = _generated(site)
    pages = [p for p in (site / "output").rglob("*") if p.suffix in (".html", ".xml")]
    slug = _read(post).split("Slug: ", 1)[1].split("\n", 1)[0]
    assert any(p.name == f"{slug}.html" for p in pages)
    for page in pages:
        if page.suffix == ".xml":  # feed entries carry escaped HTML: parse what a reader would show
            shown = [el.text or "" for el in ElementTree.parse(page).iter()]
            soup = BeautifulSoup("\n".join(shown), "html.parser")
        else:
            soup = BeautifulSoup(_read(page), "html.parser")
        for tag in soup.find_all(True):
            if page.suffix == ".html" and tag.name == "script" and is_plugin_script(tag, page, site / "output"):
                continue  # the plugin's own "show me another" script (tests/site_scripts.py)
            assert tag.name not in ("script", "iframe", "svg"), (page, tag)
            for name, value in tag.attrs.items():
                assert not name.lower().startswith("on"), (page, tag)
                text = " ".join(value) if isinstance(value, list) else str(value)
                assert not text.strip().lower().startswith(("javascript:", "data:")), (page, tag)
    article = BeautifulSoup(_read(site / "output" / f"{slug}.html"), "html.parser")
    body = article.get_text()
    assert "<script>alert(1)</script>" in body  # the body shows as text, to the letter
    assert "[link](javascript:alert(3))" in body
    # title and summary: no < > " ' at all (themes decode entities with striptags)
    header = _read(post).split("\n\n", 1)[0]
    assert not any(ch in header for ch in "<>\"'")
    assert "Title: Hello \u2039script\u203aalert(\u201dt\u201d)" in header


def test_scheduled_posts_stay_hidden_until_their_day(site, stub_sampler, monkeypatch):
    from plugin.daily import publish
    from plugin.dates import day_range

    settings = daily_settings(site)
    monkeypatch.setenv("DAILY_POST_DATE", "2026-03-14")
    outcome = publish(settings, day_range(dt.date(2026, 3, 14), back=0, ahead=2), sampler=stub_sampler)
    assert len(outcome.written) == 3
    build(site_settings(site))
    out = site / "output"
    assert (out / "wind-over-the-harbour.html").is_file()
    assert not list(out.rglob("*2026-03-15*")) and not list(out.rglob("*2026-03-16*"))
    assert _read(out / "index.html").count(STUB_TITLE) == 1
    monkeypatch.setenv("DAILY_POST_DATE", "2026-03-15")
    build(site_settings(site))
    assert (out / "wind-over-the-harbour-2026-03-15.html").is_file()
    assert not list(out.rglob("*2026-03-16*"))
    assert len(_generated(site)) == 3  # nothing new: the 15th was already written


@pytest.mark.parametrize(
    "zone, instant, expected",
    [
        # one second before and after midnight in New York (UTC-4 in March, daylight time)
        ("America/New_York", "2026-03-15T03:59:59+00:00", "2026-03-14"),
        ("America/New_York", "2026-03-15T04:00:01+00:00", "2026-03-15"),
        # Auckland is already on the 14th while UTC is still on the 13th
        ("Pacific/Auckland", "2026-03-13T11:30:00+00:00", "2026-03-14"),
    ],
)
def test_today_is_the_build_date_in_the_site_timezone(site, stub_sampler, monkeypatch, zone, instant, expected):
    monkeypatch.delenv("DAILY_POST_DATE", raising=False)
    epoch = int(dt.datetime.fromisoformat(instant).timestamp())
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch))
    build(site_settings(site, TIMEZONE=zone))
    [post] = _generated(site)
    assert post.name.startswith(expected)
    page = BeautifulSoup(_read(site / "output" / "wind-over-the-harbour.html"), "html.parser")
    assert page.find("abbr", class_="published")["title"].startswith(expected)


def test_disabled_plugin_writes_nothing(site, stub_sampler, fixed_day):
    build(site_settings(site, DAILY_POST_ENABLED=False))
    assert _generated(site) == [] and stub_sampler.calls == []
    build(site_settings(site, PLUGINS=[]))
    assert _generated(site) == []


def test_backfill_days_setting_heals_missed_days_in_one_build(site, stub_sampler, fixed_day):
    build(site_settings(site, DAILY_POST_BACKFILL_DAYS=2))
    assert [p.name[:10] for p in _generated(site)] == ["2026-03-12", "2026-03-13", "2026-03-14"]
    assert len(set(stub_sampler.calls)) == 3


def test_generated_folder_outside_article_paths_is_reported(site, stub_sampler, fixed_day, caplog):
    caplog.set_level(logging.WARNING)
    build(site_settings(site, ARTICLE_PATHS=["posts"]))
    [warning] = [r.getMessage() for r in caplog.records if r.name.startswith("plugin")]
    assert "is not under ARTICLE_PATHS" in warning
