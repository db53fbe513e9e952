"""The queue of upcoming posts: draw the posts of today and the next N days for the owner to review.

    make queue AHEAD=14
    python -m plugin.review_queue --ahead 14 [-s pelicanconf.py] [--date YYYY-MM-DD]
    trainer queue --ahead 14                  # the same command

Each queued post is what the plugin would publish for its day: the seed of ``dates.seed_for`` (the
site's salt), or a redraw seed when the day has tombstones (``plugin.tombstones``) or the owner
rejected a text (``decisions.json``'s ``rejected``: none of those seeds, nor a text with one of
those hashes, is offered again). The model is loaded once, only when a day needs a post. Re-running
fills only the missing days: a day already queued, or already published, is left alone; a rejected
day (its queue file removed by the review) gets a new post.

Why this lives in the plugin, and ``trainer queue`` only delegates to it: a queued post needs the
site (its settings, salt, slugs, generated folder and tombstones), which is the plugin's knowledge;
the trainer knows nothing of Pelican. ``trainer/cli/review.py`` imports this module lazily, inside
the command, under its installed name, so ``trainer`` keeps no import of the plugin at module level
and the arrows of docs/architecture.md keep pointing one way for everything but that one CLI shim.
"""
from __future__ import annotations

import datetime as dt
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

import click

from common.errors import one_line
from common.fileio import atomic_create_text

from . import dates, review_decisions, review_files, store, tombstones
from .settings import DailyPostSettings, SettingsError

logger = logging.getLogger(__name__)
TRIES = 3  # draws per day before giving up when a draw repeats a rejected text


@dataclass
class QueueOutcome:
    written: list[Path] = field(default_factory=list)
    kept: list[dt.date] = field(default_factory=list)  # already queued
    published: list[dt.date] = field(default_factory=list)  # already published: nothing to review
    failures: list[str] = field(default_factory=list)  # one line per day left without a queued post


def warn_if_read(settings: DailyPostSettings) -> str | None:
    """One line when the review folder is inside PATH (Pelican would read the queue)."""
    if settings.review_folder_is_read:
        return (f"the review folder {settings.review_folder} is inside PATH ({settings.content_path}): move it out "
                "with DAILY_POST_REVIEW_FOLDER (relative to the site root), or Pelican reads the queued posts "
                "(the plugin leaves them out of the site)")
    return None


def day_seed(found: tombstones.Examination, day: dt.date, settings, entry: dict | None) -> tuple[int, int]:
    """(seed, redraw number): the plugin's seed for ``day`` (tombstones counted), skipping every seed
    the owner rejected (the same on every machine: redraw seeds come from the site's salt)."""
    seed, number = found.seed_for(day, settings)
    avoid = review_decisions.rejected_seeds(entry) | {t.get("seed") for t in found.tombstones_for(day)}
    while seed in avoid:
        number += 1
        seed = tombstones.redraw_seed(day, settings, number)
    return seed, number


def fill_queue(settings: DailyPostSettings, ahead: int, today: dt.date | None = None, sampler=None) -> QueueOutcome:
    """Queue a post for every day from ``today`` to ``ahead`` days after it that has neither a queued
    nor a published post. Raises ReviewBusy, DecisionsError (the file is left as it is) or a model error."""
    from . import generate

    if ahead < 0:
        raise SettingsError(f"--ahead must be 0 or more, got {ahead}")
    today = today or dates.today(settings)
    days = dates.day_range(today, back=0, ahead=ahead)
    review = review_files.paths(settings)
    outcome = QueueOutcome()
    with review_files.review_lock(review, "`make queue`"):
        decisions = review_decisions.load(review.decisions)  # a broken file stops everything, unwritten
        found = tombstones.examine(settings.generated_folder, today)
        queued, problems = review_files.scan(review.queue)
        todo, _skipped = found.todo(days, settings.deleted_posts)
        outcome.published = [day for day in days if day in found.published]
        need = []
        for day in todo:
            key = day.isoformat()
            if day in problems:
                outcome.failures.append(problems[day])
            elif day in queued and queued[day].seed not in {t.get("seed") for t in found.tombstones_for(day)}:
                outcome.kept.append(day)
                if key not in decisions["days"]:  # a queue file without its entry: adopt it
                    decisions["days"][key] = review_decisions.new_entry(queued[day].seed)
                    review_decisions.save(review.decisions, decisions)
            else:
                if day in queued:  # its post was published, then taken down: draw another
                    _retire(decisions, queued[day])
                need.append(day)
        if need and sampler is None:
            sampler = generate.load_sampler(settings.model_path, settings.precision, demo=settings.is_demo_model)
        for day in need:
            path, failure = _draw(settings, sampler, found, day, decisions, review)
            if path is None:
                outcome.failures.append(failure)
                continue
            review_decisions.save(review.decisions, decisions)  # after each day: Ctrl-C keeps the rest
            outcome.written.append(path)
            logger.info("queued %s", path)
    return outcome


def _retire(decisions: dict, post: review_files.QueuedPost) -> None:
    entry = decisions["days"].setdefault(post.day.isoformat(), review_decisions.new_entry(post.seed))
    if post.seed not in review_decisions.rejected_seeds(entry):
        entry["rejected"].append({"seed": post.seed, "sha256": post.sha256})
    post.path.unlink(missing_ok=True)


def _draw(settings, sampler, found, day: dt.date, decisions: dict, review) -> tuple[Path | None, str]:
    """Sample the day's post (avoiding rejected seeds and texts) into the queue; updates ``decisions``."""
    from . import generate

    key = day.isoformat()
    entry = decisions["days"].get(key)
    rejected = {"rejected": list((entry or {}).get("rejected", []))}
    why = ""
    for _ in range(TRIES):
        seed, redraw = day_seed(found, day, settings, rejected)
        logger.info("queue: sampling the post for %s (seed %d%s)", day, seed, f", redraw {redraw}" if redraw else "")
        post = generate.sample(sampler, seed, settings).post
        if post is None:
            return None, f"{day}: the quality gate rejected every candidate (seed {seed}); run the command again later"
        slug = store.slugify_title(post.title, settings) or "machine-post"
        text = store.render_post(post, day, slug, settings)
        path = review.queue / f"{key}-{slug}.md"
        queued = review_files.parse(text, path)
        if queued.sha256 in review_decisions.rejected_texts(rejected):
            rejected = {**rejected, "rejected": [*rejected["rejected"], {"seed": seed, "sha256": queued.sha256}]}
            why = "the model wrote a text you rejected before"
            continue
        if not atomic_create_text(path, text):
            return None, f"{day}: {path} already exists; left untouched"
        decisions["days"][key] = {**review_decisions.new_entry(seed), "rejected": list(rejected["rejected"])}
        return path, ""
    return None, f"{day}: {why}, {TRIES} times in a row; run the command again after training the model further"


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-s", "--settings", "conf", default="pelicanconf.py", show_default=True,
              help="The site's Pelican settings file.")
@click.option("--ahead", type=int, default=14, show_default=True,
              help="Queue today and the next N days.")
@click.option("--date", "today", default=None, metavar="YYYY-MM-DD",
              help="Count from this day instead of today (default: DAILY_POST_DATE, SOURCE_DATE_EPOCH, or the "
                   "clock in the site's TIMEZONE).")
def main(conf: str, ahead: int, today: str | None) -> None:
    """Queue the machine-written posts of today and the coming days for review (the model loads once).

    \b
    Examples:
      python -m plugin.review_queue --ahead 14
      make queue AHEAD=14
    Then review them: make review (python -m plugin.review).
    """
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        day = dt.date.fromisoformat(today) if today else None
    except ValueError:
        raise click.BadParameter(f"{today!r} is not a date: use YYYY-MM-DD", param_hint="--date") from None
    try:
        settings = DailyPostSettings.from_file(conf)
        warning = warn_if_read(settings)
        if warning:
            click.echo(f"warning: {warning}", err=True)
        outcome = fill_queue(settings, ahead, today=day)
    except Exception as err:  # settings, a busy or broken review folder, the model: one line
        click.echo(f"error: {one_line(err)}", err=True)
        sys.exit(1)
    for path in outcome.written:
        click.echo(f"queued {path}")
    click.echo(f"{len(outcome.written)} post(s) queued, {len(outcome.kept)} already queued, "
               f"{len(outcome.published)} already published, {len(outcome.failures)} failed")
    for failure in outcome.failures:
        click.echo(f"no queued post: {failure}", err=True)
    if outcome.written or outcome.kept:
        click.echo("review them: make review (or python -m plugin.review)")
    if outcome.failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
