"""Is LoRA worth it on a CPU? Full fine-tuning against LoRA (``peft``) for SmolLM2-135M: step speed,
trainable parameters, bytes on disk and, with ``--quality``, held-out loss after equal training time.

    .venv/bin/python bench/lora.py                        # speed + size (batch 4 x 256, 3 + 5 steps each)
    .venv/bin/python bench/lora.py --quality 300          # + 5 minutes of training per method on content/
    .venv/bin/python bench/lora.py --rank 8 --threads 2   # another LoRA rank, thread count

Needs ``peft`` (``.venv/bin/pip install peft``; not a project dependency).

- speed: SmolLM2-135M's architecture, random weights, the same random batch for both sides. Full
  fine-tune: bench/train.py's ``ours_side`` (the fit loop's step). LoRA: the same model prepared by
  ``trainer.training.model_prep``, wrapped by ``peft.get_peft_model`` (rank ``--rank``, alpha 2 x
  rank, no dropout, on q/k/v/o and gate/up/down projections), stepped the same way (``autocast``,
  ``make_optimizer`` over the trainable parameters, ``optimizer_step``). Timed steps alternate
  between the two as in bench/train.py, so both see the same machine load; the figure is the median.
- size: trainable parameters, the optimizer state (AdamW moments), and the bytes ``save_pretrained``
  writes: the whole model (full fine-tune) vs the adapter (``peft``).
- quality (``--quality SECONDS``): the demo blog's corpus (corpus-builder on content/), the held-out
  posts ``trainer fit`` holds out, its windows; each method starts from a fresh copy of the embedded
  model (``load_model("smollm2")``) and trains for SECONDS of wall-clock time (lr 3e-4 full, 1e-3
  LoRA, ``--warmup-lr`` steps of linear warmup, then constant); held-out loss before and after.
  The methods run one after the other, so a busy machine can favour one of them.

Prints the CPU flags, the versions, a table, then one JSON line with every figure.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

import torch  # noqa: E402
import train as train_bench  # noqa: E402  (bench/train.py)

from trainer.devices import autocast, cpu_flags, default_threads, resolve_precision  # noqa: E402
from trainer.evaluation.perplexity import evaluate_windows, perplexity_of  # noqa: E402
from trainer.model_loading import load_model  # noqa: E402
from trainer.training import data, model_prep  # noqa: E402
from trainer.training.config import FitConfig  # noqa: E402
from trainer.training.optimizer import (  # noqa: E402
    learning_rate,
    make_optimizer,
    optimizer_step,
    set_learning_rate,
)
from trainer.training.setup import EVAL_WINDOWS  # noqa: E402

NEEDS_PEFT = "bench/lora.py needs peft: .venv/bin/pip install peft"
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
LR = {"full": 3e-4, "lora": 1e-3}


def lora_wrap(model, rank: int):
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.0, target_modules=TARGETS,
                        task_type="CAUSAL_LM")
    with warnings.catch_warnings():  # peft asks transformers 5 a deprecated question (FutureWarning)
        warnings.simplefilter("ignore", FutureWarning)
        return get_peft_model(model, config)


def lora_side(device, *, precision: str, rank: int):
    """The LoRA counterpart of bench/train.py's ``ours_side``: same model, preparation and step."""
    model = train_bench.build_model(name="smollm2")
    model.train()
    model = lora_wrap(model_prep.prepare_model(model, device), rank)
    objective = model_prep.training_objective(model, device, "auto")
    optimizer = make_optimizer(model, lr=1e-4, weight_decay=0.1, device=device)

    def step(x, y):
        with autocast(device, precision):
            loss = objective(x, y)
        loss.backward()
        optimizer_step(model, optimizer)
        return loss.detach()

    return train_bench.Side("lora", model, optimizer, step, device)


def trainable(model) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def state_bytes(optimizer) -> int:
    return sum(v.numel() * v.element_size() for s in optimizer.state.values() for v in s.values()
               if torch.is_tensor(v))


def saved_bytes(model) -> dict:
    """Bytes ``save_pretrained`` writes: the weights (*.safetensors) and the whole folder."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # "Writing model shards"
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        files = [p for p in Path(tmp).rglob("*") if p.is_file()]
        return {"weights": sum(p.stat().st_size for p in files if p.suffix == ".safetensors"),
                "folder": sum(p.stat().st_size for p in files)}


def speed_and_size(args, device, precision: str) -> dict:
    shape = (args.batch_size, args.block_size + 1)
    vocab = train_bench.smollm2_config().vocab_size
    window = torch.randint(0, vocab, shape, generator=torch.Generator().manual_seed(1234))
    x, y = window[:, :-1], window[:, 1:]
    sides = [train_bench.ours_side(device, precision=precision, compile="auto", grad_checkpointing=False,
                                   name="smollm2"),
             lora_side(device, precision=precision, rank=args.rank)]
    sides[0].name = "full"
    for side in sides:
        for _ in range(args.warmup):
            side.step(x, y, record=False)
    for _ in range(args.steps):  # alternate, so that both sides see the same machine load
        for side in sides:
            side.step(x, y, record=True)
    tokens = args.batch_size * args.block_size
    return {s.name: {"tok_s": round(tokens / statistics.median(s.times), 1),
                     "step_s": [round(t, 3) for t in s.times],
                     "trainable_params": trainable(s.model),
                     "optimizer_state_bytes": state_bytes(s.optimizer),
                     "saved_bytes": saved_bytes(s.model)} for s in sides}


def quality(args, device, precision: str) -> dict:
    """Held-out loss of the embedded model before and after SECONDS of each method on content/."""
    cfg = FitConfig()
    with tempfile.TemporaryDirectory() as tmp:
        corpus_path = Path(tmp) / "corpus.txt"
        subprocess.run([sys.executable, "-m", "corpus_builder.cli", "content", "-s", "pelicanconf.py",
                        "-o", str(corpus_path), "-q"], cwd=ROOT, check=True)
        corpus = data.read_corpus(corpus_path)
    train_idx, val_idx = data.held_out_split(corpus.documents, cfg.val_fraction)
    _, tokenizer = load_model("smollm2")
    tokens = data.encode_documents(corpus.documents, tokenizer)
    eos = tokenizer.eos_token_id
    train_stream = data.token_stream([tokens[i] for i in train_idx], eos)
    val_stream = data.token_stream([tokens[i] for i in val_idx], eos)
    val_windows = data.validation_windows(val_stream, args.block_size, max_windows=EVAL_WINDOWS)

    def held_out(model) -> dict:
        loss, count = evaluate_windows(model, val_windows, batch_size=args.batch_size, device=device,
                                       precision=precision)
        return {"loss": round(loss, 4), "perplexity": round(perplexity_of(loss), 2), "tokens": count}

    result = {"train_posts": len(train_idx), "held_out_posts": len(val_idx), "seconds": args.quality}
    for method, lr in LR.items():
        model, _ = load_model("smollm2")  # a fresh copy of the pretrained weights
        model.train()
        model = model_prep.prepare_model(model, device)
        if "before" not in result:
            result["before"] = held_out(model)
        if method == "lora":
            model = lora_wrap(model, args.rank)
        objective = model_prep.training_objective(model, device, "auto")
        optimizer = make_optimizer(model, lr=lr, weight_decay=cfg.weight_decay, device=device)
        windows = data.TrainWindows(train_stream, args.block_size, args.batch_size, seed=cfg.seed,
                                    eos_id=eos, post_start_share=cfg.post_start_share)
        torch.manual_seed(cfg.seed)
        step, start = 0, time.perf_counter()
        while time.perf_counter() - start < args.quality:
            set_learning_rate(optimizer, learning_rate(step, lr=lr, warmup=args.warmup_lr, horizon=step + 1,
                                                       schedule="constant"))
            x, y = windows.batch(step)
            with autocast(device, precision):
                loss = objective(x.to(device), y.to(device))
            loss.backward()
            optimizer_step(model, optimizer)
            step += 1
        result[method] = {"lr": lr, "steps": step, "train_s": round(time.perf_counter() - start, 1),
                          "last_train_loss": round(float(loss.detach()), 4), **held_out(model)}
        del model, objective, optimizer
    return result


def versions() -> dict:
    import peft

    return {**train_bench.versions(), "peft": peft.__version__}


def table(result: dict) -> str:
    speed, q = result["speed"], result.get("quality")
    rows = [("", "full fine-tune", f"LoRA r={result['rank']}")]

    def row(label, fn, source=speed):
        rows.append((label, *(fn(source[k]) for k in ("full", "lora"))))

    row("tokens/s (median step)", lambda s: f"{s['tok_s']:,.1f}")
    row("trainable parameters", lambda s: f"{s['trainable_params']:,}")
    row("optimizer state, MB", lambda s: f"{s['optimizer_state_bytes'] / 1e6:,.1f}")
    row("saved weights, MB", lambda s: f"{s['saved_bytes']['weights'] / 1e6:,.1f}")
    if q:
        def loss(s):
            return f"{s['loss']:.4f} (ppl {s['perplexity']:.1f})"

        rows.append((f"held-out loss before ({q['held_out_posts']} posts)", *[loss(q["before"])] * 2))
        row(f"held-out loss after {q['seconds']:g} s", loss, q)
        row("steps done", lambda s: f"{s['steps']} (lr {s['lr']:g})", q)
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(f"{a:<{widths[0]}}  {b:>{widths[1]}}  {c:>{widths[2]}}" for a, b, c in rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--block-size", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--steps", type=int, default=5, help="timed steps per side (default 5)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per side first (default 3)")
    parser.add_argument("--rank", type=int, default=16, help="LoRA rank (alpha is twice it; default 16)")
    parser.add_argument("--quality", type=float, default=None, metavar="SECONDS",
                        help="also train each method SECONDS on content/ and compare held-out loss")
    parser.add_argument("--warmup-lr", type=int, default=4,
                        help="--quality: learning-rate warmup steps (default 4)")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads (default: trainer.devices.default_threads())")
    parser.add_argument("--precision", default="auto", help="auto|bf16|fp32 (default auto: as trainer fit)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    if importlib.util.find_spec("peft") is None:
        parser.parse_args(argv)  # --help still works
        print(NEEDS_PEFT, file=sys.stderr)
        return 2
    args = train_bench.parse_args(parser, argv)
    torch.set_num_threads(args.threads or default_threads())
    device = torch.device("cpu")
    precision = resolve_precision(device, args.precision)
    flags = sorted(f for f in cpu_flags() if f.startswith(("avx512", "amx", "avx2", "avx_vnni")))
    result = {"device": f"cpu: {train_bench.cpu_name()}", "threads": torch.get_num_threads(),
              "cpu_flags": flags, "model": "smollm2-135M", "precision": precision, "block": args.block_size,
              "batch": args.batch_size, "steps": args.steps, "warmup": args.warmup, "rank": args.rank,
              "versions": versions()}
    print("CPU flags:", " ".join(flags) or "none of avx2/avx512/amx")
    print("versions:", ", ".join(f"{k} {v}" for k, v in result["versions"].items() if v))
    print(f"{result['device']}, {result['threads']} threads, {precision}, "
          f"batch {args.batch_size} x block {args.block_size}\n")
    result["speed"] = speed_and_size(args, device, precision)
    result["lora_speedup"] = round(result["speed"]["lora"]["tok_s"] / result["speed"]["full"]["tok_s"], 3)
    if args.quality:
        result["quality"] = quality(args, device, precision)
    print(table(result))
    print(f"LoRA / full tokens/s: {result['lora_speedup']:.3f}\n")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
