"""DAILY_POST_REVIEW = True: a build publishes a day's post only once the owner approved it."""
from __future__ import annotations

import datetime as dt
import json
import logging

from plugin_site import build, site_settings
from review_site import queue_files, review_settings

from plugin import review_actions, review_queue, store


def _queue(site, ahead=1):
    settings = review_settings(site)
    review_queue.fill_queue(settings, ahead=ahead, today=dt.date(2026, 3, 14))
    return settings


def test_an_unreviewed_day_stays_empty_with_one_warning(site, seeded_sampler, fixed_day, caplog):
    _queue(site)
    loads = seeded_sampler.loads
    with caplog.at_level(logging.WARNING):
        build(site_settings(site, DAILY_POST_REVIEW=True))
    assert not list((site / "content" / "generated").glob("*.md"))
    lines = [r.getMessage() for r in caplog.records if "make review" in r.getMessage()]
    assert len(lines) == 1 and "2026-03-14: not approved" in lines[0] and "python -m plugin.review" in lines[0]
    assert seeded_sampler.loads == loads  # a reviewed site never samples in a build
    # the queued posts are never published from the review folder
    assert "Wind over the harbour" not in (site / "output" / "index.html").read_text(encoding="utf-8")


def test_an_approved_post_is_published_on_its_day_with_the_owners_title(site, seeded_sampler, fixed_day):
    settings = _queue(site)
    review_actions.decide(settings, "2026-03-14", "approve")
    review_actions.decide(settings, "2026-03-14", "title", "Gulls & <wind>")
    review_actions.decide(settings, "2026-03-15", "approve")  # tomorrow's: not before its day
    queued = queue_files(site)[0].read_text(encoding="utf-8")
    build(site_settings(site, DAILY_POST_REVIEW=True))
    published = sorted((site / "content" / "generated").glob("*.md"))
    slug = store.slugify_title("Gulls & <wind>", settings)  # the slug follows the owner's title
    assert [p.name for p in published] == [f"2026-03-14-{slug}.md"]
    text = published[0].read_text(encoding="utf-8")
    assert text.split("\n\n", 1)[1] == queued.split("\n\n", 1)[1]  # the body the owner read, copied
    assert "Title: Gulls &amp; ‹wind›\n" in text and f"Slug: {slug}\n" in text
    record = json.loads((site / "content" / "generated" / "daily-posts.json").read_text(encoding="utf-8"))
    assert [p["file"] for p in record["posts"]] == [f"2026-03-14-{slug}.md"]
    assert "Gulls &amp; ‹wind›" in (site / "output" / "index.html").read_text(encoding="utf-8")
    assert queue_files(site)[0].exists()  # the queue keeps its copy
    # a second build adds nothing
    build(site_settings(site, DAILY_POST_REVIEW=True))
    assert len(list((site / "content" / "generated").glob("*.md"))) == 1


def test_a_rejected_day_stays_empty_until_queued_and_approved_again(site, seeded_sampler, fixed_day, caplog):
    settings = _queue(site, ahead=0)
    review_actions.decide(settings, "2026-03-14", "reject")
    with caplog.at_level(logging.WARNING):
        build(site_settings(site, DAILY_POST_REVIEW=True))
    assert any("rejected, not queued again" in r.getMessage() for r in caplog.records)
    review_queue.fill_queue(settings, ahead=0, today=dt.date(2026, 3, 14))
    review_actions.decide(settings, "2026-03-14", "approve")
    build(site_settings(site, DAILY_POST_REVIEW=True))
    [post] = (site / "content" / "generated").glob("*.md")
    seed = json.loads((site / "review" / "decisions.json").read_text(encoding="utf-8"))["days"]["2026-03-14"]["seed"]
    assert f"Seed: {seed}\n" in post.read_text(encoding="utf-8")


def test_a_review_folder_inside_path_is_warned_about_once_and_never_published(site, seeded_sampler, fixed_day,
                                                                              caplog):
    folder = "content/posts/review"  # inside an ARTICLE_PATH: Pelican reads it
    settings = review_settings(site, DAILY_POST_REVIEW_FOLDER=folder)
    review_queue.fill_queue(settings, ahead=1, today=dt.date(2026, 3, 14))
    assert len(list((site / folder / "queue").glob("*.md"))) == 2
    with caplog.at_level(logging.WARNING):
        build(site_settings(site, DAILY_POST_REVIEW=True, DAILY_POST_REVIEW_FOLDER=folder))
    lines = [r.getMessage() for r in caplog.records if "is inside PATH" in r.getMessage()]
    assert len(lines) == 1 and "DAILY_POST_REVIEW_FOLDER" in lines[0]
    assert not any("Wind over the harbour" in p.read_text(encoding="utf-8")
                   for p in (site / "output").rglob("*.html"))
