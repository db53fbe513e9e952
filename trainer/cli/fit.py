"""`trainer fit`: a thin click layer over ``trainer.training.fit.fit``.

Every option's default is ``FitConfig``'s (``trainer.cli.defaults``). Torch is imported when the
command runs or prints its help (reading ``FitConfig``), never when the group is imported.
"""
from __future__ import annotations

import dataclasses
import os
import sys

import click

from common.errors import UserError, fail
from trainer.cli.defaults import defaults_of, load_fit_config
from trainer.cli.log_setup import setup_logging
from trainer.cli.run_option import given, run_options

fit_default = defaults_of(load_fit_config)

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


@click.command("fit", help=FIT_HELP, short_help="Fine-tune GPT-2 on the corpus (resumable).")
@click.option("--corpus", default=fit_default("corpus"), show_default=True, type=str,
              help="Corpus file from `make corpus`.")
@click.option("--model", default=fit_default("model"), show_default=True, type=str,
              help="Base model: a Hugging Face id, a local model folder, or a .gguf file.")
@run_options("The run to write (created, or resumed): a name under --models-dir or a path. Under "
             "torchrun write -r NAME: torchrun reads --run as its own --run-path.",
             default=fit_default("run"), models_dir=fit_default("models_dir"))
@click.option("--steps", default=fit_default("steps"), show_default=True, type=click.IntRange(min=1),
              help="Optimizer steps to run now; on a resumed run, N more.")
@click.option("--until-step", type=click.IntRange(min=1), default=None, metavar="N",
              help="Instead of --steps: train until step N in all (a resumed run trains the steps "
                   "left), so rerunning an interrupted command ends where it would have.")
@click.option("--from-scratch", is_flag=True, help="Train a fresh GPT-2 and a tokenizer built on the corpus (no download).")
@click.option("--size", default=fit_default("size"), show_default=True, type=click.Choice(["tiny", "small", "gpt2"]),
              help="Model size for --from-scratch.")
@click.option("--block-size", type=click.IntRange(min=2), default=fit_default("block_size"),
              help="Tokens per training window [default: min(1024, model context)]; shorter corpora use shorter windows.")
@click.option("--batch-size", default=fit_default("batch_size"), show_default=True, type=click.IntRange(min=1),
              help="Windows per micro-batch.")
@click.option("--post-start-share", default=fit_default("post_start_share"), show_default=True,
              type=click.FloatRange(0, 1), metavar="SHARE",
              help="Share of each batch's windows that begin where a post begins (title first): "
                   "a short fine-tune learns how a post starts (the demo model uses 0.5).")
@click.option("--grad-accum", default=fit_default("grad_accum"), show_default=True, type=click.IntRange(min=1),
              help="Micro-batches per optimizer step (same result, less memory).")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=fit_default("lr"),
              help="Peak learning rate [default: 5e-5 fine-tuning; from scratch 3e-3 tiny, 1e-3 small, 6e-4 gpt2].")
@click.option("--warmup", type=click.IntRange(min=0), default=fit_default("warmup"),
              help="Linear warmup steps [default: 10% of --steps, at most 100].")
@click.option("--schedule", default=fit_default("schedule"), show_default=True,
              type=click.Choice(["cosine", "constant"]),
              help="Learning-rate schedule after warmup (cosine decays to 10% of --lr).")
@click.option("--weight-decay", default=fit_default("weight_decay"), show_default=True, type=float,
              help="AdamW weight decay.")
@click.option("--val-fraction", default=fit_default("val_fraction"), show_default=True, type=float,
              help="Share of whole posts held out for validation (at least one when there are 2+).")
@click.option("--eval-every", default=fit_default("eval_every"), show_default=True, type=click.IntRange(min=1),
              help="Validate every N steps.")
@click.option("--sample-every", default=fit_default("sample_every"), show_default=True, type=click.IntRange(min=0),
              help="Print and save samples every N steps (0: never).")
@click.option("--sample-num", default=fit_default("sample_num"), show_default=True, type=click.IntRange(min=0),
              help="Samples each time.")
@click.option("--sample-length", default=fit_default("sample_length"), show_default=True,
              type=click.IntRange(min=1), help="Tokens per sample.")
@click.option("--save-every", default=fit_default("save_every"), show_default=True, type=click.IntRange(min=1),
              help="Checkpoint every N steps.")
@click.option("--keep", default=fit_default("keep"), show_default=True, type=click.IntRange(min=1),
              help="Checkpoints to keep.")
@click.option("--seed", default=fit_default("seed"), show_default=True, type=int,
              help="Random seed (data order, dropout, samples).")
@click.option("--precision", default=fit_default("precision"), show_default=True,
              type=click.Choice(["auto", "bf16", "fp16", "fp32"]),
              help="auto: bf16 on GPUs that have it (else fp16), bf16 on CPUs with native bf16, else fp32.")
@click.option("--compile", "compile_mode", default=fit_default("compile"), show_default=True,
              type=click.Choice(["auto", "on", "off"]), help="torch.compile the model (auto: on CUDA).")
@click.option("--grad-checkpointing", is_flag=True, help="Recompute activations in backward: much less memory, ~30% slower.")
@click.option("--device", default=fit_default("device"), show_default=True, type=str,
              help="auto, cuda, cuda:N, mps or cpu.")
@click.option("--fresh", is_flag=True, help="Start the run over instead of resuming (the old model stays until the new one is written).")
@click.option("--no-progress", is_flag=True, help="No progress bar (logs only).")
@click.option("--no-gate-calibration", is_flag=True,
              help="Do not calibrate the quality gate's fluency and topic checks at the end "
                   "(`trainer report` does it later).")
@click.option("-v", "--verbose", is_flag=True, help="More detail in the logs.")
def fit_command(**options) -> None:
    setup_logging(options.pop("verbose"))
    from trainer.training.fit import FitConfig, fit

    options["compile"] = options.pop("compile_mode")
    options["progress"] = not options.pop("no_progress")
    options["gate_calibration"] = not options.pop("no_gate_calibration")
    until = options.pop("until_step")
    if until is not None and given("steps"):
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
    from trainer.runs import read_summary
    from trainer.training import checkpoint as ckpt

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
