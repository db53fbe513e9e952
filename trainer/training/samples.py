"""Samples written during training: ``generate_samples`` draws unconditional samples without
disturbing the training's random state; ``write_samples`` saves them as
``models/NAME/samples/step-N.txt``."""
from __future__ import annotations

from pathlib import Path

import torch

from common.fileio import atomic_write_text
from trainer.model_loading import model_context

SAMPLE_TOP_K = 50


@torch.no_grad()
def generate_samples(model, tokenizer, *, num: int, length: int, seed: int, device) -> list[str]:
    """``num`` unconditional samples (from the EOS token, top-k), without touching the RNG state
    training uses."""
    eos = tokenizer.eos_token_id
    context = model_context(model.config)
    if context is not None:
        length = min(length, context - 1)  # the EOS start token takes one position
    devices = [device] if torch.device(device).type == "cuda" else []
    was_training = model.training
    model.eval()
    try:
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            ids = torch.full((num, 1), eos, dtype=torch.long, device=device)
            out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True,
                                 top_k=SAMPLE_TOP_K, max_new_tokens=length, pad_token_id=eos)
    finally:
        model.train(was_training)
    return [text.strip() for text in tokenizer.batch_decode(out[:, 1:], skip_special_tokens=True)]


def write_samples(run_dir: Path, step: int, samples: list[str], seed: int) -> Path:
    """Write ``samples`` as ``run_dir/samples/step-<step>.txt`` and return its path."""
    parts = [f"# step {step}, seed {seed}, top-k {SAMPLE_TOP_K}\n"]
    for i, text in enumerate(samples, 1):
        parts.append(f"\n==== sample {i} ====\n\n{text}\n")
    return atomic_write_text(run_dir / "samples" / f"step-{step}.txt", "".join(parts))
