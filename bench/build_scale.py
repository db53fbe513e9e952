"""Benchmark: a site with thousands of machine posts and a year-long review queue, built and reviewed.

    .venv/bin/python bench/build_scale.py [--posts 3000] [--reps 3] [--profile] [--model RUN_FOLDER]

Copies the demo site (content/, theme/, pelicanconf.py) to temporary folders and writes machine
posts with plugin.store, one a day going back from yesterday, plus today's post (so no build has
anything to generate: no model, no torch; the machine page describes a stub run folder unless
--model names one; every seventh post has stars). Times `python -m pelican` (wall, and CPU of the child),
alternating the variants, medians of --reps:
  - the site with N posts, plugin on, against the same site with only today's post (the baseline
    the issue names) and against N posts with `-e PLUGINS=[]`;
  - the same at N/10 posts: the ratio of the times, and the cost per post, show the growth;
  - a review queue of 365 days written by plugin.review_queue.fill_queue (its sampler faked):
    the review page's list and HTML (review_actions.items + review_page.render, what the review
    server does for GET /), and a build with DAILY_POST_REVIEW = True with the queue against one
    with an empty review folder (today's post not yet approved, so the build reads the queue).
--profile adds one in-process build of the N-post site under cProfile: the cumulative seconds of
each receiver (plugin/hooks.py, on_*) and of the functions of best_of, another and showcase.
Prints one JSON object: every figure, the ratios, the sizes of machine/posts.json and
machine/best.html, the number of HTML files written, and the machine (CPU, flags, versions).
"""
from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import importlib.metadata
import io
import itertools
import json
import os
import platform
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]  # `plugin` as this checkout's site loads it; build.py

from build import prepare_site, time_build  # noqa: E402  (bench/build.py: the site copy, today's post, a timed build)

QUEUE_DAYS = 365
OPTIONAL_MODULES = ("best_of", "another", "showcase")  # profiled when present (new features)
WORDS = ("The wind backed to the south-west and the gauge read {n} millimetres by noon.",
         "Gull number {k} sat on the anemometer again, which costs us a gust reading.",
         "Pressure fell {k} hectopascals overnight; the logger kept every sample.",
         "By evening the roof was dry and the humidity sensor agreed, for once.",
         "I replaced the zip ties on the mast; the old ones had gone brittle in the sun.")


def machine_post(title: str, number: int, seed: int) -> SimpleNamespace:
    """A post object as the sampler returns one (render_post reads these attributes)."""
    sentences = [WORDS[(number + i) % len(WORDS)].format(n=number % 37, k=number + i) for i in range(12)]
    body = "\n\n".join(" ".join(sentences[i:i + 3]) for i in range(0, 12, 3))
    return SimpleNamespace(title=title, seed=seed, model={"name": "bench"}, body=body, settings={}, gate={})


def write_machine_posts(folder: Path, today: dt.date, count: int) -> None:
    from plugin import store
    from plugin.settings import DailyPostSettings

    settings = DailyPostSettings.from_pelican({"SITENAME": "bench", "TIMEZONE": "UTC"})
    for number in range(1, count + 1):
        day, title = today - dt.timedelta(days=number), f"Notes from the gauge, number {number}"
        slug = store.slugify_title(title, settings)
        store.write_post(folder / "content" / "generated", day, slug,
                         store.render_post(machine_post(title, number, number), day, slug, settings))


def make_site(folder: Path, today: dt.date, count: int) -> Path:
    """The demo site with ``count`` machine posts before today's; every seventh day starred (1-5
    stars, as an owner would star a few), so "Best of the machine" and the index weights have work."""
    from plugin.review_decisions import NAME, empty, new_entry, save

    prepare_site(folder, today)  # the site and today's post
    write_machine_posts(folder, today, count)
    decisions = empty()
    for number in range(7, count + 1, 7):
        day = today - dt.timedelta(days=number)
        decisions["days"][day.isoformat()] = {**new_entry(number, "approved"), "stars": 1 + number % 5}
    save(folder / "review" / NAME, decisions)
    return folder


def stub_model(folder: Path) -> Path:
    """A run folder the machine page can describe (no weights: no build here generates a post)."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}", encoding="utf-8")
    (folder / "train.json").write_text(json.dumps({"base_model": "gpt2", "steps": 1000, "val_loss": 3.1}),
                                       encoding="utf-8")
    return folder


def fill_review_queue(folder: Path, today: dt.date) -> int:
    """QUEUE_DAYS queued posts from today on, written by the project's own fill_queue (sampler faked)."""
    from plugin import generate, review_queue
    from plugin.settings import DailyPostSettings

    drawn = itertools.count(1)

    def sample(sampler, seed, settings):
        number = next(drawn)
        return SimpleNamespace(post=machine_post(f"Forecast for the roof, draft {number}", number, seed))

    generate.sample = sample  # in this process only: no model, no torch
    settings = DailyPostSettings.from_file(str(folder / "pelicanconf.py"))
    outcome = review_queue.fill_queue(settings, QUEUE_DAYS - 1, today=today, sampler=object())
    assert not outcome.failures, outcome.failures
    return len(outcome.written)


def time_review_page(folder: Path, reps: int) -> dict:
    """What the review server does for its page: list the items, render the HTML."""
    from plugin import review_actions, review_page
    from plugin.settings import DailyPostSettings

    settings = DailyPostSettings.from_file(str(folder / "pelicanconf.py"))
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        items = review_actions.items(settings)
        page = review_page.render(items, "token", "nonce", str(settings.review_folder))
        times.append(time.perf_counter() - start)
    states = sorted({item.state for item in items})
    return {"items": len(items), "states": states, "page_bytes": len(page.encode("utf-8")),
            "list_and_render_median_s": round(statistics.median(times), 3)}


def profile_build(folder: Path, model: str) -> dict:
    """One in-process build under cProfile: cumulative seconds of the plugin's receivers."""
    import logging

    from pelican import Pelican
    from pelican.settings import read_settings

    import plugin

    logging.basicConfig(level=logging.ERROR)
    settings = read_settings(str(folder / "pelicanconf.py"),
                             override={"OUTPUT_PATH": str(folder / "out-profile"), "DAILY_POST_MODEL": model})
    profiler, cwd = cProfile.Profile(), os.getcwd()
    os.chdir(folder)
    try:
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # Pelican's "Done: ..." line: stdout is the JSON
            profiler.runcall(lambda: Pelican(settings).run())
        total = time.perf_counter() - start
    finally:
        os.chdir(cwd)
    package = Path(plugin.__file__).resolve().parent
    found: dict[str, dict] = {}
    for (file, _line, name), (_cc, calls, _tt, cumulative, _callers) in pstats.Stats(profiler).stats.items():
        path = Path(file)
        if path.parent != package or name.startswith("<"):
            continue
        if (path.stem == "hooks" and name.startswith("on_")) or path.stem in OPTIONAL_MODULES:
            found[f"{path.stem}.{name}"] = {"calls": calls, "cumulative_s": round(cumulative, 4)}
    receivers = {k: v for k, v in found.items() if k.startswith("hooks.")}
    return {"build_under_profiler_s": round(total, 3),
            "receivers_total_s": round(sum(v["cumulative_s"] for v in receivers.values()), 3),
            "functions": dict(sorted(found.items(), key=lambda kv: -kv[1]["cumulative_s"])),
            "modules_absent": [m for m in OPTIONAL_MODULES if not (package / f"{m}.py").exists()]}


def machine_info() -> dict:
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    fields = {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in text.splitlines())}
    flags = set(fields.get("flags", "").split())
    return {"cpu_model": fields.get("model name", platform.processor()), "cpu_count": os.cpu_count(),
            "flags": {"avx2": "avx2" in flags, "avx512f": "avx512f" in flags,
                      "avx512_bf16": "avx512_bf16" in flags, "amx": sorted(f for f in flags if f.startswith("amx"))},
            "python": platform.python_version(), "pelican": importlib.metadata.version("pelican")}


def file_size(path: Path) -> int | None:
    return path.stat().st_size if path.is_file() else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=3000, help="machine posts on the big site")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="add one cProfile'd in-process build")
    parser.add_argument("--model", default=None,
                        help="model folder the plugin describes on the machine page (default: a stub run folder)")
    args = parser.parse_args()
    today, small = dt.date.today(), max(1, args.posts // 10)
    pythonpath = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, DAILY_POST_DATE=today.isoformat(), PYTHONPATH=pythonpath)
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        root = Path(tmp)
        model_value = json.dumps(str(Path(args.model).resolve() if args.model else stub_model(root / "model")))
        plugin_on, plugin_off = ["-e", f"DAILY_POST_MODEL={model_value}"], ["-e", "PLUGINS=[]"]
        review_on = [*plugin_on, "-e", "DAILY_POST_REVIEW=true"]
        big = make_site(root / "big", today, args.posts)
        base = make_site(root / "base", today, 0)
        tenth = make_site(root / "tenth", today, small)
        queued = root / "queued"  # the big site, today's post not yet approved: in the review queue
        shutil.copytree(big, queued)
        for path in (queued / "content" / "generated").glob(f"{today.isoformat()}-*.md"):
            path.unlink()
        queued_files = fill_review_queue(queued, today)
        variants = {
            "posts_plugin": (big, plugin_on), "no_posts_plugin": (base, plugin_on), "posts_no_plugin": (big, plugin_off),
            "tenth_plugin": (tenth, plugin_on), "tenth_no_plugin": (tenth, plugin_off),
            "review_queue": (queued, review_on),
            "review_empty": (queued, [*review_on, "-e", 'DAILY_POST_REVIEW_FOLDER="review-empty"']),
        }
        for name, (folder, extra) in variants.items():  # warm the file cache and .pyc files
            time_build(folder, f"out-{name}", extra, env)
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        for rep in range(args.reps):
            order = list(variants) if rep % 2 == 0 else list(reversed(variants))
            for name in order:
                folder, extra = variants[name]
                runs[name].append(time_build(folder, f"out-{name}", extra, env))
        review_page = time_review_page(queued, max(args.reps, 3))
        out = big / "out-posts_plugin"
        output = {"html_files": sum(1 for _ in out.rglob("*.html")),
                  "posts_json_bytes": file_size(out / "machine" / "posts.json"),
                  "best_html_bytes": file_size(out / "machine" / "best.html")}
        profile = profile_build(big, json.loads(model_value)) if args.profile else None

    wall = {name: statistics.median(r[0] for r in runs[name]) for name in runs}
    cpu = {name: statistics.median(r[1] for r in runs[name]) for name in runs}

    def ratio(a: str, b: str) -> dict:
        return {"wall": round(wall[a] / wall[b], 3), "cpu": round(cpu[a] / cpu[b], 3)}

    def per_post_ms(name: str, count: int) -> float:  # build time each post adds, over the baseline
        return round((wall[name] - wall["no_posts_plugin"]) / count * 1000, 2)

    print(json.dumps({
        "benchmark": f"pelican build with {args.posts} machine posts vs none; review queue of {QUEUE_DAYS} days",
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "posts": args.posts, "posts_tenth": small, "reps": args.reps,
        "median_wall_s": {k: round(v, 3) for k, v in wall.items()},
        "median_cpu_s": {k: round(v, 3) for k, v in cpu.items()},
        "ratio_posts_vs_no_posts": ratio("posts_plugin", "no_posts_plugin"),
        "ratio_plugin_vs_off_with_posts": ratio("posts_plugin", "posts_no_plugin"),
        "ratio_plugin_vs_off_tenth": ratio("tenth_plugin", "tenth_no_plugin"),
        "growth_posts_vs_tenth": {"plugin": ratio("posts_plugin", "tenth_plugin"),
                                  "no_plugin": ratio("posts_no_plugin", "tenth_no_plugin")},
        "per_post_ms_over_baseline": {"posts": per_post_ms("posts_plugin", args.posts),
                                      "tenth": per_post_ms("tenth_plugin", small)},
        "review": {"queued_files": queued_files, **review_page,
                   "build_ratio_queue_vs_empty": ratio("review_queue", "review_empty")},
        "output_with_posts": output,
        "profile": profile,
        "machine": machine_info(),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
