"""How well the quality gate tells a blog's own posts from word salad, off-topic posts, loops and
cut-off texts, and what its fluency check costs.

    .venv/bin/python bench/gate.py                        # the demo blog (content/)
    .venv/bin/python bench/gate.py content /path/to/blog  # each blog in turn
    .venv/bin/python bench/gate.py --demo-model TINY_RUN --cost models/demo

For each blog: its corpus (corpus-builder), split into ``--folds`` folds by the hash of each post.
For each fold the gate is calibrated on the other folds exactly as ``trainer fit`` does
(``trainer.evaluation.gate_calibration.calibrate``, reference model: the embedded SmolLM2), and
these texts go through the whole gate (``gate.assess``; memorisation skipped, the texts are not a
model's), one confusion row per class:
- human: the fold's held-out posts (should pass), each as the gate would see it had the model
  written it: a post longer than ``--length`` tokens (the sampler's limit) is cut there and trimmed
  to its last whole paragraph or sentence, as a sample that hit the limit is;
- shuffled: each held-out post's body with its words shuffled (a final "." kept);
- salad: word trigrams drawn from random training posts (a final "." kept);
- loop: three sentences of a held-out post repeated eight times;
- cut: a held-out post cut mid-sentence at 60 % of its words;
- off-topic: tests/data/gate/off_topic/*.md (fluent posts on cooking, football, tax, fashion, ...);
- tiny-model (``--demo-model``): unconditional samples of a tiny from-scratch run.
``--cost RUN`` times, in fresh processes (model loads included), one unchecked sample against
best-of-4 through every check, with RUN (the daily build's model; calibrated first when it is not).
"""
from __future__ import annotations

import argparse
import hashlib
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OFF_TOPIC = sorted((ROOT / "tests" / "data" / "gate" / "off_topic").glob("*.md"))
TARGETS = {"human": ("pass", 0.95), "shuffled": ("reject", 0.95), "salad": ("reject", 0.95),
           "tiny-model": ("reject", 0.95), "cut": ("reject", 1.0), "off-topic": ("reject", 0.90),
           "loop": ("reject", 0.95)}


def build_corpus(blog: Path, out: Path) -> list[str]:
    from common.corpus_format import read_documents

    cmd = [sys.executable, "-m", "corpus_builder.cli", str(blog), "-o", str(out)]
    if (blog.parent / "pelicanconf.py").exists() and blog.resolve() == (ROOT / "content").resolve():
        cmd += ["-s", str(ROOT / "pelicanconf.py")]
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
    return read_documents(out)


def split(doc: str) -> tuple[str, str]:
    title, _, body = doc.partition("\n\n")
    return title, body


def shuffled(doc: str, rng: random.Random) -> str:
    title, body = split(doc)
    words = body.split()
    rng.shuffle(words)
    return f"{title}\n\n{' '.join(words).rstrip('.!?')}."


def salad(training: list[str], rng: random.Random, n_words: int = 200) -> str:
    out = []
    while len(out) < n_words:
        words = split(rng.choice(training))[1].split()
        if len(words) > 3:
            i = rng.randrange(len(words) - 3)
            out += words[i:i + 3]
    return f"{' '.join(out[:6]).rstrip('.!?')}\n\n{' '.join(out[6:]).rstrip('.!?')}."


def loop(doc: str) -> str:
    title, body = split(doc)
    sentences = re.split(r"(?<=[.!?])\s+", " ".join(body.split()))[:3]
    return f"{title}\n\n" + " ".join(sentences * 8)


def cut(doc: str) -> str:
    title, body = split(doc)
    words = body.split(" ")
    text = " ".join(words[: max(1, int(len(words) * 0.6))]).rstrip()
    while text and text[-1] in ".!?\"')]”’:;,":
        text = text[:-1].rstrip()
    return f"{title}\n\n{text}"


def as_sample(doc: str, tokenizer, length: int):
    """``doc`` as a sample of at most ``length`` tokens: whole when it fits (it ended by itself),
    else cut at ``length`` tokens and trimmed like a sample that hit the limit."""
    from trainer.generation.post import parse_post, trim_to_last_sentence

    ids = tokenizer.encode(doc, add_special_tokens=False)
    if len(ids) <= length:
        return parse_post(doc)
    post = parse_post(tokenizer.decode(ids[:length]))
    post.gate = {"ending": "trimmed"}
    post.body = trim_to_last_sentence(post.body)
    return post


def judge(post, checks, gate) -> tuple[bool, list[str]]:
    from trainer.generation.gate import assess
    from trainer.generation.memorisation import Skipped

    class Cand:
        mean_logprob = 0.0

    result = assess(post, Cand(), gate, Skipped("skipped: bench"), None, checks)
    return result.passed, result.rejected_by


def tiny_samples(run: Path, n: int) -> list[str]:
    from trainer.generation.sampler import Sampler, SamplingSettings

    sampler = Sampler.load(run, precision="fp32")
    posts = sampler.posts(seed=7, settings=SamplingSettings(max_new_tokens=300), n=n)
    return [f"{p.title}\n\n{p.body}" for p in posts]


def bench_blog(blog: Path, reference, folds: int, demo_model: Path | None, length: int) -> dict:
    from trainer.evaluation.gate_calibration import calibrate
    from trainer.generation.gate import GateSettings
    from trainer.generation.post import parse_post
    from trainer.generation.quality import QualityChecks

    with tempfile.TemporaryDirectory() as tmp:
        docs = build_corpus(blog, Path(tmp) / "corpus.txt")
    order = sorted(docs, key=lambda d: hashlib.sha256(d.encode()).hexdigest())
    off_topic = [p.read_text(encoding="utf-8") for p in OFF_TOPIC]
    tiny = tiny_samples(demo_model, 16) if demo_model else []
    gate = GateSettings()
    table: dict[str, Counter] = {}
    reasons: dict[str, Counter] = {}
    limits = []
    for k in range(folds):
        held = order[k::folds]
        training = [d for d in order if d not in set(held)]
        rng = random.Random(k)
        calibration = calibrate(held, training, reference, reference_source="bench")
        limits.append((calibration.max_perplexity, calibration.median_perplexity,
                       calibration.min_similarity, calibration.median_similarity))
        checks = QualityChecks(None, gate, calibration=calibration, reference=reference)
        texts = {"shuffled": [shuffled(d, rng) for d in held],
                 "salad": [salad(training, rng) for _ in held], "loop": [loop(d) for d in held],
                 "cut": [cut(d) for d in held], "off-topic": off_topic if k == 0 else [],
                 "tiny-model": tiny if k == 0 else []}
        classes = {"human": [as_sample(d, reference.tokenizer, length) for d in held]}
        classes.update({name: [parse_post(t) for t in group] for name, group in texts.items()})
        checks.prepare([post for posts in classes.values() for post in posts])  # one batch
        for name, posts in classes.items():
            for post in posts:
                ok, rules = judge(post, checks, gate)
                table.setdefault(name, Counter())["pass" if ok else "reject"] += 1
                reasons.setdefault(name, Counter()).update(rules)
    return {"table": table, "reasons": reasons, "posts": len(docs), "limits": limits}


def print_table(name: str, result: dict) -> None:
    print(f"\n## {name}: {result['posts']} posts")
    for max_ppl, med_ppl, min_sim, med_sim in result["limits"][:1]:
        print(f"calibration (fold 1): fluency limit {max_ppl:.1f} (median {med_ppl:.1f}); "
              f"topic limit {min_sim:.3f} (median {med_sim:.3f})")
    print(f"{'class':<11} {'n':>4} {'pass':>5} {'reject':>6} {'rate':>7}  target   rules that rejected")
    for cls, counts in result["table"].items():
        n = sum(counts.values())
        if not n:
            continue
        want, target = TARGETS[cls]
        rate = counts[want] / n
        mark = "ok" if rate >= target else "MISS"
        rules = ", ".join(f"{r} {c}" for r, c in result["reasons"][cls].most_common(4))
        print(f"{cls:<11} {n:>4} {counts['pass']:>5} {counts['reject']:>6} {rate:>6.0%} {want} "
              f">={target:.0%} {mark:<4} {rules}")


def cost(run: Path, seeds=(1, 2, 3)) -> None:
    """Fresh processes: one unchecked sample vs best-of-4 through every check (loads included),
    each timed with three seeds (the medians compared)."""
    one = ("from trainer.generation.sampler import Sampler, SamplingSettings as S;"
           f"s=Sampler.load({str(run)!r});s.posts({{seed}},S(max_new_tokens=300),n=1)")
    best = ("from trainer.generation.sampler import Sampler, SamplingSettings as S;"
            "from trainer.generation.gate import GateSettings as G;"
            f"s=Sampler.load({str(run)!r});"
            "r=s.best_post({seed},S(max_new_tokens=300),G(),candidates=4,rounds=1)")
    medians = []
    for label, code in (("one unchecked sample", one), ("best-of-4, every check", best)):
        times = []
        for seed in seeds:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code.replace("{seed}", str(seed))], check=True,
                           cwd=ROOT, capture_output=True)
            times.append(time.perf_counter() - start)
        medians.append(sorted(times)[len(times) // 2])
        shown = ", ".join(f"{t:.1f}" for t in times)
        print(f"{label}: median {medians[-1]:.1f} s ({shown} s; fresh processes, model loads included)")
    print(f"ratio: {medians[1] / medians[0]:.2f}x (target <= 2x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("blogs", nargs="*", type=Path,
                        help="content folders (default: content/, unless --cost alone is asked for)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--demo-model", type=Path, help="a tiny from-scratch run (tiny-model samples)")
    parser.add_argument("--cost", type=Path, metavar="RUN", help="time best-of-4 against one sample")
    parser.add_argument("--length", type=int, default=None,
                        help="the sampler's token limit human posts are cut at (default: trainer sample's)")
    args = parser.parse_args()
    if not args.blogs and not args.cost:
        args.blogs = [ROOT / "content"]

    from trainer.devices import cpu_flags
    from trainer.generation.fluency import ReferenceModel, reference_for

    flags = sorted(f for f in cpu_flags() if f.startswith(("avx512", "amx", "avx2", "avx_vnni")))
    print("CPU flags:", " ".join(flags) or "none of avx2/avx512/amx")
    start = time.perf_counter()
    reference = ReferenceModel.load(reference_for({})[0])
    print(f"reference {Path(reference.ref).name} ({reference.dtype}) loaded in "
          f"{time.perf_counter() - start:.1f} s")
    from trainer.generation.sampler import SamplingSettings

    length = args.length or SamplingSettings().max_new_tokens
    print(f"human posts judged as samples of at most {length} tokens")
    for blog in args.blogs:
        demo = args.demo_model if blog.resolve() == (ROOT / "content").resolve() else None
        print_table(blog.name, bench_blog(blog, reference, args.folds, demo, length))
    if args.cost:
        from trainer.evaluation.gate_calibration import calibrate_run
        from trainer.generation.calibration import read_calibration

        try:
            current = read_calibration(args.cost) is not None
        except ValueError:  # an older version's file
            current = False
        if not current:  # else best-of-4 would run without the fluency and topic checks
            calibrate_run(args.cost, reference=reference)
        print(f"\n## cost ({args.cost})")
        cost(args.cost)


if __name__ == "__main__":
    main()
