"""`trainer export-web RUN`: a thin click layer over ``trainer.web.export.export_web``."""
from __future__ import annotations

import click

from common.errors import TrainerError, UserError, fail
from trainer.cli.log_setup import setup_logging
from trainer.cli.run_option import found_run, given, run_options

# Above this, the plugin warns that readers download a lot (a GPT-2 124M-size model is ~130 MB).
PHONE_MB = 50


def size_line(size_mb: float) -> str:
    """The one line about the folder's size that a user reads after an export."""
    note = "" if size_mb <= PHONE_MB else (
        f": heavy for a phone on mobile data (over {PHONE_MB} MB); readers download it once, when they "
        "press the button")
    return f"{size_mb:.1f} MB to download{note}"


@click.command("export-web")
@click.argument("positional", required=False, metavar="[RUN]")
@run_options("The run to export: a name under --models-dir or a path to a run folder (or give RUN as an argument).")
@click.option("--out", type=click.Path(file_okay=False), help="Where to write the folder (default: RUN/web).")
@click.option("--corpus", type=click.Path(dir_okay=False),
              help="Corpus whose held-out posts check the export (default: train.json's corpus_path).")
@click.option("--check-tokens", default=2048, show_default=True, type=click.IntRange(2, 100_000),
              help="Held-out tokens the export is checked on (fewer: quicker, a noisier perplexity).")
@click.option("-v", "--verbose", is_flag=True, help="More detail in the logs.")
def export_web_command(positional, run, models_dir, out, corpus, check_tokens, verbose):
    """Write the run's model for readers' browsers: ONNX with int8 weights, its tokenizer and the
    onnxruntime-web files, in one folder the site serves (the plugin's DAILY_POST_BROWSER).

    The export is checked before it is kept: on held-out posts the ONNX model's logits must match
    PyTorch's (fp32, within 0.01) and the int8 model's perplexity must stay within 2 % of it.
    Needs npm the first time (onnxruntime-web comes from the npm registry, then from the cache).

    \b
    Examples:
      trainer export-web blog                 # models/blog -> models/blog/web/
      trainer export-web models/demo          # the demo blog's model
      trainer export-web blog --out /tmp/web
    """
    setup_logging(verbose)
    from trainer.web.export import export_web

    try:
        if positional is not None and given("run"):
            raise TrainerError("give the run as --run NAME_OR_PATH or as RUN, not both")
        run_dir = found_run("export-web", positional if positional is not None else run, models_dir)
        result = export_web(run_dir, out, corpus=corpus, check_tokens=check_tokens)
    except UserError as exc:
        fail(exc)
    check = result.manifest["check"]
    click.echo(f"checked on {check['tokens']} tokens: logits within {check['max_logit_difference']:.2g} "
               f"(fp32), perplexity {check['perplexity_torch']:.3f} -> {check['perplexity_int8']:.3f} "
               f"int8 ({check['perplexity_change']:+.2%})")
    click.echo(f"wrote {result.folder}: {size_line(result.size_mb)}")
