"""`python -m plugin.backfill`: missing past posts and scheduled future ones, one model load."""
from __future__ import annotations

import datetime as dt

from click.testing import CliRunner
from plugin_site import StubSampler, build, daily_settings, site_settings

from plugin import backfill as backfill_module
from plugin import generate


def _conf(site, model):
    conf = site / "pelicanconf.py"
    conf.write_text(
        'SITENAME = "Test Station"\nTIMEZONE = "Europe/Stockholm"\nPATH = "content"\n'
        'ARTICLE_PATHS = ["posts", "generated"]\nPAGE_PATHS = ["pages"]\n'
        f'DAILY_POST_MODEL = {str(model)!r}\n', encoding="utf-8")
    return conf


def test_backfill_writes_missing_days_and_schedules_ahead_with_one_model_load(site, stub_sampler, monkeypatch):
    loads = []
    monkeypatch.setattr(generate, "load_sampler", lambda path, precision="auto", demo=False: loads.append(path) or stub_sampler)
    # the 12th already has its post: backfill leaves it alone
    (site / "content" / "generated").mkdir()
    kept = site / "content" / "generated" / "2026-03-12-old.md"
    kept.write_text("Title: Old\nDate: 2026-03-12 06:00\nGenerated: true\n\nOld text.\n", encoding="utf-8")

    result = CliRunner().invoke(backfill_module.main, ["-s", str(_conf(site, site / "m")), "--days", "3",
                                                       "--ahead", "2", "--date", "2026-03-14"])
    assert result.exit_code == 0, result.output
    names = sorted(p.name[:10] for p in (site / "content" / "generated").glob("*.md"))
    assert names == ["2026-03-11", "2026-03-12", "2026-03-13", "2026-03-14", "2026-03-15", "2026-03-16"]
    assert kept.read_text(encoding="utf-8").startswith("Title: Old")
    assert len(loads) == 1 and len(stub_sampler.calls) == 5
    assert len(set(stub_sampler.calls)) == 5  # one seed per day
    assert "5 post(s) written, 0 failed" in result.output

    # a build on the 14th publishes the past posts, not the scheduled ones
    monkeypatch.setenv("DAILY_POST_DATE", "2026-03-14")
    build(site_settings(site))
    html = (site / "output" / "archives.html").read_text(encoding="utf-8")
    assert html.count("Wind over the harbour") == 3 and "Old" in html
    assert len(stub_sampler.calls) == 5  # nothing left to write


def test_backfill_reports_a_missing_model_in_one_line(site):
    result = CliRunner().invoke(backfill_module.main, ["-s", str(_conf(site, site / "nope")), "--days", "1",
                                                       "--date", "2026-03-14"])
    assert result.exit_code == 1
    assert "model folder not found" in result.output and "Traceback" not in result.output


def test_backfill_rejects_bad_date_and_settings_path(site):
    runner = CliRunner()
    result = runner.invoke(backfill_module.main, ["-s", str(_conf(site, site / "m")), "--date", "14/03/2026"])
    assert result.exit_code == 2 and "'14/03/2026' is not a date: use YYYY-MM-DD" in result.output
    result = runner.invoke(backfill_module.main, ["-s", str(site / "missing.py")])
    assert result.exit_code == 1 and "settings file not found" in result.output


def test_failed_day_is_reported_and_exit_code_is_nonzero(site, monkeypatch):
    sampler = StubSampler(reject=True)
    monkeypatch.setattr(generate, "load_sampler", lambda path, precision="auto", demo=False: sampler)
    monkeypatch.setattr(generate, "sample", lambda s, seed, settings: s.best_post(seed))
    outcome = backfill_module.backfill(daily_settings(site), days=1, today=dt.date(2026, 3, 14))
    assert outcome.written == [] and len(outcome.failures) == 2
    assert outcome.failures[0].startswith("2026-03-13: the quality gate rejected every candidate")
