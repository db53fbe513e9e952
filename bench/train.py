"""Training speed: tokens/s of one optimizer step for GPT-2 124M (or SmolLM2-135M), the project's path vs a plain one.

    python bench/train.py                                  # CPU defaults: batch 1 x 1024, 3 + 5 steps
    python bench/train.py --model smollm2 --block-size 256 --batch-size 4   # the embedded model (Llama)
    python bench/train.py --device cuda --batch-size 16    # on a GPU (adds MFU)

Both sides train a randomly initialised GPT-2 124M (``GPT2Config()``), or with ``--model smollm2``
SmolLM2-135M's architecture (``smollm2_config()``, Llama; weights are not needed for speed), on the
same random batch, in the same process:

- baseline: the HF model in fp32 with ``attn_implementation="eager"``, ``torch.optim.AdamW`` with
  its defaults, and a plain loop (``model(x, labels=x).loss``, backward, clip, step, zero_grad);
- ours: the fit loop's step (``trainer.training.fit``): ``trainer.training.model_prep`` prepares the
  model and compile setting, ``trainer.devices`` the precision, ``trainer.training.optimizer`` the
  optimizer and its step; the loss is ``trainer.evaluation.perplexity.lm_loss``.

On the CPU, timed steps alternate between the two models so that both see the same machine load
(other processes on a shared machine slow both alike); on a GPU each side runs alone, ours first,
and is freed before the other starts. The figure is the median step. Prints one JSON
object: device, model, block, batch, baseline_tok_s, tok_s, ratio, mfu (GPU), versions.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from trainer.devices import autocast, cpu_flags, make_grad_scaler, pick_device, resolve_precision  # noqa: E402
from trainer.training import model_prep  # noqa: E402
from trainer.training.flops import flops_per_token, mfu  # noqa: E402
from trainer.training.optimizer import GRAD_CLIP, make_optimizer, optimizer_step  # noqa: E402


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


MODELS = ("gpt2", "smollm2")


def smollm2_config():
    """SmolLM2-135M's architecture (the embedded model, ``--model smollm2``) as a ``LlamaConfig``."""
    from transformers import LlamaConfig

    return LlamaConfig(vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                       num_attention_heads=9, num_key_value_heads=3, max_position_embeddings=8192,
                       rope_theta=100000.0, rms_norm_eps=1e-5, tie_word_embeddings=True)


def model_config(name: str = "gpt2"):
    from transformers import GPT2Config

    return smollm2_config() if name == "smollm2" else GPT2Config()


def build_model(seed: int = 0, name: str = "gpt2"):
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(model_config(name))


class Side:
    """One model, its optimizer and its step function, plus the step times it recorded."""

    def __init__(self, name, model, optimizer, step_fn, device):
        self.name, self.model, self.optimizer, self.step_fn, self.device = name, model, optimizer, step_fn, device
        self.times: list[float] = []
        self.loss = float("nan")

    def step(self, x, y, *, record: bool) -> None:
        sync(self.device)
        start = time.perf_counter()
        loss = self.step_fn(x, y)
        sync(self.device)
        if record:
            self.times.append(time.perf_counter() - start)
        self.loss = float(loss)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def baseline_side(device: torch.device, name: str = "gpt2") -> Side:
    model = build_model(name=name)
    model.set_attn_implementation("eager")
    model.to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step(x, y):
        loss = model(input_ids=x, labels=x).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss.detach()

    return Side("baseline", model, optimizer, step, device)


def ours_side(device: torch.device, *, precision: str, compile: str, grad_checkpointing: bool,
              attention_dropout: str = "auto", name: str = "gpt2") -> Side:
    """The fit loop's step (trainer.training.fit) on a model prepared by trainer.training.model_prep."""
    model = build_model(name=name)
    model.train()
    model = model_prep.prepare_model(model, device, grad_checkpointing=grad_checkpointing,
                                     attention_dropout=attention_dropout)
    objective = model_prep.training_objective(model, device, compile)
    optimizer = make_optimizer(model, lr=1e-4, weight_decay=0.1, device=device)
    scaler = make_grad_scaler(device, precision)

    def step(x, y):
        with autocast(device, precision):
            loss = objective(x, y)
        (scaler.scale(loss) if scaler is not None else loss).backward()
        optimizer_step(model, optimizer, scaler, clip=GRAD_CLIP)
        return loss.detach()

    return Side("ours", model, optimizer, step, device)


def run(*, device: str, block_size: int, batch_size: int, steps: int, warmup: int, precision: str,
        compile: str, grad_checkpointing: bool, skip_baseline: bool = False,
        attention_dropout: str = "auto", model: str = "gpt2") -> dict:
    dev = pick_device(device)
    prec = resolve_precision(dev, precision)
    generator = torch.Generator().manual_seed(1234)
    window = torch.randint(0, model_config(model).vocab_size, (batch_size, block_size + 1), generator=generator)
    x, y = window[:, :-1].to(dev), window[:, 1:].to(dev)

    makers = {"ours": lambda: ours_side(dev, precision=prec, compile=compile, grad_checkpointing=grad_checkpointing,
                                        attention_dropout=attention_dropout, name=model)}
    if not skip_baseline:
        makers["baseline"] = lambda: baseline_side(dev, model)
    warm_s, memory_gib = {}, {}

    def warm(side: Side) -> None:
        start = time.perf_counter()
        for _ in range(warmup):
            side.step(x, y, record=False)
        warm_s[side.name] = round(time.perf_counter() - start, 1)
        logging.info("%s: %d warm-up steps in %.1f s", side.name, warmup, warm_s[side.name])

    if dev.type == "cuda":
        # A GPU is not shared like the CPU, so each side runs alone, ours first, and is freed
        # before the next: together they would not fit (the fp32 eager baseline at batch 16
        # holds tens of GiB) or would make the allocator retry inside timed steps.
        sides = []
        for make in makers.values():
            torch.cuda.reset_peak_memory_stats(dev)
            side = make()
            warm(side)
            for _ in range(steps):
                side.step(x, y, record=True)
            memory_gib[side.name] = round(torch.cuda.max_memory_allocated(dev) / 2**30, 2)
            side.model = side.optimizer = side.step_fn = None
            torch.cuda.empty_cache()
            sides.append(side)
    else:
        # On a shared CPU, timed steps alternate so that both sides see the same load.
        sides = [make() for make in reversed(list(makers.values()))]
        for side in sides:
            warm(side)
        for i in range(steps):
            for side in sides:
                side.step(x, y, record=True)
            logging.info("step %d: %s", i + 1, ", ".join(f"{s.name} {s.times[-1]:.2f}s" for s in sides))

    tokens = batch_size * block_size
    tok_s = {s.name: tokens / statistics.median(s.times) for s in sides}
    utilisation = mfu(tok_s["ours"], flops_per_token(model_config(model), block_size), dev)
    baseline = tok_s.get("baseline")
    result = {
        "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"cpu: {cpu_name()}",
        "threads": torch.get_num_threads(),
        "model": ("smollm2-135M (LlamaConfig, random init)" if model == "smollm2"
                  else "gpt2-124M (GPT2Config(), random init)"),
        "cpu_flags": sorted(cpu_flags() & {"avx2", "avx512f", "avx512_bf16", "amx_bf16", "avx512_vnni"}),
        "block": block_size,
        "batch": batch_size,
        "steps": steps,
        "warmup": warmup,
        "precision": prec,
        "compile": model_prep.compile_wanted(dev, compile),
        "grad_checkpointing": grad_checkpointing,
        "attention_dropout": attention_dropout,
        "baseline_tok_s": round(baseline, 1) if baseline else None,
        "tok_s": round(tok_s["ours"], 1),
        "ratio": round(tok_s["ours"] / baseline, 3) if baseline else None,
        "mfu": round(utilisation, 4) if utilisation is not None else None,
        "step_s": {s.name: [round(t, 3) for t in s.times] for s in sides},
        "warmup_s": warm_s,
        "final_loss": {s.name: round(s.loss, 4) for s in sides},
        "load_avg": [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "versions": versions(),
    }
    if dev.type == "cuda":
        result["max_memory_gib"] = memory_gib
    return result


def versions() -> dict:
    """Python, torch, transformers and CUDA versions, for the report."""
    import transformers

    return {"python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "cuda": torch.version.cuda}


def make_parser(doc: str) -> argparse.ArgumentParser:
    """The options bench/train.py and bench/memory.py share: --device, --precision, --compile, -v."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", help="auto|cuda|mps|cpu (default auto)")
    parser.add_argument("--precision", default="auto", help="auto|bf16|fp16|fp32 for ours (default auto)")
    parser.add_argument("--compile", default="auto", help="auto|on|off for ours (default auto: on for CUDA)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    return parser


def parse_args(parser: argparse.ArgumentParser, argv) -> argparse.Namespace:
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    return args


def main(argv=None) -> int:
    parser = make_parser(__doc__)
    parser.add_argument("--model", default="gpt2", choices=MODELS,
                        help="gpt2 (GPT-2 124M, default) or smollm2 (SmolLM2-135M, Llama)")
    parser.add_argument("--block-size", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=None,
                        help="default 1 on the CPU, 16 on a GPU")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per side (default 5)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="untimed steps per side first (default 3; 10 when compiling)")
    parser.add_argument("--grad-checkpointing", action="store_true")
    parser.add_argument("--attention-dropout", default="auto", choices=["auto", "keep", "off"],
                        help="ours: auto drops attention dropout on the CPU only (see trainer.training.model_prep)")
    parser.add_argument("--skip-baseline", action="store_true", help="time ours only (no ratio)")
    args = parse_args(parser, argv)

    dev = pick_device(args.device)
    batch = args.batch_size or (16 if dev.type == "cuda" else 1)
    warmup = args.warmup if args.warmup is not None else (10 if model_prep.compile_wanted(dev, args.compile) else 3)
    result = run(device=args.device, block_size=args.block_size, batch_size=batch, steps=args.steps,
                 warmup=warmup, precision=args.precision, compile=args.compile,
                 grad_checkpointing=args.grad_checkpointing, skip_baseline=args.skip_baseline,
                 attention_dropout=args.attention_dropout, model=args.model)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
