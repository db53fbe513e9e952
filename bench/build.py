"""Benchmark: a site build with the plugin, today's post already present, against the plugin off.

    .venv/bin/python bench/build.py [--reps 7] [--model models/demo]

Copies the demo site (content/, theme/, pelicanconf.py) to a temporary folder, writes today's
generated post there (no model needed: this measures the "nothing to do" path), then times
`python -m pelican` with the plugin and with `-e PLUGINS=[]`, alternating, in the same run.
Prints one JSON object: both medians (wall and CPU time), their ratios, and the target (<= 1.10).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]  # the project is installed in .venv (make install)
sys.path.insert(0, str(REPO))  # the plugin folder as `plugin`, as this checkout's site loads it


def prepare_site(folder: Path, day: dt.date) -> None:
    for name in ("content", "theme"):
        shutil.copytree(REPO / name, folder / name, ignore=shutil.ignore_patterns("generated"))
    shutil.copy2(REPO / "pelicanconf.py", folder / "pelicanconf.py")
    from plugin import store
    from plugin.settings import DailyPostSettings

    settings = DailyPostSettings.from_pelican({"SITENAME": "bench", "TIMEZONE": "UTC"})
    post = SimpleNamespace(title="A post the machine wrote earlier", seed=1, model={"name": "demo"},
                           body="The wind came round to the north.\n\nThe gauge read four millimetres.",
                           settings={}, gate={})
    store.write_post(folder / "content" / "generated", day, "bench-post",
                     store.render_post(post, day, "bench-post", settings))


def time_build(folder: Path, output: str, extra: list[str], env: dict) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one `python -m pelican` build; exits with
    Pelican's errors when the build fails or cannot load the plugin (a figure of a broken build
    would mean nothing)."""
    cmd = [sys.executable, "-m", "pelican", "content", "-o", output, "-s", "pelicanconf.py", "-q", *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode or "Cannot load plugin" in done.stderr:
        sys.exit(f"build failed in {folder} ({' '.join(extra)}):\n{done.stderr[-3000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--model", default=str(REPO / "models" / "demo"),
                        help="model folder the plugin describes on the machine page")
    args = parser.parse_args()
    day = dt.date.today()
    env = dict(os.environ, DAILY_POST_DATE=day.isoformat())
    model = ["-e", f"DAILY_POST_MODEL={json.dumps(str(Path(args.model).resolve()))}"]
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        folder = Path(tmp)
        prepare_site(folder, day)
        runs = {"plugin": [], "disabled": []}
        time_build(folder, "out-warmup", model, env)  # warm the file cache and .pyc files
        for rep in range(args.reps):
            order = ["plugin", "disabled"] if rep % 2 == 0 else ["disabled", "plugin"]
            for kind in order:
                extra = model if kind == "plugin" else ["-e", "PLUGINS=[]"]
                runs[kind].append(time_build(folder, f"out-{kind}", extra, env))
        generated = sorted(p.name for p in (folder / "content" / "generated").glob("*.md"))
    def median(kind: str, which: int) -> float:
        return statistics.median(run[which] for run in runs[kind])

    plugin, disabled = median("plugin", 0), median("disabled", 0)
    plugin_cpu, disabled_cpu = median("plugin", 1), median("disabled", 1)
    print(json.dumps({
        "benchmark": "pelican build of the demo site, today's post present: plugin vs PLUGINS=[]",
        "reps": args.reps,
        "plugin_median_s": round(plugin, 3),
        "baseline_median_s": round(disabled, 3),
        "ratio": round(plugin / disabled, 3),
        # CPU time is steadier than wall time on a shared machine
        "plugin_cpu_median_s": round(plugin_cpu, 3),
        "baseline_cpu_median_s": round(disabled_cpu, 3),
        "cpu_ratio": round(plugin_cpu / disabled_cpu, 3),
        "target_ratio": 1.10,
        "posts_written_during_bench": len(generated) - 1,
        "cpu_count": os.cpu_count(),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
