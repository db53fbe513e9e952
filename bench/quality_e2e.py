"""End-to-end quality check (issue 6, docs/quality.md): corpus -> fine-tune SmolLM2-135M on CPU for a
time budget -> `trainer report`.

    .venv/bin/python bench/quality_e2e.py --name demo --source content --minutes 20
    .venv/bin/python bench/quality_e2e.py --name pythonclub --source ../shared/corpora/pythonclub

Every stage is the user's own command line (printed before it runs), so the run can be repeated by
hand:

1. ``corpus-builder SOURCE -o OUT/NAME/corpus.txt``
2. a short calibration fit (``--steps 4``, thrown away) measures tokens/s on this machine;
3. ``trainer fit --model SmolLM2...gguf --steps N`` with N chosen so that training plus its
   evaluations fit in ``--minutes``;
4. ``trainer report --run OUT/NAME/run`` (held-out perplexity against the GGUF base model, samples,
   memorisation, diversity).

SmolLM2-135M-Instruct (GGUF) comes from ``../shared/tools/get-smollm2.sh DIR`` (needs
``pip install gguf accelerate``). Prints one JSON object with the figures at the end.
"""
from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
DEFAULT_MODEL = "/work/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def run(cmd: list[str]) -> None:
    print("$ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)


def fit_cmd(args, corpus: Path, run_dir: Path, steps: int, eval_every: int, sample_every: int) -> list[str]:
    return [PY, "-m", "trainer.cli", "fit", "--model", args.model, "--corpus", str(corpus),
            "--run", str(run_dir), "--steps", str(steps), "--block-size", str(args.block_size),
            "--batch-size", str(args.batch_size), "--eval-every", str(eval_every),
            "--sample-every", str(sample_every), "--save-every", str(max(50, eval_every)),
            "--device", "cpu", "--fresh", "--no-progress", *args.fit_option]


def markdown_fragment(name: str, manifest: dict, train: dict, figures: dict, count: int = 3) -> str:
    """The figures and three samples (gate winners first) for docs/quality.md."""
    p, m = figures["perplexity"], figures["memorisation"]
    ds, dp = figures["diversity_samples"], figures["diversity_posts"]
    fmt = lambda v, d=2: "–" if v is None else f"{v:.{d}f}"  # noqa: E731
    lines = [
        f"### {name}", "",
        "| figure | value |", "|---|---|",
        f"| corpus | {manifest.get('documents')} posts, {manifest.get('words'):,} words, "
        f"{figures['corpus_tokens']:,} tokens |",
        f"| training | {train['steps']} steps, {train['tokens_seen']:,} tokens, "
        f"{train['time_s'] / 60:.1f} min on {train['device']} ({train['precision']}), "
        f"{fmt(figures['training'].get('step_tokens_per_s'), 1)} tokens/s while training, "
        f"{train['tokens_seen'] / train['time_s']:.1f} overall |",
        f"| loss (train / validation) | {fmt(train['train_loss'], 3)} / {fmt(train['val_loss'], 3)} |",
        f"| held-out perplexity, base | {fmt(p['base'])} ({p['documents']} posts, {p['tokens']:,} tokens) |",
        f"| held-out perplexity, fine-tuned | {fmt(p['fine_tuned'])} |",
        f"| change | {fmt(p['change_pct'], 1)} % |",
        f"| gate | {m['gate_passed']} of {m['samples']} samples pass; rejections "
        f"{', '.join(f'{k} {v}' for k, v in sorted(m['rejections'].items())) or 'none'} |",
        f"| copied ≥ {m['threshold']} tokens | {m['copied']} of {m['samples']} |",
        "| longest copied run | " + (f"{m['longest']['tokens']} tokens |" if m["longest"]
                                      else f"none of {m['window']} tokens or more |"),
        f"| distinct-2 samples / posts | {fmt(ds['distinct2'], 3)} / {fmt(dp['distinct2'], 3)} |",
        f"| rep-{ds['rep_n']} samples / posts | {fmt(ds['rep'], 3)} / {fmt(dp['rep'], 3)} |",
        "", f"Verdict: {p['verdict']}.", "",
    ]
    gallery = sorted(figures["gallery"], key=lambda s: not s["passed"])[:count]
    for i, sample in enumerate(gallery, 1):
        state = "passes the gate" if sample["passed"] else "rejected: " + ", ".join(sample["rejected_by"])
        lines += [f"Sample {i} ({state}):", "", "```text", sample["title"], "", sample["body"], "```", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", required=True, help="e.g. demo or pythonclub")
    parser.add_argument("--source", required=True, help="content folder of the blog")
    parser.add_argument("--minutes", type=float, default=20.0, help="training budget")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="the base model (.gguf or folder)")
    parser.add_argument("--out", default="/tmp/quality", help="where corpora and runs go")
    parser.add_argument("--block-size", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--evals", type=int, default=4, help="validations during the run")
    parser.add_argument("--steps", type=int, default=None, help="skip calibration: this many steps")
    parser.add_argument("--report-batch", type=int, default=64)
    parser.add_argument("--report-length", type=int, default=400)
    parser.add_argument("--fit-option", action="append", default=[],
                        help="extra `trainer fit` option (repeatable), e.g. --fit-option=--lr=1e-4")
    args = parser.parse_args()

    out = Path(args.out) / args.name
    corpus = out / "corpus.txt"
    run_dir = out / "run"
    started = time.time()

    # 1. corpus
    source = Path(args.source)
    settings = ["-s", "pelicanconf.py"] if source.resolve() == (ROOT / "content").resolve() else []
    run([PY, "-m", "corpus_builder.cli", str(source), *settings, "-o", str(corpus), "-q"])
    manifest = json.loads((out / "corpus.json").read_text(encoding="utf-8"))

    # 2. calibration: tokens/s of a training step and of an evaluation on this machine
    steps = args.steps
    if steps is None:
        calib = out / "calibration"
        t0 = time.time()
        run(fit_cmd(args, corpus, calib, 4, 4, 0))
        calib_wall = time.time() - t0
        records = [json.loads(line) for line in (calib / "metrics.jsonl").read_text().splitlines()]
        rates = [r["tok_s"] for r in records if "tok_s" in r][1:] or [1.0]
        tok_s = sorted(rates)[len(rates) // 2]
        step_s = args.batch_size * args.block_size / tok_s
        summary = json.loads((calib / "train.json").read_text())
        # one evaluation + loading + saving, measured as what the calibration run spent beyond its steps
        overhead_s = max(0.0, calib_wall - summary["time_s"])
        eval_s = max(0.0, summary["time_s"] - 4 * step_s)
        budget = args.minutes * 60 - overhead_s - args.evals * eval_s
        steps = max(10, int(budget / step_s))
        print(json.dumps({"calibration": {"tok_s": tok_s, "step_s": round(step_s, 2),
                                          "eval_s": round(eval_s, 1), "overhead_s": round(overhead_s, 1),
                                          "steps": steps}}), flush=True)

    # 3. the fine-tuning run
    eval_every = max(1, steps // args.evals)
    t0 = time.time()
    run(fit_cmd(args, corpus, run_dir, steps, eval_every, max(1, steps // 2)))
    fit_wall = time.time() - t0

    # 4. the report
    t0 = time.time()
    run([PY, "-m", "trainer.cli", "report", "--run", str(run_dir), "--batch", str(args.report_batch),
         "--length", str(args.report_length)])
    report_wall = time.time() - t0

    train = json.loads((run_dir / "train.json").read_text(encoding="utf-8"))
    figures = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    fragment = out / "quality-fragment.md"
    fragment.write_text(markdown_fragment(args.name, manifest, train, figures), encoding="utf-8")
    print(f"wrote {fragment}")
    p, m = figures["perplexity"], figures["memorisation"]
    print(json.dumps({
        "name": args.name, "documents": manifest.get("documents"), "words": manifest.get("words"),
        "steps": train["steps"], "tokens_seen": train["tokens_seen"], "fit_wall_s": round(fit_wall),
        "report_wall_s": round(report_wall), "total_s": round(time.time() - started),
        "train_loss": train["train_loss"], "val_loss": train["val_loss"],
        "report": str(run_dir / "report.md"), "base_perplexity": p["base"],
        "fine_tuned_perplexity": p["fine_tuned"], "change_pct": p["change_pct"],
        "gate_passed": m["gate_passed"], "samples": m["samples"], "copied": m["copied"],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
