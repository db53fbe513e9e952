"""Publishing the missing posts of some days: check, lock, load the model once, sample, write.

``publish`` is what a build (today, plus DAILY_POST_BACKFILL_DAYS) and ``plugin.backfill`` call.
When every day already has its post it returns after reading a few file headers: no lock, no
model, no torch.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

from common.errors import UserError

from . import store
from .dates import seed_for
from .settings import DailyPostSettings

logger = logging.getLogger(__name__)


class DailyPostError(UserError, RuntimeError):
    """A post could not be published (one-line message); the build fails only in strict mode."""


@dataclass
class Outcome:
    written: list[Path] = field(default_factory=list)
    existing: dict[dt.date, Path] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)  # one line per day that got no post


def publish(settings: DailyPostSettings, days: list[dt.date], sampler=None) -> Outcome:
    """Write a post for every day in ``days`` that has none. Errors loading the model raise;
    a day whose candidates the gate rejects is reported in ``Outcome.failures``."""
    from . import generate  # torch-free itself; it imports the trainer only when called

    folder = settings.generated_folder
    outcome = Outcome(existing=store.posts_by_day(folder))
    if not [day for day in days if day not in outcome.existing]:
        return outcome
    if sampler is None:  # loaded before the lock: without a model nothing is created in content/
        sampler = generate.load_sampler(settings.model_path, settings.precision,
                                        demo=settings.is_demo_model)
    with store.folder_lock(folder):
        store.remove_stale_temps(folder)  # what builds killed while writing left behind
        outcome.existing = store.posts_by_day(folder)  # another build may have written them
        todo = [day for day in days if day not in outcome.existing]
        if not todo:
            return outcome
        taken = store.existing_slugs(settings)
        for day in todo:
            seed = seed_for(day, settings)
            logger.info("daily post: sampling the post for %s (seed %d)", day, seed)
            result = generate.sample(sampler, seed, settings)
            post = result.post
            if post is None:
                outcome.failures.append(
                    f"{day}: the quality gate rejected every candidate ({result.rejection_summary()})")
                continue
            slug = store.unique_slug(post.title, day, settings, taken)
            path = store.write_post(folder, day, slug, store.render_post(post, day, slug, settings))
            if path is None:
                outcome.failures.append(f"{day}: {folder / slug} already exists; left untouched")
                continue
            taken.add(slug)
            outcome.written.append(path)
            logger.info("daily post: wrote %s", path)
    return outcome
