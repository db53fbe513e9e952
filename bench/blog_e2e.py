"""A real blog, end to end: its posts -> the fine-tuned embedded model -> five published posts.

    .venv/bin/python bench/blog_e2e.py --name digitalcat --source PATH/TO/BLOG/content
    .venv/bin/python bench/blog_e2e.py --name demo --source content --steps 48

What a Pelican blogger would run, each command printed before it runs, in ``--out/NAME`` (outside
the repository; the blog's own folder is never written to):

1. ``corpus-builder SOURCE -o corpus.txt``;
2. ``trainer fit --model smollm2 --until-step STEPS`` with the options ``make html`` uses for the
   demo model (the Makefile's ``DEMO_TRAINOPTS``), which also calibrates the quality gate;
3. ``trainer report`` (held-out perplexity of the base and the fine-tuned model, the gate's pass
   rate on ``--report-batch`` samples, the verdict);
4. a Pelican site around a copy of SOURCE (this project's plugin and theme, the daily-post settings
   of the demo's pelicanconf.py) and ``python -m plugin.backfill --days N-1``: the posts the daily
   build publishes for today and the N-1 days before it; then ``pelican`` builds the site.

Prints, and writes to ``OUT/NAME/published.md``, each published post as a reader sees it: title,
date, words, the gate's figures, the first paragraph and the last sentence.
"""
from __future__ import annotations

import argparse
import json
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
# The Makefile's DEMO_TRAINOPTS (the demo model of `make html`).
DEMO_OPTIONS = ["--block-size", "256", "--batch-size", "4", "--post-start-share", "0.5", "--lr", "3e-4",
                "--warmup", "4", "--eval-every", "16", "--save-every", "16", "--keep", "1",
                "--sample-every", "0"]
SITE_SETTINGS = """\
# A throwaway site around a copy of a blog's content (bench/blog_e2e.py).
SITENAME = {name!r}
PATH = "content"
ARTICLE_PATHS = [""]
TIMEZONE = "UTC"
THEME = {theme!r}
PLUGIN_PATHS = [{root!r}]
PLUGINS = ["plugin"]
ARTICLE_URL = ARTICLE_SAVE_AS = "{{date:%Y}}/{{date:%m}}/{{slug}}.html"
DAILY_POST_MODEL = {run!r}
DAILY_POST_FOLDER = "generated"
DAILY_POST_SAMPLING = {{"max_new_tokens": 300}}
DAILY_POST_CANDIDATES = 4
DAILY_POST_ROUNDS = 3
"""


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    print("$ " + " ".join(shlex.quote(str(c)) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=kwargs.pop("cwd", ROOT), check=True, **kwargs)


def read_post(path: Path) -> dict:
    """A post file as a reader sees it: metadata, and the body's paragraphs as plain text."""
    import markdown
    from bs4 import BeautifulSoup

    header, _, body = path.read_text(encoding="utf-8").partition("\n\n")
    meta = dict(line.split(": ", 1) for line in header.splitlines() if ": " in line)
    soup = BeautifulSoup(markdown.markdown(body), "html.parser")
    paragraphs = [" ".join(block.get_text(" ").split()) for block in soup.find_all(["p", "li", "pre"])]
    first = paragraphs[0] if paragraphs else ""
    if len(first.split()) < 6 and len(paragraphs) > 1:  # a heading: show the paragraph under it too
        first = f"{first} / {paragraphs[1]}"
    text = " ".join(body.split())
    last = re.findall(r"[^.!?]+[.!?]+[\"'”’)\]]*", " ".join(paragraphs))
    gate = dict(item.split("=", 1) for item in meta.get("Gate", "").split() if "=" in item)
    return {"title": BeautifulSoup(markdown.markdown(meta.get("Title", "")), "html.parser").get_text(),
            "date": meta.get("Date", ""), "words": len(text.split()), "gate": gate,
            "first": first, "last": last[-1].strip() if last else ""}


def shown(text: str, corpus: str) -> str:
    """``text``, unless it is the blog's own words (a sentence the model took from the corpus):
    someone else's writing is not reproduced."""
    flat = " ".join(text.split())
    return "[the blog's own words, not reproduced]" if len(flat.split()) >= 4 and flat in corpus else flat


def fragment(posts: list[dict], corpus: str = "") -> str:
    lines = []
    for post in posts:
        g = post["gate"]
        lines += [f"**{post['title']}** ({post['date'][:10]}; {g.get('words', post['words'])} words, "
                  f"ending {g.get('ending')}, fluency ratio {g.get('fluency_ratio')}, topic "
                  f"{g.get('topic')}, longest run shared with the corpus {g.get('memorised')} tokens)",
                  "", f"> {shown(post['first'], corpus)}", ">", f"> … {shown(post['last'], corpus)}", ""]
    return "\n".join(lines)


def report_posts(name: str, site: Path, days: int) -> int:
    """Print each published post as a reader sees it and write ``published.md`` beside the site;
    the number of posts."""
    posts = [read_post(p) for p in sorted((site / "content" / "generated").rglob("*.md"))]
    corpus = " ".join((site.parent / "corpus.txt").read_text(encoding="utf-8").split())
    text = fragment(posts, corpus)
    (site.parent / "published.md").write_text(text, encoding="utf-8")
    print(f"\n## {name}: {len(posts)} posts published ({days} days tried)\n")
    print(text)
    return len(posts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--source", required=True, type=Path, help="the blog's content folder")
    parser.add_argument("--out", type=Path, default=Path("/tmp/blog-e2e"))
    parser.add_argument("--steps", type=int, default=48, help="training steps (the demo's: 48)")
    parser.add_argument("--days", type=int, default=5, help="posts to publish (today and before)")
    parser.add_argument("--report-batch", type=int, default=16)
    parser.add_argument("--settings", help="corpus-builder -s (the blog's pelicanconf.py)")
    parser.add_argument("--publish-only", action="store_true",
                        help="only print the published posts of an earlier run in --out")
    args = parser.parse_args()

    out = (args.out / args.name).resolve()
    corpus, run_dir, site = out / "corpus.txt", out / "run", out / "site"
    if args.publish_only:
        report_posts(args.name, site, args.days)
        return 0
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    started = time.perf_counter()
    build = [PY, "-m", "corpus_builder.cli", args.source.resolve(), "-o", corpus, "-q"]
    run(build + (["-s", args.settings] if args.settings else []))
    run([PY, "-m", "trainer.cli", "fit", "--model", "smollm2", "--corpus", corpus, "--run", run_dir,
         "--until-step", str(args.steps), "--no-progress", *DEMO_OPTIONS])
    fitted = time.perf_counter()
    run([PY, "-m", "trainer.cli", "report", "--run", run_dir, "--batch", str(args.report_batch),
         "--samples", str(min(8, args.report_batch)), "--length", "300"])
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))

    shutil.copytree(args.source.resolve(), site / "content")
    (site / "pelicanconf.py").write_text(SITE_SETTINGS.format(
        name=args.name, theme=str(ROOT / "theme"), root=str(ROOT), run=str(run_dir)), encoding="utf-8")
    run([PY, "-m", "plugin.backfill", "-s", site / "pelicanconf.py", "--days", str(args.days - 1)])
    run([PY, "-m", "pelican", "content", "-s", "pelicanconf.py", "-o", "output", "-q"], cwd=site)
    published = report_posts(args.name, site, args.days)
    print(json.dumps({"name": args.name, "fit_s": round(fitted - started, 1),
                      "total_s": round(time.perf_counter() - started, 1), "published": published,
                      "perplexity": report.get("perplexity"), "verdict": report.get("readiness")},
                     default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
