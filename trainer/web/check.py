"""Does the exported graph compute what the PyTorch model computes?

On a few hundred tokens of held-out text (the posts ``trainer fit`` held out, in the corpus
format with its end-of-post tokens):

- the fp32 graph's next-token logits, all positions in one call, must match PyTorch's within
  ``LOGITS_TOLERANCE`` (largest absolute difference): the export itself changed nothing;
- the int8 graph, fed one token at a time through its cache (exactly what the page does), must
  give a perplexity within ``PERPLEXITY_TOLERANCE`` (2 %) of PyTorch's on the same tokens.

A failed check stops the export: a page with a broken model would write nonsense.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch

from common.errors import TrainerError

LOGITS_TOLERANCE = 1e-2  # fp32 graph vs PyTorch, largest |difference| over all positions and tokens
PERPLEXITY_TOLERANCE = 0.02  # int8 graph vs PyTorch, relative
CHECK_TOKENS = 300


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
    """The first ``limit`` tokens of ``documents`` as training sees them (EOS before, between, after)."""
    from trainer.training import data

    stream = data.token_stream(data._encode(documents, tokenizer), tokenizer.eos_token_id)
    return [int(t) for t in stream[:limit]]


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _perplexity(logits: np.ndarray, ids: list[int]) -> float:
    """Perplexity of ``ids[1:]`` under ``logits[:-1]`` (row i predicts token i + 1)."""
    logp = _log_softmax(logits[:-1].astype(np.float64))
    picked = logp[np.arange(len(ids) - 1), ids[1:]]
    return math.exp(-picked.mean())


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


def check_export(model, shape, fp32_path, int8_path, ids: list[int]) -> ExportCheck:
    """Measure both graphs against ``model`` on ``ids``; raise ``TrainerError`` when a check fails."""
    import onnxruntime as ort

    if len(ids) < 2:
        raise TrainerError("the held-out text is shorter than two tokens: nothing to check the export on")
    with torch.no_grad():
        reference = model(input_ids=torch.tensor([ids]), use_cache=False).logits[0].float().numpy()
    options = ort.SessionOptions()
    options.log_severity_level = 3
    fp32 = ort.InferenceSession(str(fp32_path), options, providers=["CPUExecutionProvider"])
    feeds = {"input_ids": np.array([ids], dtype=np.int64),
             **dict(zip(shape.input_names()[1:], (p.numpy() for p in shape.empty_past())))}
    exported = fp32.run(["logits"], feeds)[0][0]
    del fp32
    int8 = ort.InferenceSession(str(int8_path), options, providers=["CPUExecutionProvider"])
    quantized = stepwise_logits(int8, shape, ids)
    result = ExportCheck(
        tokens=len(ids),
        max_logit_difference=float(np.abs(exported - reference).max()),
        mean_logit_difference_int8=float(np.abs(quantized - reference).mean()),
        top1_agreement_int8=float((quantized.argmax(-1) == reference.argmax(-1)).mean()),
        perplexity_torch=_perplexity(reference, ids),
        perplexity_int8=_perplexity(quantized, ids),
    )
    problems = result.problems()
    if problems:
        raise TrainerError("the exported model does not match the PyTorch model: " + "; ".join(problems))
    return result
