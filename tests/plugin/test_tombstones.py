"""A post the owner deletes stays deleted (issue 14, item 9).

Deleting a bad generated post made the next build write the very same post again (same date, same
seed). Now deleting it, or marking it ``Status: hidden``/``draft``, records a tombstone in
``content/generated/daily-posts.json``: the next build for that day draws another seed, or with
``DAILY_POST_DELETED = "skip"`` leaves the day empty; backfill does the same; and a first build or a
fresh clone never takes missing files for deletions.
"""
from __future__ import annotations

import json
import logging
import subprocess

import pytest
from click.testing import CliRunner
from plugin_site import REPO, STUB_TITLE, build, site_settings

from plugin import backfill as backfill_module
from plugin import tombstones
from plugin.dates import seed_for

DAY = "2026-03-14"


def _folder(site):
    return site / "content" / "generated"


def _posts(site):
    return sorted(_folder(site).glob("*.md"))


def _record(site):
    return json.loads((_folder(site) / tombstones.RECORD_NAME).read_text(encoding="utf-8"))


def _header(path, key):
    for line in path.read_text(encoding="utf-8").split("\n\n", 1)[0].splitlines():
        if line.startswith(f"{key}: "):
            return line.split(": ", 1)[1]
    return None


def _first_post(site, stub_sampler):
    build(site_settings(site))
    [post] = _posts(site)
    assert int(_header(post, "Seed")) == stub_sampler.calls[0]
    return post


def test_a_deleted_post_is_redrawn_with_another_seed_and_a_tombstone(site, stub_sampler, fixed_day):
    post = _first_post(site, stub_sampler)
    first_seed, slug = stub_sampler.calls[0], _header(post, "Slug")
    post.unlink()

    build(site_settings(site))

    [again] = _posts(site)
    assert len(stub_sampler.calls) == 2
    second_seed = stub_sampler.calls[1]
    assert second_seed != first_seed  # not the very same post again
    assert int(_header(again, "Seed")) == second_seed and _header(again, "Date").startswith(DAY)
    [stone] = _record(site)["tombstones"]
    assert stone["date"] == DAY and stone["seed"] == first_seed and stone["slug"] == slug
    assert stone["file"] == post.name and stone["reason"] == "deleted"
    assert stone["weights_sha256"] == "0" * 64 and stone["noticed"] == DAY
    out = site / "output"
    assert STUB_TITLE in (out / "index.html").read_text(encoding="utf-8")

    # the next build changes nothing: the redrawn post is the day's post
    before = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    build(site_settings(site))
    assert len(stub_sampler.calls) == 2
    assert {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()} == before


def test_redraws_are_deterministic_and_never_reuse_a_buried_seed(site, stub_sampler, fixed_day, tmp_path):
    from plugin_site import daily_settings, write_site

    for _ in range(3):  # write, delete, write, delete, write
        build(site_settings(site))
        if len(stub_sampler.calls) < 3:
            [post] = _posts(site)
            post.unlink()
    assert len(stub_sampler.calls) == 3 and len(set(stub_sampler.calls)) == 3
    day = fixed_day
    settings = daily_settings(site)
    assert stub_sampler.calls[0] == seed_for(day, settings)
    assert stub_sampler.calls[1:] == [tombstones.redraw_seed(day, settings, 1), tombstones.redraw_seed(day, settings, 2)]
    assert [t["reason"] for t in _record(site)["tombstones"]] == ["deleted", "deleted"]

    # another machine building a copy of the site (the record travels with the posts) agrees
    other = tmp_path / "clone"
    write_site(other)
    _folder(other).mkdir()
    for path in _folder(site).iterdir():
        if not path.name.startswith("."):
            (_folder(other) / path.name).write_bytes(path.read_bytes())
    [post] = _posts(other)
    post.unlink()
    build(site_settings(other))
    seed = tombstones.redraw_seed(day, settings, 3)
    assert stub_sampler.calls[-1] == seed and int(_header(_posts(other)[0], "Seed")) == seed


@pytest.mark.parametrize("status", ["hidden", "draft"])
def test_a_post_marked_hidden_or_draft_gets_a_tombstone_and_its_day_another_post(site, stub_sampler, fixed_day,
                                                                                 status):
    post = _first_post(site, stub_sampler)
    text = post.read_text(encoding="utf-8").replace("Generated: true\n", f"Generated: true\nStatus: {status}\n")
    post.write_text(text, encoding="utf-8")

    build(site_settings(site))

    assert post.read_text(encoding="utf-8") == text  # the owner's file stays as they left it
    posts = _posts(site)
    assert len(posts) == 2 and len(stub_sampler.calls) == 2
    [new] = [p for p in posts if p != post]
    assert int(_header(new, "Seed")) == stub_sampler.calls[1] != stub_sampler.calls[0]
    assert _header(new, "Slug") != _header(post, "Slug")
    [stone] = _record(site)["tombstones"]
    assert stone["reason"] == status and stone["seed"] == stub_sampler.calls[0] and stone["file"] == post.name
    index = (site / "output" / "index.html").read_text(encoding="utf-8")
    assert _header(new, "Slug") in index and f'{_header(post, "Slug")}.html' not in index

    build(site_settings(site))  # recorded once, written once
    assert len(stub_sampler.calls) == 2 and len(_record(site)["tombstones"]) == 1


def test_skip_leaves_the_day_of_a_deleted_post_empty(site, stub_sampler, fixed_day, caplog, monkeypatch):
    from plugin import generate

    post = _first_post(site, stub_sampler)
    post.unlink()
    loads = []
    monkeypatch.setattr(generate, "load_sampler", lambda *a, **k: loads.append(a) or stub_sampler)
    caplog.set_level(logging.WARNING)

    build(site_settings(site, DAILY_POST_DELETED="skip"))
    build(site_settings(site, DAILY_POST_DELETED="skip"))

    assert _posts(site) == [] and loads == [] and len(stub_sampler.calls) == 1  # no model, no post
    assert [t["reason"] for t in _record(site)["tombstones"]] == ["deleted"]
    assert not [r for r in caplog.records if r.name.startswith("plugin")]  # the owner's choice: no warning
    assert STUB_TITLE not in (site / "output" / "index.html").read_text(encoding="utf-8")


def test_a_renamed_post_is_not_a_deleted_one(site, stub_sampler, fixed_day):
    post = _first_post(site, stub_sampler)
    post.rename(post.with_name(f"{DAY}-my-own-name.md"))
    build(site_settings(site))
    assert len(stub_sampler.calls) == 1 and _record(site)["tombstones"] == []


def test_a_first_build_or_a_clone_without_the_record_sees_no_deletions(site, stub_sampler, fixed_day):
    """Posts from before the record existed: nothing is taken for deleted, today's post is the
    day's own seed, and the record adopts them, so a later deletion is noticed."""
    _folder(site).mkdir()
    old = _folder(site) / "2026-03-10-older.md"
    old.write_text("Title: Older\nDate: 2026-03-10 06:00\nGenerated: true\nSeed: 77\n\nAn older post.\n",
                   encoding="utf-8")

    build(site_settings(site))

    assert stub_sampler.calls == [seed_for(fixed_day, _daily(site))]
    record = _record(site)
    assert record["tombstones"] == [] and [p["file"] for p in record["posts"]] == [old.name, _posts(site)[1].name]
    old.unlink()  # now it is a deletion (a day outside the build's range: recorded, nothing written)
    build(site_settings(site))
    assert [t["file"] for t in _record(site)["tombstones"]] == [old.name] and len(stub_sampler.calls) == 1


def _daily(site):
    from plugin_site import daily_settings

    return daily_settings(site)


def test_a_record_without_any_of_its_posts_is_not_read_as_deletions(site, stub_sampler, fixed_day, caplog):
    """A clone (or a moved folder) with the record but none of the posts: a warning, no tombstones,
    and today's post is the one the day always had."""
    _folder(site).mkdir()
    posts = [{"date": f"2026-03-{d}", "file": f"2026-03-{d}-post.md", "slug": "post", "seed": d,
              "weights_sha256": ""} for d in (11, 12, 13)]
    (_folder(site) / tombstones.RECORD_NAME).write_text(json.dumps({"posts": posts, "tombstones": []}),
                                                        encoding="utf-8")
    caplog.set_level(logging.WARNING)

    build(site_settings(site))

    assert stub_sampler.calls == [seed_for(fixed_day, _daily(site))]
    assert _record(site)["tombstones"] == []
    [warning] = [r.getMessage() for r in caplog.records if r.name.startswith("plugin")]
    assert "none of the 3 posts" in warning and "not for deleted ones" in warning


def test_a_broken_record_stops_new_posts_with_one_warning_and_stays_as_it_is(site, stub_sampler, fixed_day, caplog):
    _folder(site).mkdir()
    record = _folder(site) / tombstones.RECORD_NAME
    record.write_text("{ not json", encoding="utf-8")
    caplog.set_level(logging.WARNING)

    build(site_settings(site))

    assert record.read_text(encoding="utf-8") == "{ not json" and _posts(site) == [] and stub_sampler.calls == []
    [warning] = [r.getMessage() for r in caplog.records if r.name.startswith("plugin")]
    assert f"no post for {DAY}" in warning and "is not valid JSON" in warning and "\n" not in warning


def _conf(site, **extra):
    conf = site / "pelicanconf.py"
    lines = ['SITENAME = "Test Station"', 'TIMEZONE = "Europe/Stockholm"', 'PATH = "content"',
             'ARTICLE_PATHS = ["posts", "generated"]', 'PAGE_PATHS = ["pages"]',
             f'DAILY_POST_MODEL = {str(site / "m")!r}'] + [f"{k} = {v!r}" for k, v in extra.items()]
    conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(conf)


@pytest.mark.parametrize("mode", ["redraw", "skip"])
def test_backfill_respects_tombstones(site, stub_sampler, mode):
    args = ["-s", _conf(site, DAILY_POST_DELETED=mode), "--days", "2", "--date", DAY]
    result = CliRunner().invoke(backfill_module.main, args)
    assert result.exit_code == 0, result.output
    [deleted] = [p for p in _posts(site) if p.name.startswith("2026-03-13")]
    deleted.unlink()

    result = CliRunner().invoke(backfill_module.main, args)

    assert result.exit_code == 0, result.output
    thirteenth = [p for p in _posts(site) if p.name.startswith("2026-03-13")]
    if mode == "redraw":
        assert len(thirteenth) == 1 and len(stub_sampler.calls) == 4
        assert int(_header(thirteenth[0], "Seed")) == stub_sampler.calls[3] != stub_sampler.calls[1]
        assert "1 post(s) written, 0 failed" in result.output
    else:
        assert thirteenth == [] and len(stub_sampler.calls) == 3
        assert "0 post(s) written, 0 failed" in result.output and "left empty: 2026-03-13" in result.output
    [stone] = _record(site)["tombstones"]
    assert stone["date"] == "2026-03-13" and stone["reason"] == "deleted"


def test_the_record_is_kept_under_version_control_with_the_posts():
    """Not a hidden file: `make daily-commit` commits content/generated/ but its hidden files, and
    this repository's .gitignore leaves it in (the owner's decisions must reach a fresh clone)."""
    assert not tombstones.RECORD_NAME.startswith(".")
    path = f"content/generated/{tombstones.RECORD_NAME}"
    ignored = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=REPO)
    assert ignored.returncode == 1, f"{path} is ignored by .gitignore"


def test_the_plugins_own_files_are_never_published_even_from_static_paths(site, stub_sampler, fixed_day):
    """A site whose STATIC_PATHS cover the generated folder would copy the lock and the record
    (which names the posts the owner took down) into the output: they stay private."""
    build(site_settings(site, STATIC_PATHS=[""]))
    generated = site / "content" / "generated"
    assert (generated / tombstones.RECORD_NAME).is_file() and (generated / ".daily-post.lock").exists()
    (generated / ".2026-03-14-x.md.abcd1234.tmp").write_text("half a post")
    build(site_settings(site, STATIC_PATHS=[""]))
    published = {p.name for p in (site / "output").rglob("*")}
    assert "index.html" in published and any(name.endswith(".png") or name.endswith(".html") for name in published)
    assert not published & {tombstones.RECORD_NAME, ".daily-post.lock", ".2026-03-14-x.md.abcd1234.tmp"}
