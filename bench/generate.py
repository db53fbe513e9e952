"""Sampling speed and accuracy on the CPU: our fast path against HF ``generate()`` in fp32.

Prints one JSON object per measurement (figure, baseline measured in the same run, ratio):

1. batch-1 tokens/s for GPT-2 124M (random init: weights cannot be downloaded here, and speed
   does not depend on them): ``Sampler`` at ``--precision`` (default int8) vs HF ``generate`` fp32;
2. best-of-4 (one batch of 4 candidates) time vs one sample, on the fast path;
3. held-out perplexity of the fast path vs fp32 on a real pretrained model, SmolLM2-135M (a
   Llama: exercises int8 on any ``nn.Linear`` model), when ``--smollm2 DIR`` holds its GGUF file;
4. the same for a trained GPT-2 run folder (``--run-model models/blog``), when given: that one
   exercises the GPT-2 fast path itself;
5. perplexity of GPT-2 124M random init (a sanity check only: random weights make it meaningless).

    .venv/bin/python bench/generate.py --gpt2-tokenizer /tmp/gpt2tok --smollm2 /work/models/smollm2

The GPT-2 tokenizer files come from ``/work/shared/tools/get-gpt2-tokenizer.sh DIR``; without them
a byte-level BPE trained on the held-out text stands in (same vocabulary size, same speed).
Timings interleave baseline and fast runs. Each token's step is timed (a stopping criterion in HF
``generate``, a wrapper around our decoder): ``value``/``baseline`` are tokens/s from the median
step, ``ratio_wall`` compares whole runs, and ``ratio_p10_step`` the 10th-percentile steps (the
least disturbed by other processes on a shared machine); ``ratio_cpu_time`` compares the CPU time
the process spent per token (robust to a busy machine when run with ``--threads 1``).
"""
from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def heldout_text(folder: Path) -> str:
    """Post bodies from ``folder`` (Markdown / reST), metadata headers dropped."""
    texts = []
    for path in sorted(folder.glob("*")):
        if path.suffix not in (".md", ".rst", ".txt"):
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".md":
            text = text.split("\n\n", 1)[-1]  # drop the "Key: value" header block
        else:
            text = re.sub(r"^:\w+:.*$", "", text, flags=re.MULTILINE)
        texts.append(text.strip())
    return "\n\n".join(texts)


def gpt2_folder(workdir: Path, tokenizer_dir: Path | None, text: str) -> Path:
    """A save_pretrained folder with a random-init GPT-2 124M and a 50257-token tokenizer."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    if tokenizer_dir and (tokenizer_dir / "encoder.json").exists():
        tokenizer = GPT2TokenizerFast(vocab=str(tokenizer_dir / "encoder.json"),
                                      merges=str(tokenizer_dir / "vocab.bpe"))
    else:
        from trainer.training.scratch import train_tokenizer

        tokenizer = train_tokenizer([text], 50257)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config())
    folder = workdir / "gpt2-124m-random"
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


class StepClock:
    """Timestamps after every generated token: a stopping criterion for HF ``generate`` (never
    stops it), and a wrapper around our decoders' ``prefill``/``step``."""

    def __init__(self, decoder=None):
        self.decoder = decoder
        self.stamps: list[float] = []
        self.cpu_stamps: list[float] = []

    def _stamp(self):
        self.stamps.append(time.perf_counter())
        self.cpu_stamps.append(time.process_time())

    def __call__(self, input_ids, scores, **kwargs):  # StoppingCriteria protocol
        import torch

        self._stamp()
        return torch.zeros(input_ids.shape[0], dtype=torch.bool)

    def prefill(self, prompt, n, capacity=None):
        logits = self.decoder.prefill(prompt, n, capacity)
        self._stamp()
        return logits

    def step(self, tokens):
        logits = self.decoder.step(tokens)
        self._stamp()
        return logits

    def keep(self, rows):
        self.decoder.keep(rows)

    def intervals(self) -> list[float]:
        return [b - a for a, b in zip(self.stamps, self.stamps[1:])]

    def cpu_seconds(self) -> float:
        """CPU time of the process between the first and last token (all threads)."""
        return self.cpu_stamps[-1] - self.cpu_stamps[0]


def time_hf_generate(model, eos: int, tokens: int, settings) -> tuple[float, list[float]]:
    """(wall seconds, per-token step seconds) of HF generate for exactly ``tokens`` tokens."""
    import torch
    from transformers import StoppingCriteriaList

    clock = StepClock()
    ids = torch.tensor([[eos]])
    start = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=True,
                             temperature=settings.temperature, top_k=settings.top_k,
                             top_p=settings.top_p,
                             repetition_penalty=settings.repetition_penalty,
                             max_new_tokens=tokens, min_new_tokens=tokens, pad_token_id=eos,
                             stopping_criteria=StoppingCriteriaList([clock]))
    elapsed = time.perf_counter() - start
    assert out.shape[1] - 1 == tokens, out.shape
    return elapsed, clock.intervals(), clock.cpu_seconds() / (tokens - 1)


def time_fast(sampler, tokens: int, settings, n: int = 1, seed: int = 0):
    """(wall seconds, per-token step seconds) for ``n`` candidates of exactly ``tokens`` tokens
    (EOS ignored) on the fast path."""
    from trainer.generation.decoding import sample_batch
    from trainer.generation.sampler import derive_seed

    seeds = [derive_seed(seed, 0, i) for i in range(n)]
    clock = StepClock(sampler._decoder)
    start = time.perf_counter()
    rows = sample_batch(clock, sampler.prompt_ids(), seeds, settings, eos_id=-1,
                        max_positions=sampler.max_positions)
    elapsed = time.perf_counter() - start
    assert all(len(ids) == tokens for ids, _, _ in rows)
    return elapsed, clock.intervals(), clock.cpu_seconds() / (tokens - 1)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def speed_fields(prefix: str, walls: list[float], steps: list[float], cpus: list[float],
                 tokens: int) -> dict:
    return {f"{prefix}_tok_s_wall": round(tokens / statistics.median(walls), 2),
            f"{prefix}_tok_per_cpu_s": round(1 / statistics.median(cpus), 2),
            f"{prefix}_tok_s_median_step": round(1 / statistics.median(steps), 2),
            f"{prefix}_tok_s_p10_step": round(1 / quantile(steps, 0.1), 2)}


def decoder_nll(decoder, ids: list[int]) -> tuple[float, int]:
    """Summed negative log-likelihood of ids[1:] through a decoder, one token per step (KV cache)."""
    import torch

    total = 0.0
    with torch.inference_mode():
        logits = decoder.prefill(ids[:1], 1)
        for i in range(1, len(ids)):
            total -= torch.log_softmax(logits[0].float(), -1)[ids[i]].item()
            if i < len(ids) - 1:
                logits = decoder.step(torch.tensor([ids[i]]))
    return total, len(ids) - 1


def reference_nll(model, ids: list[int]) -> tuple[float, int]:
    """Summed negative log-likelihood of ids[1:] with one fp32 teacher-forced forward pass."""
    import torch

    with torch.inference_mode():
        x = torch.tensor([ids])
        logits = model(input_ids=x).logits[0, :-1].float()
        nll = torch.nn.functional.cross_entropy(logits, x[0, 1:], reduction="sum").item()
    return nll, len(ids) - 1


def perplexity_pair(folder: Path, text: str, tokens: int, precision: str, label: str,
                    threads: int | None) -> None:
    """Held-out perplexity: fp32 teacher forcing vs the fast path at ``precision``."""
    import torch

    from trainer.generation.decoders import cast_weights
    from trainer.generation.sampler import Sampler
    from trainer.model_loading import load_model

    reference, tokenizer = load_model(str(folder))
    reference.eval()
    cast_weights(reference, torch.float32)
    limit = getattr(reference.config, "n_positions", None) or getattr(
        reference.config, "max_position_embeddings", tokens + 1)
    ids = [tokenizer.eos_token_id] + tokenizer.encode(text, add_special_tokens=False)
    ids = ids[:min(tokens + 1, limit)]
    nll_ref, count = reference_nll(reference, ids)
    del reference
    fast = Sampler.load(folder, precision=precision, threads=threads)
    nll_fast, _ = decoder_nll(fast._decoder, ids)
    ppl_ref, ppl_fast = math.exp(nll_ref / count), math.exp(nll_fast / count)
    emit(measurement=f"held-out perplexity, {label}", tokens=count,
         baseline="fp32 (HF forward, teacher forcing)", baseline_value=round(ppl_ref, 4),
         figure=f"{fast.precision} fast path (KV cache, token by token)",
         value=round(ppl_fast, 4), ratio=round(ppl_fast / ppl_ref, 4), target="<= 1.02")


def speed_vs_generate(fast, folder: Path, tokens: int, repeats: int) -> None:
    """Measurement 1: batch-1 tokens/s of ``fast`` against HF ``generate`` fp32, interleaved."""
    import torch

    from trainer.generation.sampler import SamplingSettings
    from trainer.model_loading import load_model

    settings = SamplingSettings(max_new_tokens=tokens)
    baseline, tokenizer = load_model(str(folder))
    baseline.eval()
    eos = tokenizer.eos_token_id
    time_hf_generate(baseline, eos, 8, settings)  # warm-up
    time_fast(fast, 8, SamplingSettings(max_new_tokens=8))
    base_walls, base_steps, fast_walls, fast_steps = [], [], [], []
    base_cpus, fast_cpus = [], []
    for _ in range(repeats):  # interleaved, so both see the same machine load
        wall, steps, cpu = time_hf_generate(baseline, eos, tokens, settings)
        base_walls.append(wall)
        base_steps += steps
        base_cpus.append(cpu)
        wall, steps, cpu = time_fast(fast, tokens, settings)
        fast_walls.append(wall)
        fast_steps += steps
        fast_cpus.append(cpu)
    base = speed_fields("baseline", base_walls, base_steps, base_cpus, tokens)
    figure = speed_fields("value", fast_walls, fast_steps, fast_cpus, tokens)
    emit(measurement="sampling tokens/s, GPT-2 124M, batch 1, CPU",
         threads=torch.get_num_threads(), tokens=tokens, repeats=repeats,
         baseline="HF generate() fp32", figure=f"Sampler {fast.precision}",
         baseline_value=base["baseline_tok_s_median_step"],
         value=figure["value_tok_s_median_step"],
         ratio=round(figure["value_tok_s_median_step"]
                     / base["baseline_tok_s_median_step"], 2),
         ratio_wall=round(figure["value_tok_s_wall"] / base["baseline_tok_s_wall"], 2),
         ratio_p10_step=round(figure["value_tok_s_p10_step"]
                              / base["baseline_tok_s_p10_step"], 2),
         ratio_cpu_time=round(figure["value_tok_per_cpu_s"]
                              / base["baseline_tok_per_cpu_s"], 2),
         target=">= 4", **base, **figure)


def best_of_four(fast, tokens: int, repeats: int) -> None:
    """Measurement 2: one batch of 4 candidates against one sample, on the fast path."""
    from trainer.generation.sampler import SamplingSettings

    settings = SamplingSettings(max_new_tokens=tokens)
    one_walls, one_steps, four_walls, four_steps = [], [], [], []
    for _ in range(repeats):
        wall, steps, _ = time_fast(fast, tokens, settings, n=1)
        one_walls.append(wall)
        one_steps += steps
        wall, steps, _ = time_fast(fast, tokens, settings, n=4)
        four_walls.append(wall)
        four_steps += steps
    emit(measurement="best-of-4 (one batch of 4) vs one sample, GPT-2 124M",
         tokens=tokens, baseline="1 candidate, s (median wall)",
         baseline_value=round(statistics.median(one_walls), 3),
         figure="4 candidates, s (median wall)",
         value=round(statistics.median(four_walls), 3),
         ratio=round(statistics.median(four_walls) / statistics.median(one_walls), 3),
         ratio_median_step=round(statistics.median(four_steps)
                                 / statistics.median(one_steps), 3),
         ratio_p10_step=round(quantile(four_steps, 0.1) / quantile(one_steps, 0.1), 3),
         target="<= 1.5")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=128, help="new tokens per timed sample")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--precision", default="int8", choices=["auto", "int8", "bf16", "fp32"])
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--gpt2-tokenizer", type=Path, default=None)
    parser.add_argument("--smollm2", type=Path, default=None, help="folder with the GGUF file")
    parser.add_argument("--run-model", type=Path, default=None, help="a trained GPT-2 run folder")
    parser.add_argument("--heldout", type=Path, default=ROOT / "content" / "posts")
    parser.add_argument("--ppl-tokens", type=int, default=512)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-perplexity", action="store_true")
    args = parser.parse_args(argv)

    from trainer.generation.sampler import Sampler

    text = heldout_text(args.heldout)
    with tempfile.TemporaryDirectory() as tmp:
        folder = gpt2_folder(Path(tmp), args.gpt2_tokenizer, text)
        if not args.skip_speed:
            fast = Sampler.load(folder, precision=args.precision, threads=args.threads)
            speed_vs_generate(fast, folder, args.tokens, args.repeats)
            best_of_four(fast, args.tokens, args.repeats)
            del fast
        if args.skip_perplexity:
            return 0
        if args.smollm2:
            perplexity_pair(args.smollm2, text, args.ppl_tokens, args.precision,
                            "SmolLM2-135M (real weights)", args.threads)
        if args.run_model:
            perplexity_pair(args.run_model, text, args.ppl_tokens, args.precision,
                            f"trained GPT-2 run {args.run_model.name}", args.threads)
        perplexity_pair(folder, text, min(args.ppl_tokens, 256), args.precision,
                        "GPT-2 124M random init (sanity only)", args.threads)
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
