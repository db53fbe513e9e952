"""Machine-written posts and the owner's stars, written the way the plugin and ``make review`` write
them, for the tests of "Best of the machine" and "show me another" (tests/plugin, tests/theme)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

BODY = ("The gauge on the roof filled twice before noon, and the wind went round to the west. "
        "I wrote the readings down and went back inside for coffee.\n\n"
        "By evening the sky had cleared and the humidity sensor agreed with the kitchen, for once.")


def write_machine_posts(content: Path, posts: dict[dt.date, str], timezone: str = "UTC") -> dict[dt.date, Path]:
    """Write one machine post per day in ``posts`` ({day: title}) into ``content``/generated, as
    the plugin writes them (plugin.store). Returns each day's file."""
    from plugin import store
    from plugin.settings import DailyPostSettings

    settings = DailyPostSettings.from_pelican({"SITENAME": "test", "TIMEZONE": timezone})
    written = {}
    for number, (day, title) in enumerate(sorted(posts.items()), start=1):
        slug = store.slugify_title(title, settings)
        post = SimpleNamespace(title=title, seed=number, model={"name": "test"}, body=BODY, settings={}, gate={})
        path = store.write_post(content / "generated", day, slug, store.render_post(post, day, slug, settings))
        assert path is not None, f"{day}: a post of that day and slug exists already"
        written[day] = path
    return written


def write_stars(review_folder: Path, stars: dict[dt.date, int], rejected: tuple[dt.date, ...] = ()) -> Path:
    """decisions.json in ``review_folder`` with ``stars`` ({day: 1-5}) on approved days (and the
    days in ``rejected`` rejected, with stars 5), as the review page saves it."""
    from plugin.review_decisions import NAME, empty, new_entry, save

    data = empty()
    for number, (day, count) in enumerate(sorted(stars.items()), start=1):
        data["days"][day.isoformat()] = {**new_entry(number, "approved"), "stars": count}
    for day in rejected:
        data["days"][day.isoformat()] = {**new_entry(99, "rejected"), "stars": 5}
    return save(review_folder / NAME, data)
