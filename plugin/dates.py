"""Which day "today" is, and the seed that day's post is sampled with.

"Today" is the build date in the site's ``TIMEZONE``. It can be fixed: the environment variable
``DAILY_POST_DATE=YYYY-MM-DD`` wins, then ``SOURCE_DATE_EPOCH`` (seconds since 1970, the
reproducible-builds convention), then the clock. An empty (or blank) variable counts as unset.

Every other value of either variable is a ``SettingsError`` with one line naming it, never another
exception: a date out of ``datetime``'s range (``SOURCE_DATE_EPOCH=99999999999999``, a negative one)
included, so each receiver that asks for today reports it the same way (one warning, or one CRITICAL
line in strict mode) and the site builds.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re

from .settings import DailyPostSettings, SettingsError

DATE_ENV = "DAILY_POST_DATE"
EPOCH_ENV = "SOURCE_DATE_EPOCH"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_EPOCH = re.compile(r"[0-9]+")  # ASCII digits only (int() also takes "1_000", "١٢٣", " -5 ")
# The days a post can be dated: SOURCE_DATE_EPOCH=0 in any time zone (1969-12-31 west of UTC) and
# far from datetime's years 1 and 9999, so a time zone's offset, backfilled days and Pelican's own
# handling of the post's Date never overflow.
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(9998, 12, 31)


def today(settings: DailyPostSettings, environ: dict | None = None, now: dt.datetime | None = None) -> dt.date:
    """The build date in the site's time zone (see the module docstring for the overrides)."""
    environ = os.environ if environ is None else environ
    fixed = (environ.get(DATE_ENV) or "").strip()
    if fixed:
        return _fixed_day(fixed)
    epoch = (environ.get(EPOCH_ENV) or "").strip()
    if epoch:
        return _epoch_day(epoch, settings)
    now = now or dt.datetime.now(dt.timezone.utc)
    return now.astimezone(settings.zone).date()


def _fixed_day(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text) if _DATE.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None:
        raise SettingsError(f"{DATE_ENV}={text!r} is not a date: use YYYY-MM-DD")
    return _in_range(day, f"{DATE_ENV}={text!r}")


def _epoch_day(text: str, settings: DailyPostSettings) -> dt.date:
    if not _EPOCH.fullmatch(text):
        raise SettingsError(f"{EPOCH_ENV}={text!r} is not a number of seconds since 1970 "
                            "(a whole number, 0 or more: what `date +%s` prints)")
    try:
        day = dt.datetime.fromtimestamp(int(text), tz=settings.zone).date()
    except (OverflowError, OSError, ValueError):
        day = dt.date.max
    return _in_range(day, f"{EPOCH_ENV}={text!r}")


def _in_range(day: dt.date, what: str) -> dt.date:
    """A day the plugin can date a post with: backfilled days before it and the time zone's offset
    around it stay inside datetime's years 1 to 9999."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise SettingsError(f"{what} is out of range: the plugin dates posts from {FIRST_DAY} to {LAST_DAY}")
    return day


def seed_for(day: dt.date, settings: DailyPostSettings) -> int:
    """A stable 31-bit seed from the date and the site (SITENAME, or DAILY_POST_SEED_SALT).

    SITEURL is left out on purpose: it differs between pelicanconf and publishconf, and the same
    date must give the same post whichever of them builds it.
    """
    digest = hashlib.sha256(f"{settings.seed_salt}\n{day.isoformat()}".encode("utf-8")).hexdigest()
    return int(digest[:8], 16) & 0x7FFFFFFF


def day_range(end: dt.date, back: int, ahead: int = 0) -> list[dt.date]:
    """``back`` days before ``end``, ``end`` itself, then ``ahead`` days after it, in order."""
    return [end + dt.timedelta(days=offset) for offset in range(-max(back, 0), max(ahead, 0) + 1)]
