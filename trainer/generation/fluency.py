"""Fluency: a text's perplexity under a pretrained reference model.

Word salad and shuffled text are improbable under any decent language model, whatever the blog's
model thinks of them. The reference is the run's base model when it has one (``train.json``
``base_model``), else the model the project ships with (``model_loading.embedded_default_model``);
``reference_for(summary)`` says which. ``ReferenceModel.load`` loads it once (bf16 on a CPU with
native bf16, else fp32); ``perplexity(text)`` scores the first ``max_tokens`` tokens of the text
after the end-of-text token, as a post follows it in the corpus. The figure is only meaningful
against the same figure for the blog's own posts (``gate_calibration.json``).
"""
from __future__ import annotations

import logging
import math
from pathlib import Path

from common.errors import ModelError

log = logging.getLogger(__name__)

MAX_TOKENS = 300


def reference_for(summary: dict | None) -> tuple[str | None, str]:
    """``(reference model, where it comes from)``: the run's base model, else the embedded default."""
    from trainer.model_loading import embedded_default_model

    summary = summary or {}
    base = summary.get("base_model")
    if base and not summary.get("from_scratch"):
        return str(base), "base model"
    default = embedded_default_model()
    return (str(default) if default else None), "embedded default"


class ReferenceModel:
    """A pretrained model that scores texts; build with ``ReferenceModel.load``."""

    def __init__(self, model, tokenizer, ref: str, dtype: str, max_tokens: int = MAX_TOKENS):
        self.model = model
        self.tokenizer = tokenizer
        self.ref = ref
        self.dtype = dtype
        self.max_tokens = max_tokens
        self._cache: dict[str, float] = {}

    @classmethod
    def load(cls, ref: str | None, max_tokens: int = MAX_TOKENS) -> "ReferenceModel":
        """Load ``ref`` (a .gguf, a folder or a hub id). ``ModelError`` (one line) when it cannot be."""
        if not ref:
            raise ModelError("no reference model: the run has no base model and the embedded "
                             "default (SmolLM2) is not installed (run scripts/get-models.sh)")
        import torch

        from trainer.devices import cpu_has_native_bf16
        from trainer.model_loading import load_model

        model, tokenizer = load_model(str(ref), hint="install the reference model (scripts/get-models.sh)")
        model.eval()
        dtype = "fp32"
        if torch.cuda.is_available():
            model.to("cuda", dtype=torch.bfloat16)
            dtype = "bf16"
        elif cpu_has_native_bf16():
            model.to(dtype=torch.bfloat16)
            dtype = "bf16"
        log.info("reference model %s loaded (%s)", Path(str(ref)).name, dtype)
        return cls(model, tokenizer, str(ref), dtype, max_tokens)

    def _ids(self, text: str) -> list[int]:
        ids = self.tokenizer.encode(text, add_special_tokens=False)[: self.max_tokens]
        return [self.tokenizer.eos_token_id] + ids

    def perplexities(self, texts: list[str], batch_size: int = 8) -> list[float]:
        """Perplexity of each text's first ``max_tokens`` tokens (inf for an empty text)."""
        import torch

        todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
        device = next(self.model.parameters()).device
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        for start in range(0, len(todo), batch_size):
            chunk = todo[start:start + batch_size]
            rows = [self._ids(t) for t in chunk]
            width = max(len(r) for r in rows)
            ids = torch.full((len(rows), width), pad, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for i, row in enumerate(rows):
                ids[i, :len(row)] = torch.tensor(row)
                mask[i, :len(row)] = 1
            with torch.inference_mode():
                logits = self.model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
            logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
            target = ids[:, 1:].to(device)
            token_lp = logp.gather(-1, target.unsqueeze(-1)).squeeze(-1) * mask[:, 1:].to(device)
            for i, text in enumerate(chunk):
                n = len(rows[i]) - 1
                self._cache[text] = math.exp(-float(token_lp[i].sum()) / n) if n else math.inf
        return [self._cache[t] for t in texts]

    def perplexity(self, text: str) -> float:
        return self.perplexities([text])[0]
