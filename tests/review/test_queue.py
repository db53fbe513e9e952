"""`make queue` / `python -m plugin.review_queue`: the coming days' posts, drawn once, for review."""
from __future__ import annotations

import datetime as dt
import json

from click.testing import CliRunner
from review_site import decisions, queue_files, review_settings

from plugin import dates, review_decisions, review_queue, tombstones

DAY = dt.date(2026, 3, 14)


def _conf(site, **extra):
    lines = ['SITENAME = "Test Station"', 'TIMEZONE = "Europe/Stockholm"', 'PATH = "content"',
             'ARTICLE_PATHS = ["posts", "generated"]', 'PAGE_PATHS = ["pages"]',
             f'DAILY_POST_MODEL = {str(site / "m")!r}'] + [f"{k} = {v!r}" for k, v in extra.items()]
    conf = site / "pelicanconf.py"
    conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return conf


def test_queue_draws_each_day_with_the_plugins_seed_once_and_records_it(site, seeded_sampler):
    settings = review_settings(site)
    outcome = review_queue.fill_queue(settings, ahead=2, today=DAY)
    files = queue_files(site)
    assert [p.name[:10] for p in files] == ["2026-03-14", "2026-03-15", "2026-03-16"]
    assert seeded_sampler.loads == 1 and len(outcome.written) == 3
    record = decisions(site)
    for path in files:
        day = dt.date.fromisoformat(path.name[:10])
        seed = dates.seed_for(day, settings)  # what the plugin would publish that day
        header = path.read_text(encoding="utf-8").split("\n\n")[0]
        for line in (f"Date: {day} 06:00", f"Seed: {seed}", "Model: stub", "Generated: true", "Gate: "):
            assert line in header
        assert record["days"][day.isoformat()] == {"state": "queued", "stars": None, "title": None, "seed": seed,
                                                   "rejected": []}
    assert record["version"] == 1
    text = (site / "review" / "decisions.json").read_text(encoding="utf-8")
    assert text == json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    # re-running fills only the missing days: no model load when none is missing
    again = review_queue.fill_queue(settings, ahead=2, today=DAY)
    assert again.written == [] and len(again.kept) == 3 and seeded_sampler.loads == 1
    files[1].unlink()
    again = review_queue.fill_queue(settings, ahead=3, today=DAY)
    assert [p.name[:10] for p in again.written] == ["2026-03-15", "2026-03-17"]


def test_queue_follows_tombstones_and_rejections_and_skips_published_days(site, seeded_sampler):
    settings = review_settings(site)
    generated = site / "content" / "generated"
    generated.mkdir()
    (generated / "2026-03-14-kept.md").write_text("Title: Kept\nDate: 2026-03-14 06:00\nGenerated: true\nSeed: 1\n\n"
                                                  "Kept.\n", encoding="utf-8")
    (generated / "2026-03-15-gone.md").write_text("Title: Gone\nDate: 2026-03-15 06:00\nGenerated: true\n"
                                                  "Status: hidden\nSeed: 2\n\nGone.\n", encoding="utf-8")
    day16 = dt.date(2026, 3, 16)
    first = dates.seed_for(day16, settings)
    (site / "review").mkdir()
    (site / "review" / "decisions.json").write_text(json.dumps({"version": 1, "days": {"2026-03-16": {
        "state": "rejected", "stars": None, "title": None, "seed": first,
        "rejected": [{"seed": first, "sha256": "ab" * 32}]}}}), encoding="utf-8")

    outcome = review_queue.fill_queue(settings, ahead=2, today=DAY)
    assert outcome.published == [DAY]
    by_day = {p.name[:10]: p for p in queue_files(site)}
    assert sorted(by_day) == ["2026-03-15", "2026-03-16"]
    found = tombstones.examine(settings.generated_folder, DAY)
    seed15 = found.seed_for(dt.date(2026, 3, 15), settings)[0]  # a redraw: the post was taken down
    assert seed15 != dates.seed_for(dt.date(2026, 3, 15), settings)
    assert f"Seed: {seed15}\n" in by_day["2026-03-15"].read_text(encoding="utf-8")
    entry = decisions(site)["days"]["2026-03-16"]
    assert entry["state"] == "queued" and entry["seed"] not in (first,) and entry["rejected"][0]["seed"] == first
    assert f"Seed: {entry['seed']}\n" in by_day["2026-03-16"].read_text(encoding="utf-8")


def test_a_redraw_that_repeats_a_rejected_text_is_not_offered(site, seeded_sampler):
    settings = review_settings(site)
    seeded_sampler.__class__ = seeded_sampler.__class__.__mro__[1]  # the plain stub: one text for every seed
    review_queue.fill_queue(settings, ahead=0, today=DAY)
    from plugin import review_actions

    review_actions.decide(settings, "2026-03-14", "reject")
    outcome = review_queue.fill_queue(settings, ahead=0, today=DAY)
    assert outcome.written == [] and "a text you rejected before" in outcome.failures[0]
    assert queue_files(site) == []


def test_a_broken_decisions_file_is_never_overwritten(site, seeded_sampler):
    (site / "review").mkdir()
    broken = site / "review" / "decisions.json"
    broken.write_text('{"version": 1, "days": {"2026-03-14": {"state": "maybe"', encoding="utf-8")
    result = CliRunner().invoke(review_queue.main, ["-s", str(_conf(site)), "--ahead", "1", "--date", "2026-03-14"])
    assert result.exit_code == 1
    line = result.output.strip().splitlines()[-1]
    assert line.startswith("error: ") and "decisions.json is not valid JSON" in line and "git checkout" in line
    assert broken.read_text(encoding="utf-8").endswith('"maybe"') and queue_files(site) == []
    broken.write_text('{"version": 1, "days": {"2026-03-14": {"state": "queued", "stars": 9, "seed": 1}}}',
                      encoding="utf-8")
    try:
        review_decisions.load(broken)
    except review_decisions.DecisionsError as err:
        assert "stars must be null or 1 to 5, got 9" in str(err)
    else:
        raise AssertionError("a star out of range was accepted")


def test_a_nonsense_queue_file_is_reported_and_left_alone(site, seeded_sampler):
    settings = review_settings(site)
    review_queue.fill_queue(settings, ahead=1, today=DAY)
    mangled = queue_files(site)[0]
    mangled.write_text("what is this\nno header at all", encoding="utf-8")
    outcome = review_queue.fill_queue(settings, ahead=1, today=DAY)
    assert len(outcome.failures) == 1 and str(mangled) in outcome.failures[0]
    assert "is not a queued post" in outcome.failures[0] and "make queue" in outcome.failures[0]
    assert mangled.read_text(encoding="utf-8") == "what is this\nno header at all"


def test_the_cli_and_trainer_queue(site, seeded_sampler):
    conf = _conf(site)
    result = CliRunner().invoke(review_queue.main, ["-s", str(conf), "--ahead", "1", "--date", "2026-03-14"])
    assert result.exit_code == 0, result.output
    assert "2 post(s) queued, 0 already queued, 0 already published, 0 failed" in result.output
    assert "make review" in result.output
    from trainer.cli import main as trainer

    helped = CliRunner().invoke(trainer, ["queue", "--help"])
    assert helped.exit_code == 0 and "--ahead" in helped.output and "trainer queue" in helped.output
    missing = CliRunner().invoke(trainer, ["queue", "-s", str(site / "nope.py")])
    assert missing.exit_code == 1 and "error: settings file not found" in missing.output


def test_a_review_folder_inside_path_is_warned_about(site, seeded_sampler):
    conf = _conf(site, DAILY_POST_REVIEW_FOLDER="content/review")
    result = CliRunner().invoke(review_queue.main, ["-s", str(conf), "--ahead", "0", "--date", "2026-03-14"])
    assert result.exit_code == 0, result.output
    assert "is inside PATH" in result.output and "DAILY_POST_REVIEW_FOLDER" in result.output
