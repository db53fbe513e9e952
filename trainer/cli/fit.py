"""`trainer fit` and `trainer eval`: thin click layers over ``trainer.training.fit.fit`` and
``trainer.evaluation.perplexity.perplexity``. Torch is imported only when a command runs."""
from __future__ import annotations

import dataclasses
import logging
import os
import sys

import click
from click.core import ParameterSource

from common.errors import fail
from trainer.cli.log_setup import setup_logging
from common.errors import TrainerError, UserError

log = logging.getLogger("trainer")

FIT_HELP = """Fine-tune a causal LM (GPT-2 by default) on the corpus; resumable at any time.

\b
Examples:
  trainer fit --steps 1000                      # data/corpus.txt + gpt2 -> models/blog/
  trainer fit --steps 500                       # the same run again: resumes, 500 more steps
  trainer fit --until-step 1500                 # resumes (or starts) and stops at step 1500 in all
  trainer fit --model ./gpt2-local --run blog   # a local model folder (offline)
  trainer fit --model smollm2/model.gguf        # a .gguf file (pip install gguf accelerate)
  trainer fit --from-scratch --size tiny --steps 600 --run demo   # no download, a few CPU minutes
  trainer fit --batch-size 4 --grad-accum 2 --grad-checkpointing  # less GPU memory
  torchrun --nproc_per_node=4 -m trainer.cli fit -r blog --steps 1000   # 4 GPUs (DDP)

\b
The run folder models/NAME/ gets: the final model and tokenizer (from_pretrained loads it),
train.json, metrics.jsonl, loss.png, samples/step-N.txt, checkpoints/step-N/ (the last --keep)
and best/ (the lowest validation loss). Ctrl-C or SIGTERM saves a checkpoint and exits; run the
same command again to resume (--steps N always means N more steps; --until-step N ends at step N
however often the command was interrupted). --fresh starts over.
"""

EVAL_HELP = """Print the held-out perplexity of one or more models on a corpus.

The held-out posts are the ones `trainer fit` holds out with the same --val-fraction, so a
fine-tuned model is measured on posts it never saw. Lower is better; compare models that share a
tokenizer (perplexity is per token).

\b
Examples:
  trainer eval --model gpt2 --model models/blog      # base vs fine-tuned
  trainer eval --model models/blog --all-posts       # every post (includes training posts)
  trainer eval --model models/demo --corpus other/corpus.txt
"""


@click.command("fit", help=FIT_HELP, short_help="Fine-tune GPT-2 on the corpus (resumable).")
@click.option("--corpus", default="data/corpus.txt", show_default=True, help="Corpus file from `make corpus`.")
@click.option("--model", default="gpt2", show_default=True,
              help="Base model: a Hugging Face id, a local model folder, or a .gguf file.")
@click.option("--run", "-r", "run", default="blog", show_default=True,
              help="Run name: writes models/NAME/ (a value with a slash is used as the folder). "
                   "Under torchrun write -r NAME: torchrun reads --run as its own --run-path.")
@click.option("--steps", default=1000, show_default=True, type=click.IntRange(min=1),
              help="Optimizer steps to run now; on a resumed run, N more.")
@click.option("--until-step", type=click.IntRange(min=1), default=None, metavar="N",
              help="Instead of --steps: train until step N in all (a resumed run trains the steps "
                   "left), so rerunning an interrupted command ends where it would have.")
@click.option("--from-scratch", is_flag=True, help="Train a fresh GPT-2 and a tokenizer built on the corpus (no download).")
@click.option("--size", default="tiny", show_default=True, type=click.Choice(["tiny", "small", "gpt2"]),
              help="Model size for --from-scratch.")
@click.option("--block-size", type=click.IntRange(min=2), default=None,
              help="Tokens per training window [default: min(1024, model context)]; shorter corpora use shorter windows.")
@click.option("--batch-size", default=8, show_default=True, type=click.IntRange(min=1), help="Windows per micro-batch.")
@click.option("--grad-accum", default=1, show_default=True, type=click.IntRange(min=1),
              help="Micro-batches per optimizer step (same result, less memory).")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Peak learning rate [default: 5e-5 fine-tuning; from scratch 3e-3 tiny, 1e-3 small, 6e-4 gpt2].")
@click.option("--warmup", type=click.IntRange(min=0), default=None,
              help="Linear warmup steps [default: 10% of --steps, at most 100].")
@click.option("--schedule", default="cosine", show_default=True, type=click.Choice(["cosine", "constant"]),
              help="Learning-rate schedule after warmup (cosine decays to 10% of --lr).")
@click.option("--weight-decay", default=0.01, show_default=True, type=float, help="AdamW weight decay.")
@click.option("--val-fraction", default=0.1, show_default=True, type=float,
              help="Share of whole posts held out for validation (at least one when there are 2+).")
@click.option("--eval-every", default=100, show_default=True, type=click.IntRange(min=1), help="Validate every N steps.")
@click.option("--sample-every", default=200, show_default=True, type=click.IntRange(min=0),
              help="Print and save samples every N steps (0: never).")
@click.option("--sample-num", default=1, show_default=True, type=click.IntRange(min=0), help="Samples each time.")
@click.option("--sample-length", default=200, show_default=True, type=click.IntRange(min=1), help="Tokens per sample.")
@click.option("--save-every", default=100, show_default=True, type=click.IntRange(min=1), help="Checkpoint every N steps.")
@click.option("--keep", default=3, show_default=True, type=click.IntRange(min=1), help="Checkpoints to keep.")
@click.option("--seed", default=1234, show_default=True, type=int, help="Random seed (data order, dropout, samples).")
@click.option("--precision", default="auto", show_default=True, type=click.Choice(["auto", "bf16", "fp16", "fp32"]),
              help="auto: bf16 on GPUs that have it (else fp16), bf16 on CPUs with native bf16, else fp32.")
@click.option("--compile", "compile_mode", default="auto", show_default=True, type=click.Choice(["auto", "on", "off"]),
              help="torch.compile the model (auto: on CUDA).")
@click.option("--grad-checkpointing", is_flag=True, help="Recompute activations in backward: much less memory, ~30% slower.")
@click.option("--device", default="auto", show_default=True, help="auto, cuda, cuda:N, mps or cpu.")
@click.option("--fresh", is_flag=True, help="Start the run over instead of resuming (the old model stays until the new one is written).")
@click.option("--no-progress", is_flag=True, help="No progress bar (logs only).")
@click.option("-v", "--verbose", is_flag=True, help="More detail in the logs.")
def fit_command(**options) -> None:
    setup_logging(options.pop("verbose"))
    from trainer.training.fit import FitConfig, fit

    options["compile"] = options.pop("compile_mode")
    options["progress"] = not options.pop("no_progress")
    until = options.pop("until_step")
    steps_given = click.get_current_context().get_parameter_source("steps") is not ParameterSource.DEFAULT
    if until is not None and steps_given:
        raise click.UsageError("give --steps N (N more steps) or --until-step N (up to step N), not both")
    try:
        config = FitConfig(**options)
        if until is not None:
            steps = steps_until(config, until)
            if steps is None:
                click.echo(f"nothing to train: the model in {config.run_dir} is at step {until} "
                           f"or later (--until-step {until})")
                return
            config = dataclasses.replace(config, steps=steps)
        result = fit(config)
    except UserError as exc:
        fail(exc)
    except OSError as exc:  # a disk that is full, read-only or gone (logs, samples, plots, ...)
        where = f" ({exc.filename})" if exc.filename else ""
        fail(f"cannot write{where}: {exc.strerror or exc}; the last checkpoint is intact: "
             "free some space (or fix the folder) and run the same command again")
    except KeyboardInterrupt:
        click.echo("aborted (no checkpoint written since the last one)", err=True)
        sys.exit(130)
    if int(os.environ.get("RANK", "0")) != 0:
        return  # under torchrun, rank 0 reports
    if result.stopped:
        resume = f"(it ends at step {until})" if until else "(--steps N runs N more steps)"
        click.echo(
            f"stopped at step {result.step}: checkpoint saved in {result.run_dir}/checkpoints/step-{result.step}/; "
            f"run the same command to resume {resume}"
        )
        return
    s = result.summary
    val = f", val loss {s['val_loss']:.3f} (perplexity {s['val_perplexity']:.1f})" if s["val_loss"] is not None else ""
    best = f"; best validation at step {s['best_step']} in {result.run_dir}/best/" if s["best_step"] else ""
    click.echo(
        f"done: step {s['steps']}, train loss {s['train_loss']:.3f}{val}, {s['tokens_seen']:,} tokens "
        f"in {s['time_s']:.0f}s. Model in {result.run_dir}/{best}"
    )
    for warning in s["warnings"]:
        click.echo(f"warning: {warning}", err=True)


def steps_until(config, until: int) -> int | None:
    """``--until-step N`` as a number of steps to run now: N for a new run (or ``--fresh``), what
    is left after the checkpoint the run will resume from (the one ``fit`` picks), or None when the
    run's final model is already at step N or later. A run stopped at step N or later without its
    final model (killed while writing it) runs one more step, so that it is written."""
    from trainer.training import checkpoint as ckpt
    from trainer.runs import read_summary

    run_dir = config.run_dir
    latest = None if config.fresh else ckpt.load_latest(run_dir, load_model=False)
    if latest is None:
        return until
    try:
        finished = int(read_summary(run_dir, missing_ok=True).get("steps", 0))
    except (ValueError, TypeError):
        finished = 0
    if finished >= until and finished == latest.step:
        return None
    return max(1, until - latest.step)


@click.command("eval", help=EVAL_HELP, short_help="Held-out perplexity of a model on the corpus.")
@click.option("--model", "models", multiple=True, default=["models/blog"], show_default=True,
              help="Model folder, .gguf file or Hugging Face id; repeat to compare.")
@click.option("--corpus", default="data/corpus.txt", show_default=True, help="Corpus file.")
@click.option("--val-fraction", type=float, default=None,
              help="Held-out share of posts [default: the run's, from its train.json, else 0.1].")
@click.option("--all-posts", is_flag=True, help="Measure every post, not only the held-out ones.")
@click.option("--block-size", type=click.IntRange(min=2), default=None, help="Window length [default: min(1024, context)].")
@click.option("--batch-size", default=8, show_default=True, type=click.IntRange(min=1), help="Windows per batch.")
@click.option("--device", default="auto", show_default=True, help="auto, cuda, mps or cpu.")
@click.option("--precision", default="fp32", show_default=True, type=click.Choice(["auto", "bf16", "fp16", "fp32"]))
@click.option("-v", "--verbose", is_flag=True, help="More detail in the logs.")
def eval_command(models, corpus, val_fraction, all_posts, block_size, batch_size, device, precision, verbose) -> None:
    setup_logging(verbose)
    try:
        for ref in models:
            click.echo(evaluate_model(ref, corpus, val_fraction=val_fraction, all_posts=all_posts,
                                      block_size=block_size, batch_size=batch_size, device=device,
                                      precision=precision))
    except UserError as exc:
        fail(exc)


def evaluate_model(ref: str, corpus_path: str, *, val_fraction: float | None = None, all_posts: bool = False,
                   block_size: int | None = None, batch_size: int = 8, device: str = "auto",
                   precision: str = "fp32") -> str:
    """One line: the perplexity of model ``ref`` on the held-out posts of the corpus."""
    from trainer.training import data
    from trainer.devices import pick_device, resolve_precision
    from trainer.evaluation.perplexity import perplexity
    from trainer.model_loading import EVAL_HINT, load_model

    corpus = data.read_corpus(corpus_path)
    if val_fraction is None:
        from trainer.runs import read_summary

        try:
            val_fraction = float(read_summary(ref, missing_ok=True).get("val_fraction", 0.1))
        except (ValueError, TypeError):
            val_fraction = 0.1
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
