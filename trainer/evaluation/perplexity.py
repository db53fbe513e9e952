"""Held-out perplexity: the number that says whether a model knows the blog.

``perplexity(model, tokenizer, documents, block_size)`` tokenizes the documents with the EOS
convention of ``trainer.training.data``, cuts the stream into fixed, non-overlapping windows and returns
the token-weighted mean loss and its exponential. ``trainer fit`` uses the same windows for its
validation loss, ``trainer eval`` prints it, ``trainer report`` shows it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from trainer.training import data


@dataclass
class Perplexity:
    loss: float  # mean negative log-likelihood, nats per token
    perplexity: float
    tokens: int  # predicted tokens
    windows: int
    block_size: int


def lm_loss(model, x: torch.Tensor, y: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy of the model's next-token predictions for ``x`` against ``y`` (fp32 logits)."""
    logits = model(input_ids=x, use_cache=False).logits
    return F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), y.reshape(-1), reduction=reduction)


@torch.no_grad()
def evaluate_windows(model, windows: list[torch.Tensor], *, batch_size: int = 8, device=None,
                     precision: str = "fp32") -> tuple[float, int]:
    """``(mean loss, predicted tokens)`` over ``windows`` (each holds input + 1 target token)."""
    from trainer.devices import autocast

    if not windows:
        return float("nan"), 0
    device = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        by_length: dict[int, list[torch.Tensor]] = {}
        for window in windows:
            by_length.setdefault(len(window), []).append(window)
        for _length, group in sorted(by_length.items()):
            for start in range(0, len(group), batch_size):
                rows = torch.stack(group[start:start + batch_size]).to(device)
                with autocast(device, precision):
                    loss = lm_loss(model, rows[:, :-1], rows[:, 1:], reduction="sum")
                total += float(loss)
                count += rows[:, 1:].numel()
    finally:
        model.train(was_training)
    return total / count, count


def perplexity(model, tokenizer, documents: list[str], block_size: int | None = None, *,
               batch_size: int = 8, device=None, precision: str = "fp32",
               max_windows: int | None = None) -> Perplexity:
    """Perplexity of ``model`` on ``documents`` (joined by the tokenizer's EOS token)."""
    from trainer.model_loading import model_context

    context = model_context(model.config) or 1024
    block_size = min(block_size or context, context)
    tokens = data.encode_documents(documents, tokenizer)
    stream = data.token_stream(tokens, tokenizer.eos_token_id)
    windows = data.validation_windows(stream, block_size, max_windows=max_windows)
    loss, count = evaluate_windows(model, windows, batch_size=batch_size, device=device, precision=precision)
    return Perplexity(loss=loss, perplexity=perplexity_of(loss), tokens=count, windows=len(windows),
                      block_size=data.window_length(len(stream), block_size))


def perplexity_of(loss: float) -> float:
    """exp(mean loss per token), ``inf`` where that overflows."""
    try:
        return math.exp(loss)
    except OverflowError:
        return float("inf")
