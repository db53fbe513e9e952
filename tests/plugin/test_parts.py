"""The plugin's parts on their own: dates and seeds, escaping, the store, settings, the machine."""
from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from types import SimpleNamespace

import markdown
import pytest
from bs4 import BeautifulSoup
from plugin_site import REPO
from test_untrusted_run_folder import png, write_report

from common import post_file as text
from plugin import dates, machine, store
from plugin import settings as cfg

SITE = {"SITENAME": "Test Station", "SITEURL": "", "TIMEZONE": "Europe/Stockholm"}


def read(settings: dict) -> cfg.DailyPostSettings:
    """The plugin's settings object, as the ``initialized`` receiver reads it."""
    return cfg.DailyPostSettings.from_pelican(settings)


def test_date_override_order_and_clear_errors():
    epoch = str(int(dt.datetime(2026, 1, 1, 23, 30, tzinfo=dt.timezone.utc).timestamp()))
    site = read(SITE)
    assert dates.today(site, {"DAILY_POST_DATE": "2025-07-01", "SOURCE_DATE_EPOCH": epoch}) == dt.date(2025, 7, 1)
    assert dates.today(site, {"SOURCE_DATE_EPOCH": epoch}) == dt.date(2026, 1, 2)  # 00:30 in Stockholm
    assert dates.today(read({**SITE, "TIMEZONE": "UTC"}), {"SOURCE_DATE_EPOCH": epoch}) == dt.date(2026, 1, 1)
    now = dt.datetime(2026, 6, 30, 22, 30, tzinfo=dt.timezone.utc)
    assert dates.today(site, {}, now=now) == dt.date(2026, 7, 1)
    with pytest.raises(cfg.SettingsError, match="DAILY_POST_DATE='tomorrow' is not a date"):
        dates.today(site, {"DAILY_POST_DATE": "tomorrow"})
    with pytest.raises(cfg.SettingsError, match="TIMEZONE 'Mars/Olympus'"):
        read({"TIMEZONE": "Mars/Olympus"})  # checked once, when the settings are read


def test_seed_depends_on_date_and_site_but_not_siteurl():
    day = dt.date(2026, 3, 14)
    seed = dates.seed_for(day, read(SITE))
    assert seed == dates.seed_for(day, read({**SITE, "SITEURL": "https://example.org"}))
    assert seed != dates.seed_for(day + dt.timedelta(days=1), read(SITE))
    assert seed != dates.seed_for(day, read({**SITE, "SITENAME": "Another blog"}))
    assert seed == dates.seed_for(day, read({"SITENAME": "x", "DAILY_POST_SEED_SALT": "Test Station"}))
    assert 0 <= seed < 2**31


MARKDOWN = markdown.Markdown(extensions=["markdown.extensions.extra", "markdown.extensions.codehilite",
                                         "markdown.extensions.meta", "markdown.extensions.toc"],
                             output_format="html5")

TRICKY = [
    "# not a heading", "- not a list", "+ nor this", "1. nor this", "2) nor this", "=====", "---",
    "> not a quote", ": not a definition", "~~~ not a fence", "    not code", "a | b | c",
    "*not em* _nor this_ `nor code` \\backslash", "[TOC]", "[x](http://e.org) ![y](z.png)",
    "Text {: onclick=\"alert(1)\" }", "<b>bold?</b> & &amp; &#60;", "[^1]: note", "*[HTML]: x",
]


@pytest.mark.parametrize("line", TRICKY)
def test_escaped_line_renders_as_exactly_its_text(line):
    MARKDOWN.reset()
    html = MARKDOWN.convert(text.escape_body(line))
    soup = BeautifulSoup(html, "html.parser")
    assert [tag.name for tag in soup.find_all(True)] == ["p"], html
    assert soup.p.attrs == {}
    assert soup.get_text() == line.strip()


def test_metadata_values_are_single_inert_lines():
    title = 'Two\nlines <i>"quoted"</i> & it\'s\u2028done'
    value = text.meta_value(title)
    assert value == "Two lines \u2039i\u203a\u201dquoted\u201d\u2039/i\u203a &amp; it\u2019s done"
    assert text.first_sentence("One. Two.") == "One."
    assert text.first_sentence("word " * 100).endswith("…")


def _post(title="A title", body="Body text. More.", seed=7):
    return SimpleNamespace(title=title, body=body, seed=seed, model={"name": "blog", "weights_sha256": "ab"},
                           settings={"temperature": 0.9, "prefix": ""}, gate={"mean_logprob": -1.23456, "x": None})


def test_rendered_header_ends_where_expected_even_with_hostile_title():
    settings = read(SITE)
    content = store.render_post(_post(title="Evil\n\nStatus: draft\nSave_as: index.html"), dt.date(2026, 3, 14),
                                "evil", settings)
    header, body = content.split("\n\n", 1)
    keys = [line.split(":", 1)[0] for line in header.splitlines()]
    assert keys == ["Title", "Date", "Slug", "Category", "Tags", "Author", "Generated", "Model",
                    "Model_Sha256", "Seed", "Sampling", "Gate", "Summary"]
    assert "Title: Evil Status: draft Save_as: index.html" in header
    assert "Gate: mean_logprob=-1.235" in header and "Sampling: temperature=0.9" in header
    assert body == "Body text. More.\n"


def test_posts_by_day_needs_the_generated_flag_and_reads_date_or_filename(tmp_path):
    (tmp_path / "2026-03-01-mine.md").write_text("Title: Mine\nDate: 2026-03-01\n\nmine\n")
    (tmp_path / "2026-03-02-gen.md").write_text("Title: Gen\nGenerated: true\n\ntext\n")
    (tmp_path / "renamed.md").write_text("Title: G\nDate: 2026-03-03 06:00\nGenerated: yes\n\ntext\n")
    found = store.posts_by_day(tmp_path)
    assert sorted(found) == [dt.date(2026, 3, 2), dt.date(2026, 3, 3)]
    assert store.posts_by_day(tmp_path / "absent") == {}


def test_unique_slug_adds_the_date_then_a_number():
    day = dt.date(2026, 3, 14)
    site = read(SITE)
    assert store.unique_slug("Hello, World!", day, site, set()) == "hello-world"
    assert store.unique_slug("Hello", day, site, {"hello"}) == "hello-2026-03-14"
    assert store.unique_slug("Hello", day, site, {"hello", "hello-2026-03-14"}) == "hello-2026-03-14-2"
    assert store.unique_slug("!!!", day, site, set()) == "machine-post"


@pytest.mark.parametrize("title, slug", [
    ("The Calibration Saga, Part Two: The Rain Gauge That Counted Twice",
     "the-calibration-saga-part-two"),  # six words, less the dangling "the"
    ("Measuring Snow Depth with a Ten-Euro Ultrasonic Sensor", "measuring-snow-depth-with-a-ten"),
    ("Fog on the Harbour", "fog-on-the-harbour"),
    ("Supercalifragilisticexpialidocious " * 4, "supercalifragilisticexpialidocious"),
])
def test_slugs_are_the_titles_first_six_words_at_most(title, slug):
    site = read(SITE)
    assert store.slugify_title(title, site) == slug
    assert len(slug.split("-")) <= 6 and len(slug) <= 60
    day = dt.date(2026, 3, 14)
    assert store.unique_slug(title, day, site, {slug}) == f"{slug}-2026-03-14"


def test_write_post_never_overwrites(tmp_path):
    day = dt.date(2026, 3, 14)
    old = os.umask(0o022)
    try:
        assert store.write_post(tmp_path, day, "a", "first") == tmp_path / "2026-03-14-a.md"
    finally:
        os.umask(old)
    assert (tmp_path / "2026-03-14-a.md").stat().st_mode & 0o777 == 0o644
    assert store.write_post(tmp_path, day, "a", "second") is None
    assert (tmp_path / "2026-03-14-a.md").read_text() == "first"


def test_paths_resolve_against_the_site_root_and_content(tmp_path):
    raw = {"PATH": str(tmp_path / "site" / "content"), "ARTICLE_PATHS": ["posts"]}
    settings = read(raw)
    # the default is the run `trainer fit` writes by default, next to the content folder
    assert settings.model_path == tmp_path / "site" / "models" / "blog"
    assert not settings.is_demo_model
    assert read({**raw, "DAILY_POST_MODEL": "models/demo"}).is_demo_model
    assert settings.generated_folder == tmp_path / "site" / "content" / "generated"
    assert not settings.folder_is_read
    assert read({**raw, "ARTICLE_PATHS": ["posts", "generated"]}).folder_is_read
    assert read({**raw, "ARTICLE_PATHS": [""]}).folder_is_read
    other = read({**raw, "DAILY_POST_MODEL": "models/blog", "DAILY_POST_ROOT": str(tmp_path)})
    assert other.model_path == tmp_path / "models" / "blog" and not other.is_demo_model


@pytest.mark.parametrize("content", [".", "src/content", "/elsewhere/posts"])
def test_the_model_is_found_next_to_the_settings_file_wherever_path_points(tmp_path, content):
    """`corpus-builder` and `trainer fit` run where pelicanconf.py is, so models/blog is there,
    whether PATH is the site folder itself, nested deeper, or outside it (no settings file above it:
    the folder holding PATH, which DAILY_POST_ROOT overrides)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "pelicanconf.py").write_text('PATH = "content"\n')
    path = Path(str(tmp_path) + content) if content.startswith("/") else site / content
    path.mkdir(parents=True, exist_ok=True)
    expected = path.parent if content.startswith("/") else site
    assert read({"PATH": str(path)}).model_path == expected / "models" / "blog"
    assert read({"PATH": str(path), "DAILY_POST_ROOT": str(site)}).model_path == site / "models" / "blog"


def test_settings_cli_says_when_the_demo_model_must_be_built(tmp_path, capsys):
    conf = tmp_path / "pelicanconf.py"
    conf.write_text('PATH = "content"\nTIMEZONE = "UTC"\n')
    (tmp_path / "content").mkdir()
    assert cfg.main(["demo-needed", "-s", str(conf)]) == 1  # the default model is not the demo's
    capsys.readouterr()
    conf.write_text('PATH = "content"\nTIMEZONE = "UTC"\nDAILY_POST_MODEL = "models/demo"\n')
    assert cfg.main(["demo-needed", "-s", str(conf)]) == 0
    assert capsys.readouterr().out.strip() == "yes"
    (tmp_path / "models" / "demo").mkdir(parents=True)
    (tmp_path / "models" / "demo" / "config.json").write_text("{}")
    assert cfg.main(["demo-needed", "-s", str(conf)]) == 1
    conf.write_text('PATH = "content"\nTIMEZONE = "UTC"\nDAILY_POST_MODEL = "/srv/models/blog"\n')
    assert cfg.main(["demo-needed", "-s", str(conf)]) == 1
    capsys.readouterr()
    assert cfg.main(["model-path", "-s", str(conf)]) == 0
    assert capsys.readouterr().out.strip() == "/srv/models/blog"


def test_machine_context_and_loss_plot(tmp_path):
    model = tmp_path / "models" / "blog"
    settings = read({"PATH": str(tmp_path / "content"), "DAILY_POST_MODEL": "models/blog"})
    assert machine.describe(settings) is None
    model.mkdir(parents=True)
    (model / "config.json").write_text("{}")
    (model / "train.json").write_text(json.dumps({"steps": 1000, "val_loss": 2.5, "documents": 31,
                                                  "base_model": "gpt2", "trained_at": "2026-03-01T10:00:00Z"}))
    (model / "loss.png").write_bytes(png())
    info = machine.describe(settings)
    assert info["name"] == "blog" and info["path"] == "models/blog" and info["steps"] == 1000
    assert info["corpus_documents"] == 31 and info["loss_plot"] == "machine/loss.png"
    assert info["val_perplexity"] is None and info["report_url"] is None
    out = tmp_path / "output"
    assert machine.copy_machine_files(settings, out) == [out / "machine" / "loss.png"]
    assert (out / "machine" / "loss.png").read_bytes() == png()


def test_machine_page_without_a_readable_training_summary_is_one_warning(tmp_path, caplog):
    model = tmp_path / "models" / "blog"
    model.mkdir(parents=True)
    (model / "config.json").write_text("{}")
    settings = read({"PATH": str(tmp_path / "content"), "DAILY_POST_MODEL": "models/blog"})
    assert machine.describe(settings)["steps"] is None and not caplog.records  # no train.json yet
    for broken in ("{not json", "[1, 2]"):
        caplog.clear()
        (model / "train.json").write_text(broken)
        info = machine.describe(settings)
        assert info["name"] == "blog" and info["steps"] is None
        [warning] = [r.getMessage() for r in caplog.records]
        assert "train.json" in warning and "the machine page shows no training summary" in warning


def test_machine_page_links_the_models_report_once_trainer_report_wrote_it(tmp_path):
    model = tmp_path / "models" / "blog"
    model.mkdir(parents=True)
    (model / "config.json").write_text("{}")
    settings = read({"PATH": str(tmp_path / "content"), "DAILY_POST_MODEL": "models/blog"})
    assert machine.describe(settings)["report_url"] is None  # no report yet: no link to a 404
    (model / "report.html").write_text("<!doctype html><title>report</title>")
    assert machine.describe(settings)["report_url"] is None  # published only as regenerated from report.json
    write_report(model)  # report.html, .md, .json, as `trainer report` writes them
    assert machine.describe(settings)["report_url"] == "machine/report.html"
    out = tmp_path / "output"
    assert machine.copy_machine_files(settings, out) == [out / "machine" / "report.html"]
    assert (out / "machine" / "report.html").read_bytes() == (model / "report.html").read_bytes()


def test_the_plugin_and_its_sibling_packages_import_as_installed_packages(tmp_path):
    """The project is pip-installed (make install): from a folder outside the checkout the plugin
    imports as pelican.plugins.this_post_does_not_exist, edits no sys.path, and the packages it
    imports resolve to this checkout; no top-level `plugin` is installed."""
    import subprocess
    import sys

    code = ("import sys; before = list(sys.path); import common, trainer\n"
            "import pelican.plugins.this_post_does_not_exist as p, pelican.plugins.this_post_does_not_exist.hooks\n"
            "import pelican.plugins.this_post_does_not_exist.backfill\n"
            "assert sys.path == before, 'sys.path changed'; print(p.__file__, common.__file__, trainer.__file__)\n"
            "try:\n    import plugin\nexcept ImportError:\n    pass\nelse:\n    raise SystemExit('a top-level plugin')")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert all(path.startswith(str(REPO)) for path in done.stdout.split()), done.stdout


def test_a_missing_model_names_commands_that_exist_in_the_users_setup(tmp_path):
    """`make demo-model` only where the site's Makefile has that target (this repository);
    elsewhere the commands every installation has."""
    from plugin.generate import ModelMissing, load_sampler

    model = tmp_path / "models" / "blog"
    with pytest.raises(ModelMissing) as missing:
        load_sampler(model)
    message = str(missing.value)
    assert "make" not in message and "`corpus-builder`" in message
    assert f"trainer fit --model smollm2 --until-step 48 --run {model}" in message
    (tmp_path / "Makefile").write_text("html:\n\tpelican content\n")  # pelican-quickstart's, no such target
    with pytest.raises(ModelMissing) as missing:
        load_sampler(tmp_path / "models" / "demo", demo=True)
    assert "make demo-model" not in str(missing.value)
    (tmp_path / "Makefile").write_text("demo-model:\n\ttrainer fit\n")
    with pytest.raises(ModelMissing) as missing:
        load_sampler(tmp_path / "models" / "demo", demo=True)
    assert "`make demo-model` builds the demo model" in str(missing.value)
