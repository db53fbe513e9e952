"""Hostile dates and settings of the wrong type: one warning naming them, and a built site.

Regressions (issue 14):

- item 4, "every date input is one warning, never a crash": ``SOURCE_DATE_EPOCH=99999999999999`` (or
  a large negative one) passed the first receiver (its ValueError became a warning there) and
  crashed ``article_generator_pretaxonomy`` with a ValueError and a traceback: no site. Any value of
  ``SOURCE_DATE_EPOCH``, ``DAILY_POST_DATE`` or ``DAILY_POST_TIME`` is now one warning line naming
  it and a built site (strict mode: one CRITICAL line, no traceback); DAILY_POST_TIME is checked
  when the build starts, before any sampling.
- item 5, "settings of the wrong type are refused or read as meant": ``DAILY_POST_ENABLED = "false"``
  enabled the plugin (``bool("false")``). Every boolean DAILY_POST_* setting takes True/False or
  true/false/yes/no/on/off/1/0 in any case; the list setting (DAILY_POST_TAGS) a list, a tuple or a
  comma-separated text. Anything else is refused like every other bad value of settings.py: a
  ``SettingsError`` naming the setting and the type it expects, which the build reports as one
  warning (the plugin sits the build out; strict mode fails it).
"""
from __future__ import annotations

import datetime as dt
import logging
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
from plugin_site import REPO, build, daily_settings, site_settings

from plugin import dates
from plugin import settings as cfg
from plugin.daily import DailyPostError

DAY = dt.date(2026, 3, 14)


@pytest.fixture(autouse=True)
def fresh_log_filter(monkeypatch):
    """Pelican's LimitFilter drops a warning it has seen once in this process: every test here
    counts its own, so each starts with an empty memory."""
    from pelican.log import LimitFilter

    monkeypatch.setattr(LimitFilter, "_raised_messages", set())
    monkeypatch.setattr(LimitFilter, "_group_count", type(LimitFilter._group_count)(int))


@pytest.fixture
def clean_env(monkeypatch):
    monkeypatch.delenv("DAILY_POST_DATE", raising=False)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    return monkeypatch


def _plugin_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name.startswith("plugin") and r.levelno >= logging.WARNING]


def _generated(site: Path) -> list[Path]:
    return sorted((site / "content" / "generated").glob("*.md"))


# --- item 4: dates ------------------------------------------------------------------------------

HOSTILE_EPOCHS = [
    "99999999999999",  # the issue's: year ~3170000, out of datetime's range
    "-99999999999999",
    "-1",  # before 1970 (and `date +%s` never prints a sign for today)
    "-0",
    "253402300800",  # 10000-01-01T00:00:00Z
    "253402214400",  # 9999-12-31: in range for datetime, not for a post plus its time zone
    "9" * 5000,  # past int()'s 4300-digit limit
    "abc",
    "1.5",
    "1e9",
    "0x10",
    "1_700_000_000",  # int() takes it; the convention does not
    "١٧٠٠٠٠٠٠٠٠",  # Arabic-Indic digits: int() takes them too
    "17 00",
    "+1700000000",
    "nan",
    "inf",
]
HOSTILE_DATES = [
    "2026-02-30",
    "2026-13-01",
    "2026-00-10",
    "0000-01-01",
    "0001-01-01",  # a real date: out of range (the day before it would overflow)
    "9999-12-31",
    "10000-01-01",
    "1899-12-31",
    "2026/03/14",
    "14-03-2026",
    "20260314",  # ISO basic format: fromisoformat takes it in 3.11, the setting asks for YYYY-MM-DD
    "2026-W11-6",
    "2026-03-14T06:00",
    "tomorrow",
    "٢٠٢٦-٠٣-١٤",
]


@pytest.mark.parametrize("value", HOSTILE_EPOCHS, ids=lambda value: repr(value)[:24])
def test_every_hostile_epoch_is_a_settings_error_naming_it(site, value):
    settings = daily_settings(site)
    with pytest.raises(cfg.SettingsError) as caught:
        dates.today(settings, {"SOURCE_DATE_EPOCH": value})
    message = str(caught.value)
    assert message.startswith(f"SOURCE_DATE_EPOCH={value!r}"[:60]) and "\n" not in message


@pytest.mark.parametrize("value", HOSTILE_DATES)
def test_every_hostile_date_is_a_settings_error_naming_it(site, value):
    settings = daily_settings(site)
    with pytest.raises(cfg.SettingsError, match=re.escape(f"DAILY_POST_DATE={value!r}")):
        dates.today(settings, {"DAILY_POST_DATE": value, "SOURCE_DATE_EPOCH": "1700000000"})


def test_usable_dates_and_blank_variables(site):
    settings = daily_settings(site)  # TIMEZONE Europe/Stockholm
    now = dt.datetime(2026, 7, 1, 12, tzinfo=dt.timezone.utc)
    assert dates.today(settings, {"SOURCE_DATE_EPOCH": "0"}) == dt.date(1970, 1, 1)
    assert dates.today(settings, {"SOURCE_DATE_EPOCH": " 1767224000 "}) == dt.date(2026, 1, 1)
    assert dates.today(settings, {"DAILY_POST_DATE": "1900-01-01"}) == dt.date(1900, 1, 1)
    assert dates.today(settings, {"DAILY_POST_DATE": "9998-12-31"}) == dt.date(9998, 12, 31)
    # empty or blank: unset, as the reproducible-builds convention and every shell treat it
    assert dates.today(settings, {"DAILY_POST_DATE": "", "SOURCE_DATE_EPOCH": "  "}, now=now) == now.date()


BUILD_DATES = [
    ("SOURCE_DATE_EPOCH", "99999999999999"),
    ("SOURCE_DATE_EPOCH", "-99999999999999"),
    ("SOURCE_DATE_EPOCH", "-1"),
    ("SOURCE_DATE_EPOCH", "253402214400"),
    ("SOURCE_DATE_EPOCH", "soon"),
    ("DAILY_POST_DATE", "2026-02-30"),
    ("DAILY_POST_DATE", "0001-01-01"),
    ("DAILY_POST_DATE", "9999-12-31"),
    ("DAILY_POST_DATE", "tomorrow"),
]


@pytest.mark.parametrize("variable, value", BUILD_DATES)
def test_a_hostile_date_builds_the_site_with_one_warning(site, stub_sampler, clean_env, caplog,
                                                         variable, value):
    clean_env.setenv(variable, value)
    caplog.set_level(logging.WARNING)
    build(site_settings(site))  # before the fix: ValueError from article_generator_pretaxonomy
    [warning] = _plugin_warnings(caplog)
    assert warning.startswith(f"daily post: no post today: {variable}={value!r}") and "\n" not in warning
    assert "The site was built without it" in warning
    assert stub_sampler.calls == [] and _generated(site) == []
    assert "A wet morning" in (site / "output" / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("variable, value", BUILD_DATES[:1] + BUILD_DATES[5:6])
def test_a_hostile_date_in_strict_mode_fails_the_build_with_one_line(site, stub_sampler, clean_env,
                                                                     variable, value):
    clean_env.setenv(variable, value)
    with pytest.raises(DailyPostError) as failure:
        build(site_settings(site, DAILY_POST_STRICT=True))
    message = str(failure.value)
    assert f"{variable}={value!r}" in message and "\n" not in message
    assert "the build fails because DAILY_POST_STRICT = True" in message
    assert stub_sampler.calls == []


HOSTILE_TIMES = ["25:00", "24:00", "06:60", "06:00:61", "noon", "", "  ", "6", "0600", "T06:00",
                 "06:00+05:00", "06:00Z", "06:00:00.5", None, 6, 6.5, True, [6, 0], {"hour": 6},
                 dt.time(6, tzinfo=dt.timezone.utc)]


@pytest.mark.parametrize("value", HOSTILE_TIMES, ids=repr)
def test_a_hostile_time_is_one_warning_before_any_sampling(site, stub_sampler, fixed_day, caplog, value):
    caplog.set_level(logging.WARNING)
    build(site_settings(site, DAILY_POST_TIME=value))
    [warning] = _plugin_warnings(caplog)
    assert warning.startswith(f"daily post: DAILY_POST_TIME={str(value)!r} is not a time of day: use HH:MM")
    assert "\n" not in warning and "built without the plugin" in warning
    assert stub_sampler.calls == [] and _generated(site) == []  # refused before sampling
    assert (site / "output" / "index.html").is_file()
    with pytest.raises(DailyPostError, match="DAILY_POST_TIME"):
        build(site_settings(site, DAILY_POST_TIME=value, DAILY_POST_STRICT=True))
    assert stub_sampler.calls == []


@pytest.mark.parametrize("value, written", [("06:00", "06:00"), ("6:30", "06:30"), (" 23:59 ", "23:59"),
                                            ("07:15:30", "07:15"), (dt.time(8, 5), "08:05")])
def test_a_time_of_day_is_read_as_meant(site, stub_sampler, fixed_day, value, written):
    build(site_settings(site, DAILY_POST_TIME=value))
    [post] = _generated(site)
    assert f"Date: {fixed_day.isoformat()} {written}\n" in post.read_text(encoding="utf-8")


# Pelican itself, run the way `make html` runs it: the exact reproduction.
CONF = """\
SITENAME = "Hostile Station"
SITEURL = ""
PATH = "content"
TIMEZONE = "Europe/Stockholm"
ARTICLE_PATHS = ["posts", "generated"]
PLUGIN_PATHS = [{repo!r}]
PLUGINS = ["plugin"]
DAILY_POST_MODEL = "no-model-here"
DAILY_POST_STRICT = {strict}
DAILY_POST_TIME = {time!r}
FEED_ALL_ATOM = None
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
"""


def _pelican(site: Path, env: dict, strict: bool = False, time: str = "06:00") -> tuple[int, str]:
    conf = CONF.format(repo=str(REPO), strict=strict, time=time)
    (site / "pelicanconf.py").write_text(conf, encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "1000", "HOME": str(site), **env}
    done = subprocess.run([sys.executable, "-m", "pelican", "content", "-s", "pelicanconf.py",
                           "-o", "output"], cwd=site, env=env, capture_output=True, text=True, timeout=180)
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("env", [{"SOURCE_DATE_EPOCH": "99999999999999"},
                                 {"SOURCE_DATE_EPOCH": "-99999999999999"},
                                 {"DAILY_POST_DATE": "2026-02-30"}], ids=lambda env: "=".join(*env.items()))
def test_pelican_with_a_hostile_date_says_one_warning_and_builds(site, env):
    code, output = _pelican(site, env)
    assert code == 0 and "Traceback" not in output and "CRITICAL" not in output, output
    text = " ".join(output.split())  # the rich log handler wraps long lines
    [(variable, value)] = env.items()
    assert text.count("WARNING") == 1, output
    assert f"WARNING daily post: no post today: {variable}={value!r}" in text, output
    assert (site / "output" / "a-wet-morning.html").is_file()


@pytest.mark.parametrize("env, time, line", [
    ({"SOURCE_DATE_EPOCH": "99999999999999"}, "06:00",
     "CRITICAL DailyPostError: daily post: no post today: "
     "SOURCE_DATE_EPOCH='99999999999999' is out of range"),
    ({"DAILY_POST_DATE": "2026-03-14"}, "25:00",
     "CRITICAL DailyPostError: daily post: DAILY_POST_TIME='25:00' is not a time of day: use HH:MM"),
], ids=["epoch", "time"])
def test_pelican_in_strict_mode_says_one_critical_line_without_traceback(site, env, time, line):
    code, output = _pelican(site, env, strict=True, time=time)
    assert code == 1 and "Traceback" not in output, output
    text = " ".join(output.split())
    assert text.count("CRITICAL") == 1 and line in text, output
    assert "the build fails because DAILY_POST_STRICT = True" in text, output


# --- item 5: types ------------------------------------------------------------------------------

BOOLEANS = {"DAILY_POST_ENABLED": "enabled", "DAILY_POST_STRICT": "strict",
            "DAILY_POST_ROBOTS_NOINDEX": "robots_noindex", "DAILY_POST_REVIEW": "review",
            "DAILY_POST_BROWSER": "browser"}
TRUE_VALUES = [True, 1, "true", "True", "TRUE", " yes ", "Yes", "on", "ON", "1"]
FALSE_VALUES = [False, 0, "false", "False", "FALSE", "no", "NO", "off", "Off", "0", " 0 "]
NOT_BOOLEANS = ["", "maybe", "tru", "falsch", "2", 2, -1, 0.0, 1.0, [], [True], {}, "None", b"true"]


def test_every_boolean_and_list_setting_is_covered_here():
    """A new boolean or list DAILY_POST_* default must join BOOLEANS or the list tests."""
    assert {key for key, value in cfg.DEFAULTS.items() if isinstance(value, bool)} == set(BOOLEANS)
    lists = {key for key, value in cfg.DEFAULTS.items() if isinstance(value, (list, tuple))}
    assert lists == {"DAILY_POST_TAGS"}


@pytest.mark.parametrize("setting", BOOLEANS)
def test_booleans_read_as_meant(site, setting):
    attribute = BOOLEANS[setting]
    for value in TRUE_VALUES:
        assert getattr(daily_settings(site, **{setting: value}), attribute) is True, value
    for value in FALSE_VALUES:
        assert getattr(daily_settings(site, **{setting: value}), attribute) is False, value
    default = getattr(daily_settings(site), attribute)
    assert default is cfg.DEFAULTS[setting]
    assert getattr(daily_settings(site, **{setting: None}), attribute) is default  # None: the default


@pytest.mark.parametrize("setting", BOOLEANS)
@pytest.mark.parametrize("value", NOT_BOOLEANS, ids=repr)
def test_anything_else_for_a_boolean_is_refused_naming_it(site, setting, value):
    with pytest.raises(cfg.SettingsError) as caught:
        daily_settings(site, **{setting: value})
    assert str(caught.value) == (f"{setting} must be a boolean: True or False (or one of "
                                 f"true/yes/on/1/false/no/off/0), got {value!r}")


@pytest.mark.parametrize("value, tags", [
    (["generated"], ("generated",)),
    (("machine", "weather"), ("machine", "weather")),
    ("generated", ("generated",)),  # was nine one-letter tags
    ("machine, weather ,, notes", ("machine", "weather", "notes")),
    ("", ()),
    ([], ()),
    ([" a ", "a", "", 2026], ("a", "2026")),
    (None, ("generated",)),  # None: the default
])
def test_tags_are_a_list_or_a_comma_separated_text(site, value, tags):
    assert daily_settings(site, DAILY_POST_TAGS=value).tags == tags


@pytest.mark.parametrize("value", [5, True, {"generated": 1}, {"generated"}, [None], [["x"]], [True], b"x"],
                         ids=repr)
def test_anything_else_for_the_tags_is_refused_naming_it(site, value):
    with pytest.raises(cfg.SettingsError, match=r"^DAILY_POST_TAGS must be a list of tags") as caught:
        daily_settings(site, DAILY_POST_TAGS=value)
    assert repr(value) in str(caught.value)


def test_enabled_false_as_text_disables_the_plugin(site, stub_sampler, fixed_day, caplog):
    caplog.set_level(logging.WARNING)
    build(site_settings(site, DAILY_POST_ENABLED="false"))  # before the fix: bool("false") is True
    assert stub_sampler.calls == [] and _generated(site) == [] and _plugin_warnings(caplog) == []
    assert (site / "output" / "index.html").is_file()


@pytest.mark.parametrize("theme", ["notmyidea", str(REPO / "theme")], ids=["notmyidea", "project-theme"])
@pytest.mark.parametrize("noindex", ["off", "On"])
def test_tags_as_text_and_noindex_as_text_build_as_meant(site, stub_sampler, fixed_day, theme, noindex):
    """In the plugin and in the templates (the project's theme writes the robots tag itself when
    DAILY_POST_ROBOTS_NOINDEX is true: "off" is a non-empty text, true to Jinja)."""
    build(site_settings(site, THEME=theme, DAILY_POST_TAGS="generated, machine",
                        DAILY_POST_ROBOTS_NOINDEX=noindex))
    [post] = _generated(site)
    assert "\nTags: generated, machine\n" in post.read_text(encoding="utf-8")
    out = site / "output"
    assert (out / "tag" / "generated.html").is_file() and (out / "tag" / "machine.html").is_file()
    assert not (out / "tag" / "g.html").exists()
    slug = post.stem[len("2026-03-14-"):]
    page = (out / f"{slug}.html").read_text(encoding="utf-8")
    assert page.count('content="noindex"') == (1 if noindex == "On" else 0)


def test_strict_as_text_false_keeps_a_bad_setting_a_warning(site, stub_sampler, fixed_day, caplog):
    """The receiver that reports a bad setting reads DAILY_POST_STRICT as the settings do."""
    caplog.set_level(logging.WARNING)
    build(site_settings(site, DAILY_POST_STRICT="false", DAILY_POST_CANDIDATES="four"))
    [warning] = _plugin_warnings(caplog)
    assert "DAILY_POST_CANDIDATES must be a whole number" in warning
    with pytest.raises(DailyPostError, match="DAILY_POST_CANDIDATES"):
        build(site_settings(site, DAILY_POST_STRICT="yes", DAILY_POST_CANDIDATES="four"))
    stub_sampler.reject = True
    with pytest.raises(DailyPostError, match="no post for 2026-03-14: the quality gate rejected"):
        build(site_settings(site, DAILY_POST_STRICT="on"))


@pytest.mark.parametrize("setting, value, expected", [
    ("DAILY_POST_ENABLED", "maybe", "DAILY_POST_ENABLED must be a boolean"),
    ("DAILY_POST_ROBOTS_NOINDEX", 2, "DAILY_POST_ROBOTS_NOINDEX must be a boolean"),
    ("DAILY_POST_TAGS", 5, "DAILY_POST_TAGS must be a list of tags or a comma-separated text, got 5"),
])
def test_a_setting_of_the_wrong_type_is_one_warning_and_a_built_site(site, stub_sampler, fixed_day, caplog,
                                                                     setting, value, expected):
    caplog.set_level(logging.WARNING)
    build(site_settings(site, **{setting: value}))
    [warning] = _plugin_warnings(caplog)
    assert warning.startswith(f"daily post: {expected}") and "built without the plugin" in warning
    assert stub_sampler.calls == [] and (site / "output" / "index.html").is_file()


def test_deleted_posts_setting(site):
    assert daily_settings(site).deleted_posts == "redraw"
    assert daily_settings(site, DAILY_POST_DELETED=None).deleted_posts == "redraw"
    assert daily_settings(site, DAILY_POST_DELETED="skip").deleted_posts == "skip"
    assert daily_settings(site, DAILY_POST_DELETED="redraw").deleted_posts == "redraw"
    for value in ("delete", "", "Skip", 1, ["skip"]):
        with pytest.raises(cfg.SettingsError) as caught:
            daily_settings(site, DAILY_POST_DELETED=value)
        assert str(caught.value) == f"DAILY_POST_DELETED must be one of 'redraw', 'skip', got {value!r}"


def test_lock_timeout_setting(site):
    assert daily_settings(site).lock_timeout == 600
    assert daily_settings(site, DAILY_POST_LOCK_TIMEOUT=None).lock_timeout == 600
    assert daily_settings(site, DAILY_POST_LOCK_TIMEOUT=0).lock_timeout == 0
    assert daily_settings(site, DAILY_POST_LOCK_TIMEOUT="30").lock_timeout == 30
    assert daily_settings(site, DAILY_POST_LOCK_TIMEOUT=2.5).lock_timeout == 2.5
    for value in (-1, "soon", "", True, math.inf, math.nan, [600]):
        with pytest.raises(cfg.SettingsError) as caught:
            daily_settings(site, DAILY_POST_LOCK_TIMEOUT=value)
        assert str(caught.value) == ("DAILY_POST_LOCK_TIMEOUT must be a number of seconds (0 or more), "
                                     f"got {value!r}")


@pytest.mark.parametrize("setting, value, attribute, expected", [
    ("DAILY_POST_CANDIDATES", "3", "candidates", 3),
    ("DAILY_POST_CANDIDATES", 3.0, "candidates", 3),
    ("DAILY_POST_ROUNDS", " 2 ", "rounds", 2),
    ("DAILY_POST_BACKFILL_DAYS", None, "backfill_days", 0),
    ("DAILY_POST_CATEGORY", None, "category", "Machine"),
    ("DAILY_POST_CATEGORY", 2026, "category", "2026"),
    ("DAILY_POST_AUTHOR", None, "author", "The Machine"),
    ("DAILY_POST_MACHINE_PLOT", None, "machine_plot", ""),
    ("DAILY_POST_MACHINE_REPORT", False, "machine_report", ""),
    ("DAILY_POST_MACHINE_REPORT", Path("m/r.html"), "machine_report", "m/r.html"),
])
def test_other_settings_read_as_meant(site, setting, value, attribute, expected):
    assert getattr(daily_settings(site, **{setting: value}), attribute) == expected


@pytest.mark.parametrize("setting, value, message", [
    ("DAILY_POST_CANDIDATES", True, "DAILY_POST_CANDIDATES must be a whole number, got True"),
    ("DAILY_POST_CANDIDATES", 2.5, "DAILY_POST_CANDIDATES must be a whole number, got 2.5"),
    ("DAILY_POST_CANDIDATES", 0, "DAILY_POST_CANDIDATES must be 1 or more, got 0"),
    ("DAILY_POST_ROUNDS", "1e3", "DAILY_POST_ROUNDS must be a whole number, got '1e3'"),
    ("DAILY_POST_BACKFILL_DAYS", -2, "DAILY_POST_BACKFILL_DAYS must be 0 or more, got -2"),
    ("DAILY_POST_CATEGORY", ["Machine"], "DAILY_POST_CATEGORY must be a text, got ['Machine']"),
    ("DAILY_POST_AUTHOR", False, "DAILY_POST_AUTHOR must be a text, got False"),
    ("DAILY_POST_PRECISION", {"auto": 1}, "DAILY_POST_PRECISION must be a text, got {'auto': 1}"),
    ("DAILY_POST_MACHINE_PLOT", ["loss.png"], "DAILY_POST_MACHINE_PLOT must be a path in the output folder"),
    ("DAILY_POST_MODEL", 5, "DAILY_POST_MODEL must be a folder (a text or a Path), got 5"),
    ("DAILY_POST_FOLDER", ["generated"],
     "DAILY_POST_FOLDER must be a folder (a text or a Path), got ['generated']"),
    ("DAILY_POST_ROOT", 1, "DAILY_POST_ROOT must be a folder (a text or a Path) or None, got 1"),
    ("DAILY_POST_REVIEW_FOLDER", 7, "DAILY_POST_REVIEW_FOLDER must be a folder (a text or a Path), got 7"),
])
def test_other_settings_of_the_wrong_type_are_refused_naming_them(site, setting, value, message):
    with pytest.raises(cfg.SettingsError, match="^" + re.escape(message)):
        daily_settings(site, **{setting: value})
