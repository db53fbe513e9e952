"""Benchmark: corpus-builder on a synthetic blog of 10,000 Markdown posts.

Prints ONE JSON object: posts, seconds and posts/s for the builder (all cores, Pelican's
readers, the whole pipeline: exclusions, manifest, atomic writes), and the same figures for a
naive baseline measured in the same run (one process: ``markdown.markdown`` -> BeautifulSoup
``get_text()`` per file, no metadata handling), with their ratio. Target: 10,000 posts < 60 s
on 2 cores.

On a machine shared with other busy processes, wall time mostly measures the queue for the CPU;
``cpu_seconds`` (this process and its workers) does not, and ``projected_seconds_on_idle_cores``
is that CPU time spread over the workers.

    python bench/corpus.py [--posts 10000] [--workers N] [--no-baseline]
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WORDS = (
    "wind pressure cloud rain gauge roof morning front humidity sensor calibration station "
    "north reading cold warm evening storm drizzle dew point forecast chart trend gust solar "
    "battery mast hour week season spring autumn logger barometer anemometer sky light fog"
).split()


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 18))]
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(2, 6)))


def post(rng: random.Random, index: int) -> str:
    day = f"20{10 + index % 15:02d}-{1 + index % 12:02d}-{1 + index % 28:02d}"
    status = "draft" if index % 97 == 0 else "published"
    parts = [
        f"Title: Notes {index}: {sentence(rng)[:-1]}",
        f"Date: {day} {index % 24:02d}:{index % 60:02d}",
        "Category: weather",
        f"Tags: {rng.choice(WORDS)}, {rng.choice(WORDS)}",
        f"Slug: notes-{index}",
        f"Status: {status}",
        f"Summary: {sentence(rng)}",
        "",
        paragraph(rng),
        "",
        f"## {sentence(rng)[:-1]}",
        "",
        paragraph(rng) + f" See [the chart](https://example.org/{index}) and *this* **note**.",
        "",
        "- " + sentence(rng),
        "- " + sentence(rng),
        "",
        "> " + sentence(rng),
        "",
        "```python",
        "reading = sensor.read()",
        "print(reading)",
        "```",
        "",
        paragraph(rng),
        "",
    ]
    return "\n".join(parts)


def make_blog(folder: Path, count: int) -> None:
    rng = random.Random(7)
    posts = folder / "posts"
    posts.mkdir(parents=True)
    for i in range(count):
        (posts / f"post-{i:05d}.md").write_text(post(rng, i), encoding="utf-8")


def naive_baseline(folder: Path) -> tuple[int, float, float]:
    import markdown
    from bs4 import BeautifulSoup

    cpu_before = _cpu_seconds()
    start = time.perf_counter()
    texts = []
    for path in sorted(folder.rglob("*.md")):
        html = markdown.markdown(path.read_text(encoding="utf-8"), extensions=["extra", "meta"])
        texts.append(BeautifulSoup(html, "html.parser").get_text())
    return len(texts), time.perf_counter() - start, _cpu_seconds() - cpu_before


def _cpu_seconds() -> float:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    from corpus_builder.build import BuildOptions, build_corpus

    with tempfile.TemporaryDirectory(prefix="bench-corpus-") as tmp:
        tmp = Path(tmp)
        make_blog(tmp / "content", args.posts)
        cwd = os.getcwd()
        os.chdir(tmp)  # no pelicanconf.py here: Pelican's defaults, like a bare blog
        try:
            cpu_before = _cpu_seconds()
            start = time.perf_counter()
            result = build_corpus(BuildOptions(content_dirs=["content"], output="out/corpus.txt",
                                               workers=args.workers))
            seconds = time.perf_counter() - start
            cpu = _cpu_seconds() - cpu_before
        finally:
            os.chdir(cwd)
        report = {
            "posts": args.posts,
            "documents": result.manifest["documents"],
            "workers": args.workers or os.cpu_count(),
            "cpu_count": os.cpu_count(),
            "seconds": round(seconds, 2),
            "posts_per_s": round(args.posts / seconds, 1),
            # CPU time of this process and its workers: on a busy machine, wall time includes
            # waiting for other processes; cpu_seconds / 2 is what 2 idle cores would need.
            "cpu_seconds": round(cpu, 2),
            "load_average_1min": round(os.getloadavg()[0], 2),
        }
        if not args.no_baseline:
            count, base_seconds, base_cpu = naive_baseline(tmp / "content")
            report.update({
                "baseline": "naive single process: markdown.markdown -> BeautifulSoup.get_text",
                "baseline_seconds": round(base_seconds, 2),
                "baseline_posts_per_s": round(count / base_seconds, 1),
                "baseline_cpu_seconds": round(base_cpu, 2),
                "ratio": round((args.posts / seconds) / (count / base_seconds), 2),
                # Load-independent view: CPU work per post, and what it means on idle cores.
                "cpu_ratio": round(base_cpu / cpu, 2),
                "projected_seconds_on_idle_cores": round(cpu / min(report["workers"], os.cpu_count() or 1), 1),
                "baseline_projected_seconds": round(base_cpu, 1),
            })
    print(json.dumps(report))


if __name__ == "__main__":
    main()
