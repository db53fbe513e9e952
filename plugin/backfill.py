"""Backfill and pregenerate: write the missing posts of past days and schedule future ones.

    python -m plugin.backfill --days 7            # today and the 7 days before it
    python -m plugin.backfill --days 0 --ahead 14 # today and the next 14 days (scheduled)
    make backfill DAYS=7 AHEAD=14

The model is loaded once for all the days. Future-dated posts are written now and stay hidden
from the site until their day comes (the plugin leaves them out of every build before then).
A day whose post the owner took down (deleted, or ``Status: hidden``/``draft``: a tombstone in
``daily-posts.json``, see ``plugin.tombstones``) gets a new post with another seed, or none with
``DAILY_POST_DELETED = "skip"``.
"""
from __future__ import annotations

import datetime as dt
import logging
import sys

import click

from common.errors import one_line

from . import dates
from .daily import Outcome, publish
from .settings import DailyPostSettings, SettingsError


def backfill(settings: DailyPostSettings, days: int | None = None, ahead: int = 0,
             today: dt.date | None = None, sampler=None) -> Outcome:
    """Write the missing posts from ``days`` before ``today`` to ``ahead`` days after it."""
    today = today or dates.today(settings)
    back = settings.backfill_days if days is None else int(days)
    if back < 0 or ahead < 0:
        raise SettingsError(f"--days ({back}) and --ahead ({ahead}) must be 0 or more")
    return publish(settings, dates.day_range(today, back=back, ahead=ahead), sampler=sampler)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-s", "--settings", "conf", default="pelicanconf.py", show_default=True,
              help="The site's Pelican settings file.")
@click.option("--days", type=int, default=None,
              help="Also fill the N days before today (default: DAILY_POST_BACKFILL_DAYS).")
@click.option("--ahead", type=int, default=0, show_default=True,
              help="Pregenerate the next M days as scheduled posts.")
@click.option("--date", "today", default=None, metavar="YYYY-MM-DD",
              help="Count from this day instead of today (default: DAILY_POST_DATE, "
                   "SOURCE_DATE_EPOCH, or the clock in the site's TIMEZONE).")
def main(conf: str, days: int | None, ahead: int, today: str | None) -> None:
    """Write the missing machine-written posts of past days and schedule the coming ones.

    \b
    Examples:
      python -m plugin.backfill --days 7
      python -m plugin.backfill --days 0 --ahead 14 -s pelicanconf.py
    """
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        day = dt.date.fromisoformat(today) if today else None
    except ValueError:
        raise click.BadParameter(f"{today!r} is not a date: use YYYY-MM-DD", param_hint="--date") from None
    try:
        settings = DailyPostSettings.from_file(conf)
        outcome = backfill(settings, days=days, ahead=ahead, today=day)
    except SettingsError as err:
        raise click.ClickException(str(err)) from None
    except Exception as err:  # a missing or corrupt model, a sampling error: one line
        raise click.ClickException(one_line(err)) from None
    for path in outcome.written:
        click.echo(f"wrote {path}")
    click.echo(f"{len(outcome.written)} post(s) written, {len(outcome.failures)} failed")
    if outcome.skipped:
        click.echo(f"left empty: {', '.join(day.isoformat() for day in outcome.skipped)} (their posts were "
                   "taken down and DAILY_POST_DELETED = \"skip\")")
    for failure in outcome.failures:
        click.echo(f"no post for {failure}", err=True)
    if outcome.failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
