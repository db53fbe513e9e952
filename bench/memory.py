"""Training memory: the peak memory of `trainer fit`'s step for GPT-2 124M, with and without
``--grad-checkpointing``, measured in the same run.

    python bench/memory.py                     # batch 8 x 1024 on the CPU (about 4 minutes)
    python bench/memory.py --device cuda       # on a GPU

Each side builds GPT-2 124M (``GPT2Config()``, random weights), prepares it exactly as
``trainer fit`` does (``bench/train.py``'s "ours" step: ``trainer.training.model_prep``, bf16 autocast, the
project's loss and optimizer) and runs two optimizer steps: the second is the one that holds the
weights, the AdamW moments, the gradients and the activations at once. The baseline is the same
step without gradient checkpointing.

What "peak" means:
- on CUDA, ``torch.cuda.max_memory_allocated`` (what the tensors took) and ``max_memory_reserved``
  (what PyTorch's caching allocator held from the driver; the CUDA context, ~0.3-0.6 GiB, comes
  on top of both);
- on the CPU, the peak of live tensor bytes, counted by PyTorch's ``MemTracker`` (every tensor the
  step creates, by its storage size): the CPU-side equivalent of ``max_memory_allocated``. It is
  a proxy for a GPU's figure, not a GPU measurement: the CPU uses SDPA's flash kernel without
  attention dropout and multi-tensor AdamW where CUDA uses the fused one.

Prints one JSON object: device, batch, block, precision, peak GiB for each side, their ratio and
the headroom under ``--budget-gib`` (default 12, the issue's 12 GB GPU): on CUDA from the reserved
figure, before the CUDA context.
"""
from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from bench.train import cpu_name, make_parser, ours_side, parse_args, versions  # noqa: E402
from trainer.devices import pick_device, resolve_precision  # noqa: E402
from trainer.training.model_prep import compile_wanted  # noqa: E402

GIB = 2**30


def peak_cpu(side, x, y, steps: int) -> dict:
    from torch.distributed._tools.mem_tracker import MemTracker

    tracker = MemTracker()
    tracker.track_external(side.model, side.optimizer, x, y)
    with tracker:
        for _ in range(steps):
            side.step(x, y, record=True)
            tracker.reset_mod_stats()  # MemTracker follows one iteration at a time; the peak stays
    snapshot = tracker.get_tracker_snapshot("peak")
    total = max((dev.get("Total", 0) for dev in snapshot.values()), default=0)
    parts = {}
    for dev in snapshot.values():
        for key, value in dev.items():
            name = getattr(key, "name", str(key)).lower()
            if name != "total" and value:
                parts[name] = round(value / GIB, 3)
    return {"peak_gib": round(total / GIB, 3), "at_peak_gib": parts}


def peak_cuda(side, x, y, steps: int, device: torch.device) -> dict:
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    for _ in range(steps):
        side.step(x, y, record=True)
    return {"peak_gib": round(torch.cuda.max_memory_allocated(device) / GIB, 3),
            "reserved_gib": round(torch.cuda.max_memory_reserved(device) / GIB, 3)}


def measure(device: torch.device, *, precision: str, compile: str, batch: int, block: int, steps: int,
            grad_checkpointing: bool) -> dict:
    generator = torch.Generator().manual_seed(1234)
    window = torch.randint(0, 50257, (batch, block + 1), generator=generator)
    x, y = window[:, :-1].to(device), window[:, 1:].to(device)
    start = time.perf_counter()
    try:
        side = ours_side(device, precision=precision, compile=compile, grad_checkpointing=grad_checkpointing)
        if device.type == "cuda":
            result = peak_cuda(side, x, y, steps, device)
        else:
            result = peak_cpu(side, x, y, steps)
    except torch.OutOfMemoryError as exc:
        result = {"peak_gib": None, "out_of_memory": str(exc).splitlines()[0]}
        side = None
    result["seconds"] = round(time.perf_counter() - start, 1)
    if side is not None:
        result["step_s"] = [round(t, 2) for t in side.times]
        result["final_loss"] = round(side.loss, 4)
    del side
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return result


def main(argv=None) -> int:
    parser = make_parser(__doc__)
    parser.add_argument("--batch-size", type=int, default=8, help="default 8")
    parser.add_argument("--block-size", type=int, default=1024, help="default 1024")
    parser.add_argument("--steps", type=int, default=2, help="optimizer steps per side (default 2)")
    parser.add_argument("--budget-gib", type=float, default=12.0,
                        help="the GPU memory to compare against (default 12)")
    parser.add_argument("--skip-baseline", action="store_true", help="measure --grad-checkpointing only")
    args = parse_args(parser, argv)

    device = pick_device(args.device)
    if device.type == "mps":
        parser.error("--device mps: this benchmark measures CUDA or CPU memory only")
    precision = resolve_precision(device, args.precision)
    sides = {"grad_checkpointing": True} if args.skip_baseline else {"grad_checkpointing": True, "baseline": False}
    results = {}
    for name, checkpointing in sides.items():
        logging.info("measuring %s (batch %d x %d)", name, args.batch_size, args.block_size)
        results[name] = measure(device, precision=precision, compile=args.compile, batch=args.batch_size,
                                block=args.block_size, steps=args.steps, grad_checkpointing=checkpointing)
        logging.info("%s: %s", name, results[name])

    ours = results["grad_checkpointing"]["peak_gib"]
    held = results["grad_checkpointing"].get("reserved_gib", ours)  # on CUDA, what the allocator held
    base = results.get("baseline", {}).get("peak_gib")
    report = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu: {cpu_name()}",
        "measured_as": "torch.cuda.max_memory_allocated" if device.type == "cuda" else "MemTracker peak tensor bytes",
        "model": "gpt2-124M (GPT2Config(), random init)",
        "batch": args.batch_size,
        "block": args.block_size,
        "precision": precision,
        "compile": compile_wanted(device, args.compile),
        "peak_gib": ours,
        "baseline_peak_gib": base,
        "ratio": round(ours / base, 3) if ours and base else None,
        "budget_gib": args.budget_gib,
        "headroom_gib": round(args.budget_gib - held, 3) if held is not None else None,
        "sides": results,
        "versions": versions(),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
