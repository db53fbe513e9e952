"""`trainer eval`: held-out perplexity of runs and base models, a thin click layer over
``evaluate_model`` (``trainer.evaluation.perplexity``). Torch is imported only when it runs.

``--run`` names runs, as in every command (README.md, "Naming a run"); ``--model`` names a base
model, as in ``trainer fit``: a Hugging Face id, a ``.gguf`` file or a model folder. A ``--model``
value that is a run folder (it holds ``train.json``) is the old spelling of ``--run``: it is
measured all the same, with one note saying to write ``--run``.
"""
from __future__ import annotations

from pathlib import Path

import click

from common.errors import RunFolderError, TrainerError, UserError, fail
from trainer.cli.defaults import defaults_of, defaults_of_this, load_fit_config
from trainer.cli.log_setup import setup_logging
from trainer.cli.run_option import found_run, note_deprecated, run_options
from trainer.runs import DEFAULT_RUN, SUMMARY

EVAL_HELP = """Print the held-out perplexity of runs and base models on a corpus.

The held-out posts are the ones `trainer fit` holds out with the same --val-fraction, so a
fine-tuned model is measured on posts it never saw. Lower is better; compare models that share a
tokenizer (perplexity is per token). Base models (--model) are printed first, then runs (--run).

\b
Examples:
  trainer eval                                  # the run models/blog
  trainer eval --model gpt2 --run blog          # base vs fine-tuned
  trainer eval --run blog --all-posts           # every post (includes training posts)
  trainer eval --run demo --corpus other/corpus.txt
"""


def evaluate_model(ref: str, corpus_path: str, *, val_fraction: float | None = None, all_posts: bool = False,
                   block_size: int | None = None, batch_size: int = 8, device: str = "auto",
                   precision: str = "fp32") -> str:
    """One line: the perplexity of model ``ref`` on the held-out posts of the corpus."""
    from trainer.devices import pick_device, resolve_precision
    from trainer.evaluation.perplexity import perplexity
    from trainer.model_loading import EVAL_HINT, load_model
    from trainer.runs import read_summary
    from trainer.training import data
    from trainer.training.fit import FitConfig

    corpus = data.read_corpus(corpus_path)
    if val_fraction is None:
        try:
            val_fraction = float(read_summary(ref, missing_ok=True).get("val_fraction", FitConfig.val_fraction))
        except (ValueError, TypeError):
            val_fraction = FitConfig.val_fraction
    if all_posts:
        documents, label = corpus.documents, f"all {len(corpus.documents)} posts"
    else:
        _train, val = data.held_out_split(corpus.documents, val_fraction)
        if not val:
            raise TrainerError(f"no held-out posts in {corpus.path} (it has {len(corpus.documents)}): use --all-posts")
        documents, label = [corpus.documents[i] for i in val], f"{len(val)} held-out post{'s' * (len(val) > 1)}"
    model, tokenizer = load_model(ref, hint=EVAL_HINT)
    torch_device = pick_device(device)
    precision = resolve_precision(torch_device, precision)
    model.to(torch_device)
    result = perplexity(model, tokenizer, documents, block_size, batch_size=batch_size, device=torch_device,
                        precision=precision)
    return (f"{ref}: perplexity {result.perplexity:.2f} (loss {result.loss:.4f} nats/token) on {label}, "
            f"{result.tokens:,} tokens, block {result.block_size}")


def measured(runs: tuple[str, ...], models: tuple[str, ...], models_dir: str) -> list[str]:
    """What to measure, in order: each ``--model``, then each ``--run`` (the default run when
    neither is given). Every run is found before anything is measured or noted."""
    runs = runs or (() if models else (DEFAULT_RUN,))
    try:
        run_dirs = [str(found_run("eval", run, models_dir)) for run in runs]
    except RunFolderError as exc:
        raise RunFolderError(f"{exc}; to measure a base model instead, pass --model PATH (a .gguf "
                             "file or model folder) or a Hugging Face id") from None
    for ref in models:
        if (Path(ref).expanduser() / SUMMARY).is_file():  # a run folder: the old spelling of --run
            note_deprecated("eval", f"--model {ref}", ref)
    return [*models, *run_dirs]


fit_default = defaults_of(load_fit_config)
eval_default = defaults_of_this(evaluate_model)


@click.command("eval", help=EVAL_HELP, short_help="Held-out perplexity of a model on the corpus.")
@run_options("A run to measure: a name under --models-dir or a path to a run folder; repeat to "
             "compare.", multiple=True, default=(), show_default=f"{DEFAULT_RUN}, without --model")
@click.option("--model", "models", multiple=True, metavar="REF",
              help="A base model to measure, as `trainer fit --model` takes it: a Hugging Face id, "
                   "a .gguf file or a model folder; repeat to compare.")
@click.option("--corpus", default=fit_default("corpus"), show_default=True, type=str, help="Corpus file.")
@click.option("--val-fraction", type=float, default=eval_default("val_fraction"),
              help="Held-out share of posts [default: the run's, from its train.json, else trainer fit's].")
@click.option("--all-posts", is_flag=True, help="Measure every post, not only the held-out ones.")
@click.option("--block-size", type=click.IntRange(min=2), default=eval_default("block_size"),
              help="Window length [default: min(1024, context)].")
@click.option("--batch-size", default=eval_default("batch_size"), show_default=True, type=click.IntRange(min=1),
              help="Windows per batch.")
@click.option("--device", default=eval_default("device"), show_default=True, type=str, help="auto, cuda, mps or cpu.")
@click.option("--precision", default=eval_default("precision"), show_default=True,
              type=click.Choice(["auto", "bf16", "fp16", "fp32"]))
@click.option("-v", "--verbose", is_flag=True, help="More detail in the logs.")
def eval_command(run, models_dir, models, corpus, val_fraction, all_posts, block_size, batch_size, device,
                 precision, verbose) -> None:
    setup_logging(verbose)
    try:
        for ref in measured(run, models, models_dir):
            click.echo(evaluate_model(ref, corpus, val_fraction=val_fraction, all_posts=all_posts,
                                      block_size=block_size, batch_size=batch_size, device=device,
                                      precision=precision))
    except UserError as exc:
        fail(exc)
