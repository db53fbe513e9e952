"""Held-out perplexity of the fine-tuned model against its base model, for ``trainer report``.

- ``held_out_posts``: the posts ``trainer fit`` held out, re-derived from the corpus.
- ``default_base``: the base model ``train.json`` names (none for from-scratch runs).
- ``compare_perplexity``: both perplexities on those posts, as a ``PerplexityComparison``, with
  ``perplexity_verdict`` putting the difference in words.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

from common.errors import ModelError, RunFolderError, TrainerError


@dataclass
class HeldOut:
    documents: list[str]
    corpus_path: str | None
    note: str = ""  # e.g. "the corpus changed since training"
    training: list[str] = field(default_factory=list)  # the posts trained on


def held_out_posts(summary: dict, corpus: str | os.PathLike | None = None) -> HeldOut:
    """The posts ``trainer fit`` held out, re-derived from the corpus with ``data.held_out_split``.

    The split depends only on the posts' text and the held-out fraction; ``train.json`` records
    the fraction (``val_fraction``) or the counts it follows from (``val_documents`` of
    ``documents``). A corpus that changed since training still gives held-out posts, with a note.
    """
    from common.fileio import sha256_file
    from trainer.training import data

    path = corpus or summary.get("corpus_path")
    if not path:
        raise RunFolderError("train.json has no corpus_path: pass the corpus with --corpus PATH")
    corpus_data = data.read_corpus(path)
    documents = corpus_data.documents
    note = ""
    if summary.get("corpus_sha256") and sha256_file(corpus_data.path) != summary["corpus_sha256"]:
        note = (f"the corpus {corpus_data.path} changed since training: the held-out posts are "
                "chosen from the current file, and some may have been trained on")
    fraction = summary.get("val_fraction")
    if fraction is None:
        n_val, n_all = summary.get("val_documents"), summary.get("documents")
        fraction = n_val / n_all if n_val and n_all else 0.1
    train, val = data.held_out_split(documents, float(fraction))
    if not val:
        raise TrainerError(f"the corpus {corpus_data.path} has no held-out post (one post only, or "
                           "--val-fraction 0): there is nothing to measure perplexity on")
    return HeldOut([documents[i] for i in val], str(corpus_data.path), note,
                   training=[documents[i] for i in train])


def default_base(summary: dict) -> tuple[str | None, str]:
    """``(base model reference, note)`` from ``train.json``; from-scratch runs have no base."""
    if summary.get("from_scratch"):
        return None, ("trained from scratch: there is no base model to compare with (pass "
                      "--base-model to compare with another model)")
    base = summary.get("base_model")
    if not base:
        return None, "train.json names no base model (pass --base-model)"
    return str(base), ""


@dataclass
class PerplexityComparison:
    documents: int  # held-out posts
    tokens: int  # predicted tokens
    fine_tuned: float
    base: float | None
    base_model: str | None
    base_note: str  # why there is no base figure, or a caveat
    change_pct: float | None  # how much lower the fine-tuned perplexity is, in % of the base's
    verdict: str


def perplexity_verdict(fine_tuned: float, base: float | None, base_note: str = "") -> tuple[float | None, str]:
    """``(change %, the verdict in words)``: positive change means the fine-tuned model is better."""
    if base is None or not math.isfinite(base) or base <= 0:
        reason = base_note or "no base model to compare with"
        return None, f"held-out perplexity {fine_tuned:.2f}; {reason}"
    change = (base - fine_tuned) / base * 100.0
    if change > 0.05:
        return change, (f"better than the base model by {change:.1f} % (held-out perplexity "
                        f"{fine_tuned:.2f} against {base:.2f})")
    return change, (f"no better than the base model (held-out perplexity {fine_tuned:.2f} against "
                    f"{base:.2f}): train longer or give it more posts")


def compare_perplexity(model, tokenizer, held_out: HeldOut, block_size: int | None, *,
                       base_ref: str | None, base_note: str = "", device=None) -> PerplexityComparison:
    """Held-out perplexity of the fine-tuned ``model`` and of the base model ``base_ref``."""
    from trainer.evaluation.perplexity import perplexity

    tuned = perplexity(model, tokenizer, held_out.documents, block_size, device=device)
    base_value = None
    if base_ref:
        base_value, base_note = _base_perplexity(base_ref, tokenizer, held_out, block_size,
                                                 base_note, device)
    change, verdict = perplexity_verdict(tuned.perplexity, base_value, base_note)
    return PerplexityComparison(documents=len(held_out.documents), tokens=tuned.tokens,
                                fine_tuned=tuned.perplexity, base=base_value,
                                base_model=base_ref, base_note=base_note, change_pct=change,
                                verdict=verdict)


def _base_perplexity(base_ref: str, tokenizer, held_out: HeldOut, block_size: int | None,
                     base_note: str, device) -> tuple[float | None, str]:
    """``(perplexity of the base model, note)``; a base model that cannot load is a note, not an error."""
    from trainer.evaluation.perplexity import perplexity
    from trainer.model_loading import load_model
    from trainer.training.data import tokenizer_sha256

    try:
        base_model, base_tokenizer = load_model(
            base_ref, hint="pass --base-model PATH (a local model folder or .gguf file)")
    except ModelError as exc:
        return None, f"the base model could not be loaded ({exc})"
    if device is not None:
        base_model.to(device)
    value = perplexity(base_model, base_tokenizer, held_out.documents, block_size,
                       device=device).perplexity
    if tokenizer_sha256(base_tokenizer) != tokenizer_sha256(tokenizer):
        base_note = ("the base model's tokenizer differs from the run's: perplexities per "
                     "token are not strictly comparable")
    return value, base_note
