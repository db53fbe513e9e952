"""`make daily DAILY_COMMIT=1` (what cron and .github/workflows/daily.yml run) commits the new post.

The project's Makefile and .gitignore are copied into a fresh git repository; Pelican is replaced by
a script that leaves in content/generated/ what a build leaves there (the day's post, the lock
file, a killed build's temporary file), so the test runs the real recipe in a second, without a model.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from plugin_site import REPO

pytestmark = pytest.mark.skipif(not (shutil.which("git") and shutil.which("make")),
                                reason="needs git and make")

FAKE_PELICAN = """#!/bin/sh
# Called as `$(PELICAN) CONTENT -o OUTPUT -s CONF`: leaves what a build with the plugin leaves.
folder="$1/generated"
mkdir -p "$folder"
printf 'Title: Wind\\nGenerated: true\\n\\nThe wind turned at noon.\\n' > "$folder/$DAILY_POST_DATE-wind.md"
: > "$folder/.daily-post.lock"
: > "$folder/.$DAILY_POST_DATE-wind.md.k1ll3d00.tmp"
"""


def git(repo, *args) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def blog(tmp_path):
    """A clone of the blog: the Makefile, .gitignore and a pelicanconf.py, committed."""
    repo = tmp_path / "blog"
    repo.mkdir()
    shutil.copy2(REPO / "Makefile", repo / "Makefile")
    shutil.copy2(REPO / ".gitignore", repo / ".gitignore")
    (repo / "pelicanconf.py").write_text('PATH = "content"\nDAILY_POST_MODEL = "models/mine"\n')
    (repo / "content" / "posts").mkdir(parents=True)
    (repo / "content" / "posts" / "first.md").write_text("Title: First\n\nA human post.\n")
    pelican = tmp_path / "fake-pelican"
    pelican.write_text(FAKE_PELICAN)
    pelican.chmod(0o755)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the blog")
    return repo


def make_daily(repo, day: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DAILY_POST_DATE=day,
               PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1",
               GIT_AUTHOR_NAME="cron", GIT_AUTHOR_EMAIL="cron@example.org",
               GIT_COMMITTER_NAME="cron", GIT_COMMITTER_EMAIL="cron@example.org")
    return subprocess.run(["make", "daily", "DAILY_COMMIT=1", f"PY={sys.executable}",
                           f"PELICAN={repo.parent / 'fake-pelican'}"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=120)


def test_make_daily_commits_the_new_post_and_only_it(blog):
    result = make_daily(blog, "2026-03-14")
    assert result.returncode == 0, result.stdout + result.stderr
    assert git(blog, "log", "-1", "--format=%s").strip() == "Machine-written post of 2026-03-14"
    committed = git(blog, "show", "--name-only", "--format=", "HEAD").split()
    assert committed == ["content/generated/2026-03-14-wind.md"]
    tracked = git(blog, "ls-files").split()
    assert "content/generated/.daily-post.lock" not in tracked
    assert not any(name.endswith(".tmp") for name in tracked)
    assert git(blog, "diff", "--cached", "--name-only") == ""  # nothing left staged


def test_make_daily_again_the_same_day_commits_nothing_and_succeeds(blog):
    assert make_daily(blog, "2026-03-14").returncode == 0
    head = git(blog, "rev-parse", "HEAD")
    again = make_daily(blog, "2026-03-14")
    assert again.returncode == 0, again.stdout + again.stderr
    assert git(blog, "rev-parse", "HEAD") == head


def test_a_deleted_post_is_committed_with_the_next_days_post(blog):
    assert make_daily(blog, "2026-03-14").returncode == 0
    (blog / "content" / "generated" / "2026-03-14-wind.md").unlink()  # an embarrassing post
    result = make_daily(blog, "2026-03-15")
    assert result.returncode == 0, result.stdout + result.stderr
    changes = git(blog, "show", "--name-status", "--no-renames", "--format=", "HEAD").split("\n")
    assert sorted(filter(None, changes)) == ["A\tcontent/generated/2026-03-15-wind.md",
                                             "D\tcontent/generated/2026-03-14-wind.md"]
