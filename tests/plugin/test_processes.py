"""Builds in fresh processes: concurrent builds write one post; a build whose post exists imports
neither torch nor transformers; the plugin loads from PLUGIN_PATHS or as an installed package."""
from __future__ import annotations

import json

import pytest
from plugin_site import LOCK_CLASSES, run_build_subprocess

from plugin import store


def _finish(proc):
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    return out, err


@pytest.mark.parametrize("lock", LOCK_CLASSES)
def test_two_concurrent_builds_write_one_post(site, fixed_day, lock):
    """With the platform's lock and with filelock's SoftFileLock (plugin_site.LOCK_CLASSES says
    why not WindowsFileLock off Windows)."""
    env = {"DAILY_POST_DATE": fixed_day.isoformat()}
    # A slow "model" (2 s) so the second build starts while the first is still sampling, and a
    # different title in each process: without the lock each would write its own file.
    procs = [run_build_subprocess(site, {"OUTPUT_PATH": str(site / f"out{i}")}, env, stub=True,
                                  delay=2.0, title=f"Post from build {i}", lock=lock) for i in range(2)]
    for proc in procs:
        _finish(proc)
    generated = site / "content" / "generated"
    # the builds did lock with ``lock``: the OS locks keep their file, SoftFileLock deletes it
    assert (generated / store.LOCK_NAME).exists() == (lock != "SoftFileLock")
    [post] = sorted(generated.glob("*.md"))
    slug = post.name[len("2026-03-14-"):-len(".md")]
    assert slug in ("post-from-build-0", "post-from-build-1")
    for i in range(2):  # both builds publish the one post
        assert (site / f"out{i}" / f"{slug}.html").is_file()


def test_build_with_todays_post_present_imports_no_torch(site, fixed_day):
    env = {"DAILY_POST_DATE": fixed_day.isoformat()}
    _finish(run_build_subprocess(site, {}, env, stub=True))  # writes today's post
    # a fresh process, the plugin loaded as the installed namespace package (no PLUGIN_PATHS; under
    # an editable install Pelican's discovery does not list it, so it is named in full), post present
    settings = {"PLUGIN_PATHS": [], "PLUGINS": ["pelican.plugins.this_post_does_not_exist"]}
    out, _ = _finish(run_build_subprocess(site, settings, env, check_modules=True))
    assert json.loads(out.strip().splitlines()[-1]) == []
    assert (site / "output" / "wind-over-the-harbour.html").is_file()


def test_plugin_loads_from_plugin_paths_with_a_warning_when_model_missing(site, fixed_day):
    env = {"DAILY_POST_DATE": fixed_day.isoformat()}
    out, err = _finish(run_build_subprocess(site, {}, env))
    assert "no post for 2026-03-14" in err and "model folder not found" in err
    assert (site / "output" / "index.html").is_file()
