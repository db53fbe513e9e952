"""`trainer report RUN`: a thin click layer over ``trainer.evaluation.report.build_report`` and
``trainer.evaluation.report_page.write_report``."""
from __future__ import annotations

import logging

import click

from common.errors import UserError

log = logging.getLogger(__name__)


def make_report(run: str, *, models_dir: str = "models", out: str | None = None, **options):
    """Build the report of ``run`` (a name under ``models_dir`` or a path) and write it.

    Returns ``(report, paths)``, ``paths`` being the HTML, Markdown and JSON files written;
    raises ``TrainerError`` with one line.
    """
    from trainer.evaluation.report import build_report
    from trainer.runs import existing_run
    from trainer.evaluation.report_page import write_report

    run_dir = existing_run(run, models_dir)
    report = build_report(run_dir, **options)
    return report, write_report(report, out)


@click.command("report")
@click.argument("run", default="blog", metavar="[RUN]")
@click.option("--models-dir", default="models", show_default=True,
              help="Where run names are looked up.")
@click.option("-n", "--samples", default=8, show_default=True, type=click.IntRange(0),
              help="Samples shown in the gallery, with their gate verdicts.")
@click.option("--batch", default=64, show_default=True, type=click.IntRange(1),
              help="Samples drawn for the memorisation and diversity figures.")
@click.option("--seed", default=0, show_default=True, type=int,
              help="Seed of the samples: same model and seed -> same report.")
@click.option("--length", default=400, show_default=True, type=click.IntRange(1),
              help="Maximum new tokens per sample.")
@click.option("--base-model", metavar="REF",
              help="Model to compare held-out perplexity with: a folder, a .gguf file or a Hugging "
                   "Face id (default: train.json's base_model; none for from-scratch runs).")
@click.option("--corpus", type=click.Path(dir_okay=False),
              help="Corpus file (default: train.json's corpus_path).")
@click.option("--precision", default="auto", show_default=True,
              type=click.Choice(["auto", "int8", "bf16", "fp32"]),
              help="Sampling precision (auto: what the plugin uses).")
@click.option("--out", type=click.Path(),
              help="Where to write the HTML page (default: RUN/report.html); the Markdown and "
                   "JSON twins go beside it (.md, .json).")
@click.option("-v", "--verbose", is_flag=True, help="More detail in the logs.")
def report_command(run, models_dir, samples, batch, seed, length, base_model, corpus, precision, out,
                   verbose):
    """Write RUN/report.html (+ report.md, report.json): is the model any good?

    Loss curves, held-out perplexity against the base model, a gallery of samples with the
    quality gate's verdicts, memorisation and diversity figures, and warnings in plain words.
    RUN is a run name under --models-dir or a path to a run folder.

    \b
    Examples:
      trainer report blog                                   # models/blog/report.html
      trainer report models/demo --samples 4 --batch 16     # quicker
      trainer report blog --base-model ~/models/SmolLM2-135M-Instruct.Q4_1.gguf
      trainer report blog --out /tmp/report.html --seed 7
    """
    from common.errors import fail
    from trainer.cli.log_setup import setup_logging  # the trainer's log format, tqdm-safe

    setup_logging(verbose)
    try:
        report, paths = make_report(
            run, models_dir=models_dir, out=out, samples=samples, batch=batch, seed=seed,
            length=length, base_model=base_model, corpus=corpus, precision=precision,
            progress=True)
    except UserError as exc:
        fail(exc)
    if report.perplexity is not None:
        click.echo(report.perplexity.verdict)
    m = report.memorisation
    click.echo(f"{m.gate_passed} of {m.samples} samples pass the gate; {m.copied} copy "
               f"{m.threshold}+ tokens from the corpus")
    for warning in report.warnings:
        click.echo(f"warning: {warning}")
    for path in paths:
        click.echo(f"wrote {path}")
