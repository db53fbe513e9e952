"""Fixtures for the plugin tests: a small Pelican site in a temporary folder, a stub sampler, and
a helper that builds the site the way `make html` does (Pelican(settings).run())."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

POSTS = {
    "posts/2024-05-01-a-wet-morning.md": (
        "Title: A wet morning\nDate: 2024-05-01 08:00\nCategory: Weather\nTags: rain, gauge\n\n"
        "The rain gauge filled up twice before breakfast. I emptied it and wrote the number down.\n"),
    "posts/2024-06-12-the-new-mast.md": (
        "Title: The new mast\nDate: 2024-06-12 19:30\nCategory: Hardware\nTags: mast\n\n"
        "A taller mast went up today. The anemometer now sees the wind before the chimney does.\n"),
    "posts/2024-07-03-clouds.md": (
        "Title: Counting clouds\nDate: 2024-07-03 12:00\nCategory: Weather\nTags: clouds\n"
        "Slug: machine-words\n\nCumulus in the morning, nothing by noon.\n"),
    "pages/about.md": "Title: About\n\nA small weather blog used by the plugin tests.\n",
}


def write_site(root: Path) -> Path:
    """A site folder: content/ with three posts and a page. Returns the content folder."""
    content = root / "content"
    for rel, text in POSTS.items():
        path = content / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return content


def site_settings(root: Path, **overrides) -> dict:
    from pelican.settings import read_settings

    values = {
        "PATH": str(root / "content"),
        "OUTPUT_PATH": str(root / "output"),
        "SITENAME": "Test Station",
        "SITEURL": "",
        "AUTHOR": "Tester",
        "TIMEZONE": "Europe/Stockholm",
        "ARTICLE_PATHS": ["posts", "generated"],
        "PAGE_PATHS": ["pages"],
        "PLUGINS": ["plugin"],
        "PLUGIN_PATHS": [str(REPO)],
        "FEED_ALL_ATOM": "feeds/all.atom.xml",
        "CATEGORY_FEED_ATOM": "feeds/{slug}.atom.xml",
        "TAG_FEED_ATOM": "feeds/tag-{slug}.atom.xml",
        "TRANSLATION_FEED_ATOM": None,
        "AUTHOR_FEED_ATOM": None,
        "AUTHOR_FEED_RSS": None,
        "DEFAULT_PAGINATION": False,
        "CACHE_CONTENT": False,
        "LOAD_CONTENT_CACHE": False,
        "DAILY_POST_MODEL": str(root / "no-model-here"),
    }
    values.update(overrides)
    return read_settings(path=None, override=values)


def daily_settings(root: Path, **overrides):
    """The plugin's settings object for the site at ``root``, read as a build reads it."""
    from plugin.settings import DailyPostSettings

    return DailyPostSettings.from_pelican(site_settings(root, **overrides))


def build(settings: dict) -> None:
    from pelican import Pelican

    Pelican(settings).run()


STUB_TITLE = "Wind over the harbour"
STUB_BODY = ("The wind turned at noon and the harbour went quiet. Gulls stood on the mast.\n\n"
             "By evening the gauge read two millimetres.")


class StubSampler:
    """Stands in for trainer.generation.sampler.Sampler: the same post for every seed (text configurable)."""

    def __init__(self, title=STUB_TITLE, body=STUB_BODY, reject=False):
        self.title, self.body, self.reject = title, body, reject
        self.calls: list[int] = []
        self.identity = {"path": "/stub", "name": "stub", "weights_sha256": "0" * 64}

    def best_post(self, seed, settings=None, gate=None, candidates=4, rounds=3):
        from trainer.generation.best_post import BestPost  # torch-free, like the real result

        self.calls.append(seed)
        if self.reject:
            return BestPost(post=None, report=["candidate 1: too_short words=3 < 40",
                                               "candidate 2: degenerate rep4=0.61 > 0.3"])
        post = SimpleNamespace(title=self.title, body=self.body, seed=seed, model=self.identity,
                               settings={"temperature": 0.9}, gate={"mean_logprob": -2.345678, "words": 25})
        return BestPost(post=post, report=["candidate 1: accepted"])


@pytest.fixture
def site(tmp_path):
    write_site(tmp_path)
    return tmp_path


@pytest.fixture
def stub_sampler(monkeypatch):
    """Replace model loading with a StubSampler; returns it (tests may change its text)."""
    import plugin.generate as generate

    sampler = StubSampler()
    monkeypatch.setattr(generate, "load_sampler", lambda path, precision="auto", demo=False: sampler)

    class _Settings:
        def __init__(self, **kw):
            self.__dict__.update(kw)

    # trainer.generation.sampler / trainer.generation.gate may not be importable in every checkout: stub the classes.
    monkeypatch.setattr(generate, "_build", lambda cls, values, setting: values)
    monkeypatch.setitem(sys.modules, "trainer.generation.gate", SimpleNamespace(GateSettings=_Settings))
    monkeypatch.setitem(sys.modules, "trainer.generation.sampler", SimpleNamespace(SamplingSettings=_Settings))
    return sampler


@pytest.fixture
def fixed_day(monkeypatch):
    """Fix "today" for the plugin (DAILY_POST_DATE) and return it."""
    day = dt.date(2026, 3, 14)
    monkeypatch.setenv("DAILY_POST_DATE", day.isoformat())
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    return day


# The lock implementations the lock tests run the plugin with (store.LOCK_CLASS, store.LOCK_OPTIONS):
# the platform's OS-level lock, which the plugin uses, and filelock's portable SoftFileLock. Windows'
# own lock (filelock.WindowsFileLock: msvcrt, LockFileEx) cannot run off Windows, so on Linux and
# macOS the tests run UnixFileLock and SoftFileLock, and WindowsFileLock only where they run on Windows.
NATIVE_LOCK = "WindowsFileLock" if sys.platform == "win32" else "UnixFileLock"
LOCK_CLASSES = (NATIVE_LOCK, "SoftFileLock")


def use_lock(name: str, monkeypatch=None) -> None:
    """Make plugin.store lock with ``filelock.<name>`` (through ``monkeypatch`` when given, else for
    the rest of this process). SoftFileLock gets none of the plugin's options for its OS lock: it
    releases by deleting its file, so it cannot keep it."""
    import filelock

    from plugin import store

    assign = monkeypatch.setattr if monkeypatch is not None else setattr
    assign(store, "LOCK_CLASS", getattr(filelock, name))
    if name == "SoftFileLock":
        assign(store, "LOCK_OPTIONS", {})


def run_build_subprocess(root: Path, settings_json: dict, env_extra: dict | None = None,
                         stub: bool = False, check_modules: bool = False, delay: float = 0.0,
                         title: str | None = None, lock: str | None = None):
    """Build the site at ``root`` in a fresh Python process (tests/plugin/build_site.py); ``lock``:
    a LOCK_CLASSES name to build with instead of the plugin's own lock."""
    env = dict(os.environ)
    env.update(env_extra or {})
    args = [sys.executable, str(HERE / "build_site.py"), str(root), json.dumps(settings_json)]
    if stub:
        args += ["--stub", "--delay", str(delay)] + (["--title", title] if title else [])
    if check_modules:
        args.append("--modules")
    if lock:
        args += ["--lock", lock]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=str(root))
