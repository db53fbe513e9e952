"""Issue 7, items 2 and 3: builds killed while the plugin samples or writes, and builds that race.

Each build is a child process (``stub_build.py``: Pelican with the plugin, the model replaced by a
stub that takes a while to "sample" a post of a few hundred KB whose last line is END-OF-POST).

Killed builds: SIGKILL while the stub samples, while the post's temporary file exists (the write),
and at random moments of the build. After every kill the generated folder holds no partial or
empty post and at most one post for the day; the next, unkilled build completes the day's post.
Fast variant: 5 kills; ``RELIABILITY_FULL=1``: 20.

Concurrent builds: 4 builds of the same site started together for the same day: exactly one post
file, and every build either succeeds or fails with one clear line (no traceback).
"""
from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from reliability_harness import FULL, PYTHON, child_env

import stub_build

HERE = Path(__file__).resolve().parent
DAY = "2026-03-14"
KILLS = 20 if FULL else 5
TIMEOUT = 300


def start_build(site: Path, delay: float, body_kb: int = 512) -> subprocess.Popen:
    args = [PYTHON, str(HERE / "stub_build.py"), str(site), "--day", DAY, "--delay", str(delay),
            "--body-kb", str(body_kb)]
    return subprocess.Popen(args, cwd=site, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def generated(site: Path) -> Path:
    return site / "content" / "generated"


def posts_for_day(site: Path) -> list[Path]:
    folder = generated(site)
    return sorted(p for p in folder.glob(f"{DAY}-*.md")) if folder.is_dir() else []


def temp_files(site: Path) -> list[Path]:
    folder = generated(site)
    return sorted(p for p in folder.glob(".*.tmp")) if folder.is_dir() else []


def check_posts(site: Path) -> None:
    """No partial, empty or duplicate post for the day; every visible post file is whole."""
    posts = posts_for_day(site)
    assert len(posts) <= 1, f"duplicate posts: {[p.name for p in posts]}"
    for path in posts:
        text = path.read_text(encoding="utf-8")
        assert text.startswith("Title: "), f"{path.name} has no header: {text[:80]!r}"
        assert text.rstrip().endswith(stub_build.END), f"{path.name} is partial ({len(text)} chars)"


def wait_for(child: subprocess.Popen, condition, timeout: float) -> bool:
    start = time.monotonic()
    while child.poll() is None and time.monotonic() - start < timeout:
        if condition():
            return True
        time.sleep(0.0005)
    return False


@pytest.fixture
def site(tmp_path):
    stub_build.write_site(tmp_path)
    return tmp_path


def test_killed_builds_leave_no_partial_or_duplicate_post(site):
    rng = random.Random(14)
    history = []
    # A first unkilled build with today's post missing tells how long a build takes.
    probe = site / "probe"
    stub_build.write_site(probe)
    started = time.monotonic()
    child = start_build(probe, delay=0.3)
    out, err = child.communicate(timeout=TIMEOUT)
    build_seconds = time.monotonic() - started
    assert child.returncode == 0, err.decode()[-2000:]

    modes = ["sampling", "writing", "random"]
    kills = attempts = 0
    while kills < KILLS and attempts < KILLS * 3:
        attempts += 1
        mode = modes[kills % len(modes)]
        for post in posts_for_day(site):  # start each kill with the day's post missing
            post.unlink()
        old_temps = set(temp_files(site))
        child = start_build(site, delay=rng.uniform(0.2, 0.6))
        sampling = site / f".sampling-{child.pid}"
        if mode == "sampling":
            hit = wait_for(child, sampling.exists, TIMEOUT)
            time.sleep(rng.uniform(0.0, 0.15))
        elif mode == "writing":  # the post's temporary file exists: atomic_create_text is writing
            hit = wait_for(child, lambda: bool(set(temp_files(site)) - old_temps), TIMEOUT)
        else:
            hit = wait_for(child, lambda: False, rng.uniform(0.1, 1.0) * build_seconds) or child.poll() is None
        if child.poll() is None and hit:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.communicate(timeout=TIMEOUT)
        history.append({"mode": mode, "killed": child.returncode == -signal.SIGKILL,
                        "post_after": [p.name for p in posts_for_day(site)], "temp_files": len(temp_files(site))})
        check_posts(site)
    assert kills >= min(KILLS, 3), history

    # The next build completes the day's post (and a second one leaves it as it is).
    child = start_build(site, delay=0.0)
    out, err = child.communicate(timeout=TIMEOUT)
    assert child.returncode == 0, err.decode()[-2000:]
    check_posts(site)
    posts = posts_for_day(site)
    assert len(posts) == 1
    first = posts[0].read_bytes()
    child = start_build(site, delay=0.0)
    child.communicate(timeout=TIMEOUT)
    assert child.returncode == 0
    assert posts_for_day(site) == posts and posts[0].read_bytes() == first
    assert list((site / "output").rglob(posts[0].stem.split("-", 3)[-1] + ".html"))
    print(json.dumps({"kills": kills, "attempts": attempts, "build_s": round(build_seconds, 1),
                      "posts_left_by_kills": sum(1 for h in history if h["post_after"]),
                      "temp_files_left": len(temp_files(site)), "history": history}))


def test_four_concurrent_builds_write_one_post(site):
    children = [start_build(site, delay=0.5) for _ in range(4)]
    outputs = [child.communicate(timeout=TIMEOUT) for child in children]
    results = [(child.returncode, out.decode(), err.decode()) for child, (out, err) in zip(children, outputs)]
    for code, out, err in results:
        assert "Traceback" not in err, err[-3000:]
        if code != 0:  # a clean failure: one error line, nothing half-done
            errors = [line for line in err.splitlines() if "ERROR" in line or "Error" in line]
            assert errors, err[-2000:]
    posts = posts_for_day(site)
    assert len(posts) == 1, [p.name for p in posts]
    check_posts(site)
    print(json.dumps({"exit_codes": [r[0] for r in results], "posts": [p.name for p in posts]}))
