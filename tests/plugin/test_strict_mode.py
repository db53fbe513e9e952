"""DAILY_POST_STRICT = True: a post that cannot be written fails `pelican` with one clear line.

Regression (issue 7, reliability): Pelican's main logs the exception that ends a build with
exc_info=True, so strict mode printed a whole traceback under the CRITICAL line. The plugin's
filter on the "pelican" logger drops the traceback of a DailyPostError (and only of that).
"""
from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from plugin_site import REPO

import plugin  # noqa: F401  (register() is what installs the filter; the filter itself is tested)
from plugin.daily import DailyPostError
from plugin.hooks import strict_failure_filter

CONF = """\
SITENAME = "Strict Station"
SITEURL = ""
PATH = "content"
TIMEZONE = "Europe/Stockholm"
ARTICLE_PATHS = ["posts", "generated"]
PLUGIN_PATHS = [{repo!r}]
PLUGINS = ["plugin"]
DAILY_POST_MODEL = "no-model-here"
DAILY_POST_STRICT = {strict}
FEED_ALL_ATOM = None
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
"""


def _pelican(site: Path, strict: bool, *extra: str) -> tuple[int, str]:
    (site / "pelicanconf.py").write_text(CONF.format(repo=str(REPO), strict=strict), encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "DAILY_POST_DATE": "2026-03-14", "COLUMNS": "200", "HOME": str(site)}
    done = subprocess.run([sys.executable, "-m", "pelican", "content", "-s", "pelicanconf.py", "-o", "output",
                           *extra], cwd=site, env=env, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


def test_strict_failure_is_one_critical_line_without_traceback(site):
    code, output = _pelican(site, strict=True)
    assert code == 1, output
    assert "Traceback" not in output, output
    text = " ".join(output.split())  # the rich log handler wraps long lines
    assert text.count("CRITICAL") == 1, output
    assert ("CRITICAL DailyPostError: daily post: no post for 2026-03-14: model folder not found: "
            f"{site / 'no-model-here'}") in text, output
    assert "the build fails because DAILY_POST_STRICT = True" in text, output


def test_default_mode_builds_with_one_warning(site):
    code, output = _pelican(site, strict=False)
    assert code == 0, output
    assert "Traceback" not in output and "CRITICAL" not in output, output
    text = " ".join(output.split())
    assert text.count("WARNING") == 1 and "WARNING daily post: no post for 2026-03-14: model folder" in text
    assert (site / "output" / "a-wet-morning.html").is_file()


def _record(exc: BaseException) -> logging.LogRecord:
    try:
        raise exc
    except BaseException:
        return logging.LogRecord("pelican", logging.CRITICAL, __file__, 1, "%s", ("x",), sys.exc_info())


def test_filter_drops_the_traceback_of_a_strict_failure_only():
    strict = _record(DailyPostError("daily post: no post for 2026-03-14: disk full"))
    assert strict_failure_filter(strict) is True and strict.exc_info is None
    other = _record(ValueError("a bug elsewhere keeps its traceback"))
    assert strict_failure_filter(other) is True and other.exc_info[0] is ValueError
    assert strict_failure_filter(logging.LogRecord("pelican", logging.INFO, __file__, 1, "m", (), None))


def test_register_installs_the_filter_once():
    plugin.register()
    plugin.register()
    assert logging.getLogger("pelican").filters.count(strict_failure_filter) == 1
