"""Approve, reject, star, retitle: each decision lands in review/decisions.json at once, in its shape."""
from __future__ import annotations

import datetime as dt

import pytest
from review_site import decisions, queue_files, review_settings

from plugin import review_actions, review_decisions, review_queue

DAY = dt.date(2026, 3, 14)


@pytest.fixture
def queued(site, seeded_sampler):
    settings = review_settings(site)
    review_queue.fill_queue(settings, ahead=2, today=DAY)
    return settings


def test_each_action_is_written_in_the_files_shape(site, queued):
    item = review_actions.decide(queued, "2026-03-14", "approve")
    assert item.state == "approved"
    review_actions.decide(queued, "2026-03-14", "stars", 4)
    item = review_actions.decide(queued, "2026-03-14", "title", "  A better\ntitle ")
    assert item.title == "A better title" and item.edited
    rejected = queue_files(site)[1]
    sha = review_actions.Review.read(queued).queued[dt.date(2026, 3, 15)].sha256
    item = review_actions.decide(queued, "2026-03-15", "reject")
    assert item.state == "rejected" and not rejected.exists()
    days = decisions(site)["days"]
    assert days["2026-03-14"] == {"state": "approved", "stars": 4, "title": "A better title",
                                  "seed": days["2026-03-14"]["seed"], "rejected": []}
    assert days["2026-03-15"]["state"] == "rejected"
    assert days["2026-03-15"]["rejected"] == [{"seed": days["2026-03-15"]["seed"], "sha256": sha}]
    assert review_decisions.shape_problem(decisions(site)) is None
    # the title back to the model's: null again
    review_actions.decide(queued, "2026-03-14", "title", "")
    assert decisions(site)["days"]["2026-03-14"]["title"] is None


@pytest.mark.parametrize("value", [0, 6, "3", 2.5, True])
def test_a_star_out_of_range_is_one_line_and_changes_nothing(site, queued, value):
    before = (site / "review" / "decisions.json").read_bytes()
    with pytest.raises(review_actions.ReviewError, match=r"stars must be 1 to 5"):
        review_actions.decide(queued, "2026-03-14", "stars", value)
    assert (site / "review" / "decisions.json").read_bytes() == before


def test_published_posts_take_stars_only(site, queued):
    generated = site / "content" / "generated"
    generated.mkdir()
    (generated / "2026-03-10-old.md").write_text("Title: Old one\nDate: 2026-03-10 06:00\nGenerated: true\nSeed: 77\n\n"
                                                 "Old text.\n", encoding="utf-8")
    items = {item.day.isoformat(): item for item in review_actions.items(queued)}
    assert items["2026-03-10"].state == "published" and items["2026-03-10"].title == "Old one"
    review_actions.decide(queued, "2026-03-10", "stars", 5)
    assert decisions(site)["days"]["2026-03-10"] == {"state": "approved", "stars": 5, "title": None, "seed": 77,
                                                     "rejected": []}
    with pytest.raises(review_actions.ReviewError, match="already published"):
        review_actions.decide(queued, "2026-03-10", "title", "New")


def test_bad_input_is_one_line(site, queued):
    mangled = queue_files(site)[0]
    mangled.write_text("Title: x\n\n", encoding="utf-8")
    with pytest.raises(review_actions.ReviewError, match="is not a queued post"):
        review_actions.decide(queued, "2026-03-14", "approve")
    items = {item.day.isoformat(): item for item in review_actions.items(queued)}
    assert "is not a queued post" in items["2026-03-14"].problem
    with pytest.raises(review_actions.ReviewError, match="unknown action"):
        review_actions.decide(queued, "2026-03-15", "publish")
    with pytest.raises(review_actions.ReviewError, match="not a day"):
        review_actions.decide(queued, "tomorrow", "approve")
    (site / "review" / "decisions.json").write_text("[]", encoding="utf-8")
    with pytest.raises(review_decisions.DecisionsError, match="is not a decisions file"):
        review_actions.decide(queued, "2026-03-15", "approve")
    assert (site / "review" / "decisions.json").read_text(encoding="utf-8") == "[]"
