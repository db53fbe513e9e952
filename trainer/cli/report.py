"""`trainer report --run RUN`: a thin click layer over ``trainer.evaluation.report.build_report``
and ``trainer.evaluation.report_page.write_report``; its option defaults are ``build_report``'s.
The old spelling ``trainer report RUN`` still works, with a note.
"""
from __future__ import annotations

import click

from common.errors import TrainerError, UserError, fail
from trainer.cli.defaults import defaults_of, load_build_report
from trainer.cli.log_setup import setup_logging
from trainer.cli.run_option import found_run, given, run_options

report_default = defaults_of(load_build_report)


def make_report(run_dir, *, out: str | None = None, **options):
    """Build the report of the run in ``run_dir`` and write it.

    Returns ``(report, paths)``, ``paths`` being the HTML, Markdown and JSON files written;
    raises ``TrainerError`` with one line.
    """
    from trainer.evaluation.report import build_report
    from trainer.evaluation.report_page import write_report

    report = build_report(run_dir, **options)
    return report, write_report(report, out)


def report_run(positional: str | None, run: str, models_dir: str):
    """The run folder to report on: ``--run`` (default: blog), or the old positional ``RUN``
    (noted once the folder is found)."""
    if positional is None:
        return found_run("report", run, models_dir)
    if given("run"):
        raise TrainerError("give the run as --run NAME_OR_PATH or as RUN, not both")
    return found_run("report", positional, models_dir, old=positional)


@click.command("report")
@click.argument("positional", required=False, metavar="[RUN]")
@run_options("The run to report on: a name under --models-dir or a path to a run folder. "
             "(RUN as an argument is the old spelling.)")
@click.option("-n", "--samples", default=report_default("samples"), show_default=True, type=click.IntRange(0),
              help="Samples shown in the gallery, with their gate verdicts.")
@click.option("--batch", default=report_default("batch"), show_default=True, type=click.IntRange(1),
              help="Samples drawn for the memorisation and diversity figures.")
@click.option("--seed", default=report_default("seed"), show_default=True, type=int,
              help="Seed of the samples: same model and seed -> same report.")
@click.option("--length", default=report_default("length"), show_default=True, type=click.IntRange(1),
              help="Maximum new tokens per sample.")
@click.option("--base-model", default=report_default("base_model"), metavar="REF", type=str,
              help="Model to compare held-out perplexity with: a folder, a .gguf file or a Hugging "
                   "Face id (default: train.json's base_model; none for from-scratch runs).")
@click.option("--corpus", default=report_default("corpus"), type=click.Path(dir_okay=False),
              help="Corpus file (default: train.json's corpus_path).")
@click.option("--precision", default=report_default("precision"), show_default=True,
              type=click.Choice(["auto", "int8", "bf16", "fp32"]),
              help="Sampling precision (auto: what the plugin uses).")
@click.option("--out", type=click.Path(),
              help="Where to write the HTML page (default: report.html in the run folder); the Markdown and "
                   "JSON twins go beside it (.md, .json).")
@click.option("--threads", default=report_default("threads"), type=click.IntRange(1),
              help="CPU threads (default: OMP_NUM_THREADS, else all available).")
@click.option("-v", "--verbose", is_flag=True, help="More detail in the logs.")
def report_command(positional, run, models_dir, samples, batch, seed, length, base_model, corpus,
                   precision, out, threads, verbose):
    """Write the run's report.html (+ report.md, report.json): is the model any good?

    Loss curves, held-out perplexity against the base model, a gallery of samples with the
    quality gate's verdicts, memorisation and diversity figures, and warnings in plain words.

    \b
    Examples:
      trainer report                                          # models/blog/report.html
      trainer report --run models/demo --samples 4 --batch 16 # quicker
      trainer report --run blog --base-model ~/models/SmolLM2-135M-Instruct.Q4_1.gguf
      trainer report --run blog --out /tmp/report.html --seed 7
    """
    setup_logging(verbose)
    try:
        report, paths = make_report(
            report_run(positional, run, models_dir), out=out, samples=samples, batch=batch, seed=seed,
            length=length, base_model=base_model, corpus=corpus, precision=precision,
            progress=True, threads=threads)
    except UserError as exc:
        fail(exc)
    readiness = getattr(report, "readiness", None)  # the headline, with its reasons
    if readiness is not None:
        click.echo(readiness.headline)
        for why in readiness.reasons:
            click.echo(f"  - {why}")
    if report.perplexity is not None:
        click.echo(report.perplexity.verdict)
    m = report.memorisation
    click.echo(f"{m.gate_passed} of {m.samples} samples pass the gate; {m.copied} copy "
               f"{m.threshold}+ tokens from the corpus")
    for warning in report.warnings:
        click.echo(f"warning: {warning}")
    for path in paths:
        click.echo(f"wrote {path}")
