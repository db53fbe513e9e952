"""A hung build never blocks publishing forever (issue 14, item 7).

Regression: a build that holds the lock and stops (SIGSTOP, a hung network file system) is alive,
so the kernel keeps its lock, and the next build waited for it for ever, saying nothing. Now a build
that finds the lock held says so at once (a warning naming the lock file and that another build
holds it), waits at most DAILY_POST_LOCK_TIMEOUT seconds (default 600), then builds the site
without a new post: one warning (DAILY_POST_STRICT = True: the build fails with one line).

The holder is always another process, as in a real pair of builds: a process holding the lock with
``plugin.store.folder_lock`` (each lock implementation of plugin_site.LOCK_CLASSES), and a whole
Pelican build stopped with SIGSTOP while it holds the lock.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from plugin_site import HERE, LOCK_CLASSES, REPO, build, run_build_subprocess, site_settings, use_lock

from plugin import store
from plugin.daily import DailyPostError

WAIT = 1.5  # DAILY_POST_LOCK_TIMEOUT in these tests, seconds

# python -c HOLDER LOCK_CLASS FOLDER SECONDS: take folder_lock, print "held", keep it SECONDS (or
# until killed), then let go.
HOLDER = f"""
import sys, time
from pathlib import Path
sys.path.insert(0, {str(HERE)!r})
import plugin_site
plugin_site.use_lock(sys.argv[1])
from plugin import store
with store.folder_lock(Path(sys.argv[2])):
    print("held", flush=True)
    time.sleep(float(sys.argv[3]))
"""


@pytest.fixture(autouse=True)
def fresh_log_filter(monkeypatch):
    """Pelican's LimitFilter drops a warning it has seen once in this process."""
    from pelican.log import LimitFilter

    monkeypatch.setattr(LimitFilter, "_raised_messages", set())


@pytest.fixture
def holder(tmp_path):
    """Start a process that holds the lock of a folder: holder(lock, folder, seconds)."""
    started: list[subprocess.Popen] = []

    def start(lock: str, folder: Path, seconds: float = 600) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-c", HOLDER, lock, str(folder), str(seconds)], cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        started.append(proc)
        line = proc.stdout.readline()
        assert line.strip() == "held", line + proc.stdout.read()
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=60)


def _plugin_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name.startswith("plugin") and r.levelno >= logging.WARNING]


@pytest.mark.parametrize("lock", LOCK_CLASSES)
def test_a_held_lock_is_waited_for_with_a_limit_then_the_site_builds(site, stub_sampler, fixed_day, caplog,
                                                                     monkeypatch, holder, lock):
    use_lock(lock, monkeypatch)
    folder = site / "content" / "generated"
    holder(lock, folder)
    caplog.set_level(logging.WARNING)
    started = time.monotonic()
    build(site_settings(site, DAILY_POST_LOCK_TIMEOUT=WAIT))  # before the fix: waits for ever
    waited = time.monotonic() - started
    assert WAIT <= waited < WAIT + 60
    waiting, failure = _plugin_warnings(caplog)
    lock_file = folder / store.LOCK_NAME
    # said when the wait started: which lock file, that another build holds it, for how long at most
    assert waiting.startswith(f"daily post: another build holds the lock {lock_file}")
    assert f"waiting up to {WAIT:g} s for it (DAILY_POST_LOCK_TIMEOUT)" in waiting
    # then one warning: no post, and why
    assert failure.startswith(f"daily post: no post for {fixed_day}: another build has held the lock "
                              f"{lock_file} for more than {WAIT:g} s (DAILY_POST_LOCK_TIMEOUT)")
    assert "The site was built without it" in failure and "\n" not in failure
    assert stub_sampler.calls == [] and sorted(folder.glob("*.md")) == []
    assert "A wet morning" in (site / "output" / "index.html").read_text(encoding="utf-8")


def test_in_strict_mode_the_timeout_fails_the_build_in_one_line(site, stub_sampler, fixed_day, holder):
    holder("FileLock", site / "content" / "generated")
    with pytest.raises(DailyPostError) as failure:
        build(site_settings(site, DAILY_POST_LOCK_TIMEOUT=WAIT, DAILY_POST_STRICT=True))
    message = str(failure.value)
    assert "another build has held the lock" in message and "\n" not in message
    assert message.endswith("the build fails because DAILY_POST_STRICT = True")


def test_a_lock_let_go_within_the_limit_is_taken_and_the_post_written(site, stub_sampler, fixed_day, caplog,
                                                                      holder):
    folder = site / "content" / "generated"
    holder("FileLock", folder, seconds=2)
    caplog.set_level(logging.WARNING)
    build(site_settings(site))  # the default limit: 600 s
    [waiting] = _plugin_warnings(caplog)  # the wait is said; no failure
    assert "another build holds the lock" in waiting and "waiting up to 600 s" in waiting
    assert len(stub_sampler.calls) == 1 and len(list(folder.glob("*.md"))) == 1


def test_a_free_lock_is_taken_without_a_word(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    with store.folder_lock(tmp_path / "generated", timeout=0):
        pass
    assert [r for r in caplog.records if r.name.startswith("plugin")] == []


def test_a_timeout_of_zero_gives_up_at_once(tmp_path, holder):
    folder = tmp_path / "generated"
    holder("FileLock", folder)
    started = time.monotonic()
    with pytest.raises(store.LockTimeout, match="for more than 0 s"):
        with store.folder_lock(folder, timeout=0):
            pytest.fail("took a lock another process holds")
    assert time.monotonic() - started < 5


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="SIGSTOP is POSIX")
def test_a_stopped_build_holding_the_lock_does_not_block_the_next_one(site, fixed_day):
    """A real build, stopped (SIGSTOP) while it samples, holding the lock; the next build, its own
    process, waits DAILY_POST_LOCK_TIMEOUT seconds, then builds the site without a post."""
    import fcntl

    env = {"DAILY_POST_DATE": fixed_day.isoformat(), "COLUMNS": "1000"}
    first = run_build_subprocess(site, {}, env_extra=env, stub=True, delay=600)
    try:
        lock_file = site / "content" / "generated" / store.LOCK_NAME
        deadline = time.monotonic() + 120
        while True:  # until the first build holds the lock (it sleeps "sampling" then)
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first build never took the lock"
            if lock_file.exists():
                with open(lock_file, "a") as handle:
                    try:
                        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        fcntl.flock(handle, fcntl.LOCK_UN)
                    except BlockingIOError:
                        break
            time.sleep(0.1)
        os.kill(first.pid, signal.SIGSTOP)
        second = run_build_subprocess(site, {"DAILY_POST_LOCK_TIMEOUT": WAIT}, env_extra=env, stub=True)
        out, err = second.communicate(timeout=180)
    finally:
        first.kill()
        first.communicate(timeout=60)
    output = " ".join((out + err).split())
    assert second.returncode == 0 and "Traceback" not in output, output
    assert f"daily post: another build holds the lock {lock_file}" in output, output
    assert output.count("daily post: no post for") == 1, output
    assert f"another build has held the lock {lock_file} for more than {WAIT:g} s" in output, output
    assert (site / "output" / "index.html").is_file()
    assert sorted((site / "content" / "generated").glob("*.md")) == []


def test_the_waiting_build_names_the_lock_file_it_waits_for(tmp_path, holder, caplog):
    """The path in the message is the lock file itself, the one a person would look at."""
    folder = tmp_path / "deep" / "generated"
    holder("FileLock", folder)
    caplog.set_level(logging.WARNING)
    with pytest.raises(store.LockTimeout):
        with store.folder_lock(folder, timeout=0.2):
            pass
    [waiting] = [r.getMessage() for r in caplog.records if r.name == "plugin.store"]
    assert str(Path(folder / ".daily-post.lock")) in waiting
