"""Which day "today" is, and the seed that day's post is sampled with.

"Today" is the build date in the site's ``TIMEZONE``. It can be fixed: the environment variable
``DAILY_POST_DATE=YYYY-MM-DD`` wins, then ``SOURCE_DATE_EPOCH`` (seconds since 1970, the
reproducible-builds convention), then the clock.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os

from .settings import DailyPostSettings, SettingsError

DATE_ENV = "DAILY_POST_DATE"


def today(settings: DailyPostSettings, environ: dict | None = None, now: dt.datetime | None = None) -> dt.date:
    """The build date in the site's time zone (see the module docstring for the overrides)."""
    environ = os.environ if environ is None else environ
    fixed = (environ.get(DATE_ENV) or "").strip()
    if fixed:
        try:
            return dt.date.fromisoformat(fixed)
        except ValueError as err:
            raise SettingsError(f"{DATE_ENV}={fixed!r} is not a date: use YYYY-MM-DD") from err
    epoch = (environ.get("SOURCE_DATE_EPOCH") or "").strip()
    if epoch:
        try:
            seconds = int(epoch)
        except ValueError as err:
            raise SettingsError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds") from err
        return dt.datetime.fromtimestamp(seconds, tz=settings.zone).date()
    now = now or dt.datetime.now(dt.timezone.utc)
    return now.astimezone(settings.zone).date()


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
