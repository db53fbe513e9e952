"""`trainer sample`: sample posts from a trained run, optionally through the quality gate.

A thin click layer over ``sample_posts`` (which the tests call) and ``trainer.generation.sampler``;
its sampling and gate defaults are ``SamplingSettings``' and ``GateSettings``' (the daily post's).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import click

from common.errors import TrainerError, UserError, fail
from trainer.cli.defaults import defaults_of, load_gate_settings, load_sampling_settings
from trainer.cli.log_setup import setup_logging
from trainer.cli.run_option import found_run, given, run_options

sampling_default = defaults_of(load_sampling_settings)
gate_default = defaults_of(load_gate_settings)


@dataclass
class SampleOutcome:
    posts: list  # trainer.generation.post.Post, in candidate order
    verdicts: list  # gate Assessment per post (None without --gate)
    winner: object  # the gate's pick (None without --gate, or when all were rejected)
    report: list[str]


def sample_run(run: str, model: str | None, models_dir: str) -> Path:
    """The run folder to sample from: ``--run`` (default: blog), or the deprecated ``--model PATH``
    (read as ``--run PATH``, with a note)."""
    if model is None:
        return found_run("sample", run, models_dir)
    if given("run"):
        raise TrainerError("give either --run NAME or --model PATH, not both")
    return found_run("sample", model, models_dir, old=f"--model {model}")


def sample_posts(model_path, seed: int, n: int, settings, precision: str = "auto",
                 gate=None, rounds: int = 1, threads: int | None = None) -> SampleOutcome:
    """Sample ``n`` candidates (no gate), or run ``best_post`` and keep every verdict (gate)."""
    from trainer.generation.sampler import Sampler

    sampler = Sampler.load(model_path, precision=precision, threads=threads)
    if gate is None:
        posts = sampler.posts(seed, settings, n)
        return SampleOutcome(posts, [None] * len(posts), None, [])
    result = sampler.best_post(seed, settings, gate, candidates=n, rounds=rounds)
    posts = [post for post, _ in result.candidates]
    verdicts = [assessment for _, assessment in result.candidates]
    return SampleOutcome(posts, verdicts, result.post, result.report)


def post_markdown(post) -> str:
    """A Markdown file for ``post`` with Pelican metadata; its plain text escaped, once: the title
    as a metadata value (as the plugin writes it), the body as inert Markdown."""
    from common.post_file import render_post

    return render_post({
        "Title": post.title, "Generated": "true", "Model": post.model.get("name", ""),
        "Model_Sha256": post.model.get("weights_sha256", ""), "Seed": post.seed,
        "Candidate": f"{post.gate.get('round', 0) + 1}.{post.gate.get('candidate', 0) + 1}",
    }, post.body)


def write_posts(outcome: SampleOutcome, out_dir: Path) -> list[Path]:
    """Write each post as ``seed<S>-r<R>-c<C>-<slug>.md`` in ``out_dir`` (atomically)."""
    from common.fileio import atomic_write_text

    written = []
    for post in outcome.posts:
        slug = re.sub(r"[^a-z0-9]+", "-", post.title.lower()).strip("-")[:50] or "untitled"
        name = (f"seed{post.seed}-r{post.gate.get('round', 0) + 1}-"
                f"c{post.gate.get('candidate', 0) + 1}-{slug}.md")
        written.append(atomic_write_text(out_dir / name, post_markdown(post)))
    return written


SAMPLE_HELP = """Sample posts from a trained run.

\b
Examples:
  trainer sample -n 5 --seed 7 --temperature 0.7     # from the run models/blog
  trainer sample --run blog -n 4 --gate              # each candidate's verdicts, the winner
  trainer sample --run blog -n 3 --out samples/      # Markdown files instead of stdout
  trainer sample --run models/blog --precision fp32 --temperature 0   # greedy, exact path

With --gate the command exits with status 1 when every candidate was rejected. The sampling and
gate defaults are those of the daily post (SamplingSettings, GateSettings).
"""


@click.command("sample", help=SAMPLE_HELP, short_help="Sample posts from a trained run.")
@run_options("The run to sample from: a name under --models-dir or a path to a run folder.")
@click.option("--model", "model", metavar="PATH", help="Deprecated: use --run PATH.")
@click.option("-n", "--candidates", "n", default=1, show_default=True, type=click.IntRange(1),
              help="Candidates per round, sampled as one batch.")
@click.option("--seed", default=0, show_default=True, type=int,
              help="Same model, settings and seed -> same text.")
@click.option("--length", default=sampling_default("max_new_tokens"), show_default=True, type=click.IntRange(1),
              help="Maximum new tokens per candidate (stops earlier at end-of-text).")
@click.option("--temperature", default=sampling_default("temperature"), show_default=True,
              type=click.FloatRange(0), help="0 = greedy.")
@click.option("--top-k", default=sampling_default("top_k"), show_default=True, type=click.IntRange(0),
              help="0 = off.")
@click.option("--top-p", default=sampling_default("top_p"), show_default=True,
              type=click.FloatRange(0, 1, min_open=True), help="1 = off.")
@click.option("--repetition-penalty", default=sampling_default("repetition_penalty"), show_default=True,
              type=click.FloatRange(0, min_open=True), help="1 = off.")
@click.option("--prefix", default=sampling_default("prefix"), type=str,
              help="Text every candidate continues (default: none).")
@click.option("--precision", default="auto", show_default=True,
              type=click.Choice(["auto", "int8", "bf16", "fp32"]),
              help="auto: int8 on a CPU, bf16 on a GPU; fp32 is the exact reference path.")
@click.option("--threads", type=click.IntRange(1), help="CPU threads (default: all available).")
@click.option("--gate", "use_gate", is_flag=True, help="Run the quality gate; show each verdict.")
@click.option("--rounds", default=1, show_default=True, type=click.IntRange(1),
              help="With --gate: rounds of -n candidates until one passes.")
@click.option("--min-words", default=gate_default("min_words"), show_default=True,
              type=click.IntRange(0))
@click.option("--max-repeated", default=gate_default("max_repeated"), show_default=True,
              type=click.FloatRange(0, 1), help="Highest share of repeated word 4-grams (rep-4).")
@click.option("--min-distinct", default=gate_default("min_distinct"), show_default=True,
              type=click.FloatRange(0, 1), help="Lowest distinct-2 (unique word bigrams / all).")
@click.option("--memorised-tokens", default=gate_default("memorised_tokens"), show_default=True,
              type=click.IntRange(1),
              help="Reject a verbatim run of this many tokens shared with the corpus.")
@click.option("--corpus", default=gate_default("corpus"), type=click.Path(dir_okay=False),
              help="Corpus for the memorisation check (default: the run's train.json).")
@click.option("--require-corpus", is_flag=True, help="Fail the memorisation rule, not skip it, "
              "when the corpus is missing.")
@click.option("--html", default=gate_default("html"), show_default=True,
              type=click.Choice(["reject", "escape"]), help="Candidates with raw HTML or script links.")
@click.option("--no-fluency", is_flag=True, help="Leave out the fluency check (perplexity under the "
              "reference model, against the run's gate_calibration.json).")
@click.option("--no-topic", is_flag=True, help="Leave out the topic check (similarity to the blog's posts).")
@click.option("--no-new-title", is_flag=True, help="Let a candidate take the title of one of the "
              "corpus's posts (rejected by default: two posts of one title confuse readers).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Write each post as a Markdown file here instead of printing it.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per post.")
def sample_command(run, model, models_dir, n, seed, length, temperature, top_k, top_p,
                   repetition_penalty, prefix, precision, threads, use_gate, rounds, min_words,
                   max_repeated, min_distinct, memorised_tokens, corpus, require_corpus, html,
                   no_fluency, no_topic, no_new_title, out_dir, as_json):
    from trainer.generation.gate import GateSettings
    from trainer.generation.sampler import SamplingSettings

    setup_logging()
    try:
        settings = SamplingSettings(max_new_tokens=length, temperature=temperature, top_k=top_k,
                                    top_p=top_p, repetition_penalty=repetition_penalty,
                                    prefix=prefix).validate()
        gate = None
        if use_gate:
            gate = GateSettings(min_words=min_words, max_repeated=max_repeated,
                                min_distinct=min_distinct, memorised_tokens=memorised_tokens,
                                corpus=corpus, require_corpus=require_corpus, html=html,
                                fluency=not no_fluency, topic=not no_topic,
                                new_title=not no_new_title).validate()
        path = sample_run(run, model, models_dir)
        outcome = sample_posts(path, seed, n, settings, precision, gate, rounds, threads)
    except UserError as exc:
        fail(exc)

    if out_dir:
        for written in write_posts(outcome, Path(out_dir)):
            click.echo(f"wrote {written}")
    print_outcome(outcome, seed, show_text=not out_dir, as_json=as_json)
    if use_gate and not as_json:
        click.echo(outcome.report[-1] if outcome.report else "")
    if use_gate and outcome.winner is None:
        raise SystemExit(1)


def print_outcome(outcome: SampleOutcome, seed: int, *, show_text: bool, as_json: bool) -> None:
    """Each post: one JSON object (``--json``), or a header (its gate verdicts with ``--gate``)
    followed by its text unless it was written to files."""
    for post, verdict in zip(outcome.posts, outcome.verdicts):
        tag = f"round {post.gate.get('round', 0) + 1} candidate {post.gate['candidate'] + 1}"
        if as_json:
            data = post.to_dict()
            if verdict is not None:
                data["verdicts"] = verdict.lines()
                data["winner"] = post is outcome.winner
            click.echo(json.dumps(data, ensure_ascii=False))
            continue
        if verdict is not None:
            state = "WINNER" if post is outcome.winner else ("pass" if verdict.passed else
                                                             "rejected: " + ", ".join(
                                                                 verdict.rejected_by))
            click.echo(f"=== {tag} ({state}; mean log-prob {post.gate['mean_logprob']:.3f})")
            for line in verdict.lines():
                click.echo(f"  - {line}")
        else:
            click.echo(f"=== {tag} (seed {seed}, {post.gate['tokens']} tokens, "
                       f"stopped at {post.gate['stop']})")
        if show_text:
            click.echo(f"# {post.title}\n\n{post.body}\n")
