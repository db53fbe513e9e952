"""The report's warnings: overfitting, memorising, a corpus too small, too few steps, no better
than the base model, in plain words with what to do (``report_warnings``).

The thresholds are documented in docs/quality.md and the README.
"""
from __future__ import annotations

from common.corpus_format import SMALL_CORPUS_POSTS
from trainer.evaluation.comparison import PerplexityComparison
from trainer.evaluation.memorisation_figures import Memorisation

SMALL_CORPUS_TOKENS = 50_000  # fewer training tokens than this: the model memorises quickly
FEW_HELD_OUT_POSTS = 3  # held-out perplexity over fewer posts is noisy
FEW_STEPS = 200
OVERFIT_GAP = 0.5  # nats/token between validation and training loss
VAL_ROSE_BY = 0.02  # final validation loss above the best one by this many nats/token


def report_warnings(training: dict, perplexity: PerplexityComparison | None,
                    memorisation: Memorisation | None, corpus_tokens: int | None,
                    held_out_posts_count: int | None, recorded: list[str] | None = None) -> list[str]:
    """Plain-words warnings: overfitting, a corpus too small, too few steps, and what to do."""
    out: list[str] = []
    train_loss, val_loss = training.get("train_loss"), training.get("val_loss")
    best_val, best_step, steps = training.get("best_val_loss"), training.get("best_step"), training.get("steps")
    if train_loss is not None and val_loss is not None and val_loss - train_loss > OVERFIT_GAP:
        out.append(f"Overfitting: the validation loss ({val_loss:.2f}) is {val_loss - train_loss:.2f} "
                   f"above the training loss ({train_loss:.2f}): the model is learning the training "
                   "posts by heart rather than the blog's style. Use the best/ checkpoint, fewer "
                   "steps, or more posts.")
    if (best_val is not None and val_loss is not None and best_step is not None and steps
            and best_step < steps and val_loss - best_val > VAL_ROSE_BY):
        out.append(f"Overfitting: the validation loss was lowest at step {best_step} ({best_val:.3f}) "
                   f"and rose to {val_loss:.3f} by step {steps}: models/<run>/best/ holds the better "
                   "model; train fewer steps next time.")
    if memorisation is not None and memorisation.copied:
        out.append(f"Memorising: {memorisation.copied} of {memorisation.samples} samples copy a run of "
                   f"{memorisation.threshold} or more tokens from the corpus (the gate rejects those "
                   "posts, but it means the model has learnt passages by heart).")
    documents = training.get("documents")
    if corpus_tokens is not None and corpus_tokens < SMALL_CORPUS_TOKENS:
        out.append(f"Corpus too small: {corpus_tokens:,} tokens"
                   + (f" in {documents} posts" if documents else "")
                   + f" (fewer than {SMALL_CORPUS_TOKENS:,}): a model this size learns it by heart "
                   "quickly; add more posts, or keep training short.")
    elif documents is not None and documents < SMALL_CORPUS_POSTS:
        out.append(f"Corpus too small: only {documents} posts (fewer than {SMALL_CORPUS_POSTS}): "
                   "the model sees little variety; add more posts.")
    if held_out_posts_count is not None and held_out_posts_count < FEW_HELD_OUT_POSTS:
        out.append(f"Only {held_out_posts_count} held-out post(s): the perplexity figures are noisy.")
    few = []
    if steps is not None and steps < FEW_STEPS:
        few.append(f"{steps} (fewer than {FEW_STEPS})")
    tokens_seen = training.get("tokens_seen")
    if tokens_seen is not None and corpus_tokens and tokens_seen < corpus_tokens:
        few.append(f"the model saw {tokens_seen:,} tokens, less than one pass over the "
                   f"{corpus_tokens:,}-token corpus")
    if few:
        out.append("Too few steps: " + "; ".join(few) + ": train longer with `trainer fit --steps N` "
                   "(it resumes where it stopped).")
    if perplexity is not None and perplexity.change_pct is not None and perplexity.change_pct <= 0.05:
        out.append("No better than the base model on the held-out posts: train longer or with more "
                   "posts before publishing with it.")
    for line in recorded or []:
        text = f"During training: {line}"
        if text not in out:
            out.append(text)
    return out
