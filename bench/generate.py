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
Timings interleave baseline and fast runs and report the median of ``--repeats``.
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
        from trainer.scratch import train_tokenizer

        tokenizer = train_tokenizer([text], 50257)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config())
    folder = workdir / "gpt2-124m-random"
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def time_hf_generate(model, eos: int, tokens: int, settings) -> float:
    import torch

    ids = torch.tensor([[eos]])
    start = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=True,
                             temperature=settings.temperature, top_k=settings.top_k,
                             top_p=settings.top_p,
                             repetition_penalty=settings.repetition_penalty,
                             max_new_tokens=tokens, min_new_tokens=tokens, pad_token_id=eos)
    elapsed = time.perf_counter() - start
    assert out.shape[1] - 1 == tokens, out.shape
    return elapsed


def time_fast(sampler, tokens: int, settings, n: int = 1, seed: int = 0) -> float:
    """Seconds for ``n`` candidates of exactly ``tokens`` tokens (EOS ignored) on the fast path."""
    from trainer.sampling import derive_seed, sample_batch

    seeds = [derive_seed(seed, 0, i) for i in range(n)]
    start = time.perf_counter()
    rows = sample_batch(sampler._decoder, sampler.prompt_ids(), seeds, settings, eos_id=-1,
                        max_positions=sampler.max_positions)
    elapsed = time.perf_counter() - start
    assert all(len(ids) == tokens for ids, _, _ in rows)
    return elapsed


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
    from trainer.sampling import Sampler, _load_model_and_tokenizer, _weights_file

    _, gguf = _weights_file(folder)
    reference, tokenizer = _load_model_and_tokenizer(folder, gguf)
    reference.float()
    ids = [tokenizer.eos_token_id] + tokenizer.encode(text, add_special_tokens=False)
    ids = ids[:tokens + 1]
    nll_ref, count = reference_nll(reference, ids)
    del reference
    fast = Sampler.load(folder, precision=precision, threads=threads)
    nll_fast, _ = decoder_nll(fast._decoder, ids)
    ppl_ref, ppl_fast = math.exp(nll_ref / count), math.exp(nll_fast / count)
    emit(measurement=f"held-out perplexity, {label}", tokens=count,
         baseline=f"fp32 (HF forward, teacher forcing)", baseline_value=round(ppl_ref, 4),
         figure=f"{fast.precision} fast path (KV cache, token by token)",
         value=round(ppl_fast, 4), ratio=round(ppl_fast / ppl_ref, 4), target="<= 1.02")


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
    args = parser.parse_args(argv)

    import torch

    from trainer.sampling import Sampler, SamplingSettings, _load_model_and_tokenizer

    text = heldout_text(args.heldout)
    settings = SamplingSettings(max_new_tokens=args.tokens)
    with tempfile.TemporaryDirectory() as tmp:
        folder = gpt2_folder(Path(tmp), args.gpt2_tokenizer, text)
        if not args.skip_speed:
            fast = Sampler.load(folder, precision=args.precision, threads=args.threads)
            baseline, tokenizer = _load_model_and_tokenizer(folder, None)
            baseline.float()
            eos = tokenizer.eos_token_id
            time_hf_generate(baseline, eos, 8, settings)  # warm-up
            time_fast(fast, 8, SamplingSettings(max_new_tokens=8))
            base_times, fast_times = [], []
            for _ in range(args.repeats):
                base_times.append(time_hf_generate(baseline, eos, args.tokens, settings))
                fast_times.append(time_fast(fast, args.tokens, settings))
            base_tps = args.tokens / statistics.median(base_times)
            fast_tps = args.tokens / statistics.median(fast_times)
            emit(measurement="sampling tokens/s, GPT-2 124M, batch 1, CPU",
                 threads=torch.get_num_threads(), tokens=args.tokens, repeats=args.repeats,
                 baseline="HF generate() fp32", baseline_value=round(base_tps, 2),
                 figure=f"Sampler {fast.precision}", value=round(fast_tps, 2),
                 ratio=round(fast_tps / base_tps, 2), target=">= 4",
                 baseline_runs=[round(args.tokens / t, 2) for t in base_times],
                 figure_runs=[round(args.tokens / t, 2) for t in fast_times])
            del baseline
            one, four = [], []
            for _ in range(args.repeats):
                one.append(time_fast(fast, args.tokens, settings, n=1))
                four.append(time_fast(fast, args.tokens, settings, n=4))
            emit(measurement="best-of-4 (one batch of 4) vs one sample, GPT-2 124M",
                 tokens=args.tokens, baseline="1 candidate, s",
                 baseline_value=round(statistics.median(one), 3),
                 figure="4 candidates, s", value=round(statistics.median(four), 3),
                 ratio=round(statistics.median(four) / statistics.median(one), 3),
                 target="<= 1.5")
            del fast
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
