"""Does the exported graph compute what the PyTorch model computes?

On ``CHECK_TOKENS`` tokens of held-out text (the posts ``trainer fit`` held out, in the corpus
format with its end-of-post tokens), in windows of ``WINDOW`` tokens (each read from an empty cache):

- the fp32 graph's next-token logits, all positions in one call, must match PyTorch's within
  ``LOGITS_TOLERANCE`` (largest absolute difference): the export itself changed nothing;
- the int8 graph, fed one token at a time through its cache (exactly what the page does), must
  give a perplexity within ``PERPLEXITY_TOLERANCE`` (2 %) of PyTorch's on the same tokens.

A failed check stops the export: a page with a broken model would write nonsense.

Why 2,048 tokens: int8 moves each token's log-probability a little, up or down (on SmolLM2 about
0.5 in logits), so a perplexity measured on a few hundred tokens swings by a percent or two from
one export to the next (seen: -1.5 % to +3.8 % on 600 tokens for int8 variants of one model); on
2,048 tokens the standard error is about half a percent.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch

from common.errors import TrainerError

LOGITS_TOLERANCE = 1e-2  # fp32 graph vs PyTorch, largest |difference| over all positions and tokens
PERPLEXITY_TOLERANCE = 0.02  # int8 graph vs PyTorch, relative
CHECK_TOKENS = 2048
WINDOW = 512  # tokens per window (GPT-2 reads at most 1,024)


@dataclass
class ExportCheck:
    tokens: int
    max_logit_difference: float  # fp32 graph vs PyTorch
    mean_logit_difference_int8: float  # int8 graph vs PyTorch (what quantization costs)
    top1_agreement_int8: float  # share of positions where the int8 graph's best token is PyTorch's
    perplexity_torch: float
    perplexity_int8: float

    @property
    def perplexity_change(self) -> float:
        return self.perplexity_int8 / self.perplexity_torch - 1

    def problems(self) -> list[str]:
        found = []
        if not self.max_logit_difference <= LOGITS_TOLERANCE:
            found.append(f"the fp32 graph's logits differ from PyTorch's by up to {self.max_logit_difference:.3g} "
                         f"(tolerance {LOGITS_TOLERANCE:g})")
        if not abs(self.perplexity_change) <= PERPLEXITY_TOLERANCE:
            found.append(f"the int8 graph's perplexity is {self.perplexity_int8:.3f} against PyTorch's "
                         f"{self.perplexity_torch:.3f} ({self.perplexity_change:+.1%}; tolerance "
                         f"±{PERPLEXITY_TOLERANCE:.0%})")
        return found

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(perplexity_change=round(self.perplexity_change, 5), logits_tolerance=LOGITS_TOLERANCE,
                    perplexity_tolerance=PERPLEXITY_TOLERANCE)
        return data


def check_tokens(documents: list[str], tokenizer, limit: int = CHECK_TOKENS) -> list[int]:
    """The first ``limit`` tokens of ``documents`` as training sees them (EOS before, between, after);
    only as many documents are encoded as it takes."""
    from trainer.training import data

    eos = tokenizer.eos_token_id
    ids = [eos]
    for document in documents:
        if len(ids) >= limit:
            break
        ids += [int(t) for t in data._encode([document], tokenizer)[0]] + [eos]
    return ids[:limit]


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _perplexity(logits: list[np.ndarray], windows: list[list[int]]) -> float:
    """Perplexity of each window's ``ids[1:]`` under its ``logits[:-1]`` (row i predicts token i + 1)."""
    picked = []
    for rows, ids in zip(logits, windows):
        logp = _log_softmax(rows[:-1].astype(np.float64))
        picked.append(logp[np.arange(len(ids) - 1), ids[1:]])
    return math.exp(-np.concatenate(picked).mean())


def stepwise_logits(session, shape, ids: list[int]) -> np.ndarray:
    """The graph's logits for ``ids`` fed one token at a time through its cache, as the page does."""
    names = shape.input_names()[1:]
    past = [p.numpy() for p in shape.empty_past()]
    rows = []
    for token in ids:
        out = session.run(None, {"input_ids": np.array([[token]], dtype=np.int64), **dict(zip(names, past))})
        rows.append(out[0][0, -1])
        past = out[1:]
    return np.stack(rows)


def _windows(ids: list[int], size: int) -> list[list[int]]:
    """``ids`` cut into windows of ``size`` tokens; a last piece shorter than 2 tokens is dropped."""
    pieces = [ids[start:start + size] for start in range(0, len(ids), size)]
    return [piece for piece in pieces if len(piece) >= 2]


def check_export(model, shape, fp32_path, int8_path, ids: list[int], window: int = WINDOW) -> ExportCheck:
    """Measure both graphs against ``model`` on ``ids``; raise ``TrainerError`` when a check fails."""
    import onnxruntime as ort

    windows = _windows(ids, min(window, shape.max_positions))
    if not windows:
        raise TrainerError("the held-out text is shorter than two tokens: nothing to check the export on")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    references, exported, quantized = [], [], []
    fp32 = ort.InferenceSession(str(fp32_path), options, providers=["CPUExecutionProvider"])
    empty = dict(zip(shape.input_names()[1:], (p.numpy() for p in shape.empty_past())))
    for piece in windows:
        with torch.no_grad():
            references.append(model(input_ids=torch.tensor([piece]), use_cache=False).logits[0].float().numpy())
        exported.append(fp32.run(["logits"], {"input_ids": np.array([piece], dtype=np.int64), **empty})[0][0])
    del fp32
    int8 = ort.InferenceSession(str(int8_path), options, providers=["CPUExecutionProvider"])
    for piece in windows:
        quantized.append(stepwise_logits(int8, shape, piece))
    del int8
    result = ExportCheck(
        tokens=sum(len(piece) for piece in windows),
        max_logit_difference=max(float(np.abs(e - r).max()) for e, r in zip(exported, references)),
        mean_logit_difference_int8=float(np.mean([np.abs(q - r).mean() for q, r in zip(quantized, references)])),
        top1_agreement_int8=float(np.mean(np.concatenate(
            [q.argmax(-1) == r.argmax(-1) for q, r in zip(quantized, references)]))),
        perplexity_torch=_perplexity(references, windows),
        perplexity_int8=_perplexity(quantized, windows),
    )
    problems = result.problems()
    if problems:
        raise TrainerError("the exported model does not match the PyTorch model: " + "; ".join(problems))
    return result
