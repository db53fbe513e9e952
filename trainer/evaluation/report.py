"""`trainer report`: every figure that tells a blogger whether their model is any good.

``build_report(run_dir, ...)`` measures a finished run and returns a ``Report``;
``trainer.evaluation.report_page`` turns it into ``report.html`` (self-contained) and ``report.md``.
Each figure has its own small function so the tests can check it against an independent
computation:

- ``training_figures``: steps, tokens seen, time, device and throughput from ``train.json``;
  ``loss_plot_png``: the train/validation loss curves from ``metrics.jsonl`` (or ``loss.png``).
- ``held_out_posts`` + ``compare_perplexity``: perplexity of the fine-tuned model and of its
  base model on the posts held out from training (the same split ``trainer fit`` made), and
  ``perplexity_verdict`` in words.
- ``sample_candidates``: one batch of unconditional samples (the gallery is its first few, each
  with the quality gate's verdicts); ``memorisation_figures``: how many samples share a verbatim
  run of >= 50 tokens with the corpus, and the longest shared run with the post it came from
  (``SpanFinder``); ``diversity``: distinct-n / rep-n of the samples and of the real posts.
- ``report_warnings``: overfitting, a corpus too small, too few steps, in plain words.
"""
from __future__ import annotations

import logging
import math
import os
import statistics
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from common.errors import RunFolderError, TrainerError
from trainer.runs import read_summary

log = logging.getLogger(__name__)

# Thresholds of the warnings (documented in docs/quality.md and the README).
SMALL_CORPUS_TOKENS = 50_000  # fewer training tokens than this: the model memorises quickly
SMALL_CORPUS_POSTS = 20
FEW_HELD_OUT_POSTS = 3  # held-out perplexity over fewer posts is noisy
FEW_STEPS = 200
OVERFIT_GAP = 0.5  # nats/token between validation and training loss
VAL_ROSE_BY = 0.02  # final validation loss above the best one by this many nats/token
SPAN_WINDOW = 8  # shortest verbatim run (tokens) the span finder looks for
GENERATION_CHUNK = 16  # candidates sampled per batch


def read_metrics(run_dir: Path) -> list[dict]:
    from trainer.evaluation.metrics import MetricsLog

    return MetricsLog(run_dir).read()


# --------------------------------------------------------------------------- 1. training
def training_figures(summary: dict, records: list[dict] | None = None) -> dict:
    """What the run did: the ``train.json`` figures plus throughput: tokens seen per second of
    the whole run (``tokens_per_s``, evaluations, samples and checkpoints included) and the
    median of the per-step rates in ``metrics.jsonl`` (``step_tokens_per_s``)."""
    keys = ("base_model", "from_scratch", "size", "steps", "tokens_seen", "time_s", "device",
            "precision", "block_size", "batch_size", "grad_accum", "lr", "train_loss", "val_loss",
            "val_perplexity", "best_step", "best_val_loss", "documents", "train_documents",
            "val_documents", "trained_at", "corpus_path", "corpus_sha256")
    figures = {key: summary.get(key) for key in keys}
    tokens, seconds = summary.get("tokens_seen"), summary.get("time_s")
    figures["tokens_per_s"] = tokens / seconds if tokens and seconds else None
    rates = [r["tok_s"] for r in records or [] if isinstance(r.get("tok_s"), (int, float))]
    figures["step_tokens_per_s"] = statistics.median(rates) if rates else None
    return figures


def loss_plot_png(run_dir: Path, records: list[dict] | None = None) -> bytes | None:
    """PNG bytes of the loss curves: drawn from ``metrics.jsonl``, else the run's ``loss.png``."""
    from trainer.evaluation.metrics import plot_losses

    records = read_metrics(run_dir) if records is None else records
    if records:
        with tempfile.TemporaryDirectory() as tmp:
            written = plot_losses(records, Path(tmp) / "loss.png", title=Path(run_dir).name)
            if written is not None:
                return Path(written).read_bytes()
    existing = Path(run_dir) / "loss.png"
    return existing.read_bytes() if existing.is_file() else None


# --------------------------------------------------------------------------- 2. perplexity
@dataclass
class HeldOut:
    documents: list[str]
    corpus_path: str | None
    note: str = ""  # e.g. "the corpus changed since training"


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
    _train, val = data.held_out_split(documents, float(fraction))
    if not val:
        raise TrainerError(f"the corpus {corpus_data.path} has no held-out post (one post only, or "
                           "--val-fraction 0): there is nothing to measure perplexity on")
    return HeldOut([documents[i] for i in val], str(corpus_data.path), note)


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
    from trainer.training.data import tokenizer_sha256
    from trainer.evaluation.perplexity import perplexity
    from common.errors import ModelError

    tuned = perplexity(model, tokenizer, held_out.documents, block_size, device=device)
    base_value = None
    if base_ref:
        from trainer.model_loading import load_model

        try:
            base_model, base_tokenizer = load_model(
                base_ref, hint="pass --base-model PATH (a local model folder or .gguf file)")
        except ModelError as exc:
            base_note = f"the base model could not be loaded ({exc})"
        else:
            if device is not None:
                base_model.to(device)
            base_value = perplexity(base_model, base_tokenizer, held_out.documents, block_size,
                                    device=device).perplexity
            if tokenizer_sha256(base_tokenizer) != tokenizer_sha256(tokenizer):
                base_note = ("the base model's tokenizer differs from the run's: perplexities per "
                             "token are not strictly comparable")
            del base_model
    change, verdict = perplexity_verdict(tuned.perplexity, base_value, base_note)
    return PerplexityComparison(documents=len(held_out.documents), tokens=tuned.tokens,
                                fine_tuned=tuned.perplexity, base=base_value,
                                base_model=base_ref, base_note=base_note, change_pct=change,
                                verdict=verdict)


def default_base(summary: dict) -> tuple[str | None, str]:
    """``(base model reference, note)`` from ``train.json``; from-scratch runs have no base."""
    if summary.get("from_scratch"):
        return None, ("trained from scratch: there is no base model to compare with (pass "
                      "--base-model to compare with another model)")
    base = summary.get("base_model")
    if not base:
        return None, "train.json names no base model (pass --base-model)"
    return str(base), ""


# --------------------------------------------------------------------------- 3. samples
@dataclass
class Sample:
    """One sampled post and the gate's verdicts on it."""

    index: int
    seed: int
    title: str
    body: str
    text: str
    tokens: int
    stop: str
    passed: bool
    rejected_by: list[str]
    verdicts: list[str]
    figures: dict


def sample_candidates(sampler, n: int, seed: int, settings, gate, *, progress: bool = False) -> list[Sample]:
    """``n`` unconditional candidates (batches of ``GENERATION_CHUNK``), each through the gate."""
    from tqdm.auto import tqdm

    from trainer.generation.gate import assess

    index = sampler.memorisation_index(gate)
    samples: list[Sample] = []
    round_index = 0
    bar = tqdm(total=n, unit="sample", desc="sampling", disable=not progress, dynamic_ncols=True)
    while len(samples) < n:
        count = min(GENERATION_CHUNK, n - len(samples))
        for cand in sampler.generate(seed, settings, count, round_index=round_index):
            post = sampler.to_post(cand, seed, settings)
            assessment = assess(post, cand, gate, index, sampler.tokenizer)
            samples.append(Sample(index=len(samples), seed=cand.seed, title=post.title,
                                  body=post.body, text=cand.text, tokens=len(cand.token_ids),
                                  stop=cand.stop, passed=assessment.passed,
                                  rejected_by=assessment.rejected_by,
                                  verdicts=assessment.lines(), figures=dict(assessment.figures)))
        bar.update(count)
        round_index += 1
    bar.close()
    return samples


@dataclass
class Span:
    """A verbatim run of tokens shared by a sample and a corpus post."""

    tokens: int
    text: str
    sample: int  # index of the sample
    source: int  # index of the post in the corpus
    source_title: str


class SpanFinder:
    """Finds the longest verbatim token run a text shares with any corpus post (>= ``window``).

    Every ``window``-token run of the corpus is hashed (``memorisation.window_hashes``) with its
    position; a text's matching windows are extended token by token against the post they come
    from, so the reported run and its source are exact.
    """

    def __init__(self, documents: list[str], tokenizer, window: int = SPAN_WINDOW):
        from trainer.generation.memorisation import window_hashes

        self.documents = documents
        self.tokenizer = tokenizer
        self.window = window
        self.doc_ids = [np.asarray(tokenizer.encode(d, add_special_tokens=False, verbose=False), dtype=np.int64)
                        for d in documents]
        hashes, where = [], []
        for doc, ids in enumerate(self.doc_ids):
            h = window_hashes(ids, window)
            hashes.append(h)
            where.append(np.stack([np.full(h.size, doc), np.arange(h.size)], axis=1))
        self.hashes = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64)
        self.where = np.concatenate(where) if where else np.zeros((0, 2), dtype=np.int64)
        order = np.argsort(self.hashes, kind="stable")
        self.hashes, self.where = self.hashes[order], self.where[order]

    @property
    def corpus_tokens(self) -> int:
        return int(sum(ids.size for ids in self.doc_ids))

    def longest(self, text: str, sample: int = 0) -> Span | None:
        """The longest run of >= ``window`` tokens ``text`` shares with a post (None if none)."""
        from trainer.generation.memorisation import window_hashes

        ids = np.asarray(self.tokenizer.encode(text, add_special_tokens=False, verbose=False), dtype=np.int64)
        hashes = window_hashes(ids, self.window)
        if hashes.size == 0 or self.hashes.size == 0:
            return None
        pos = np.minimum(np.searchsorted(self.hashes, hashes), self.hashes.size - 1)
        hits = np.nonzero(self.hashes[pos] == hashes)[0]
        best: tuple[int, int, int] | None = None  # (length, start in text, doc)
        reach: dict[tuple[int, int], int] = {}  # (doc, offset) -> end of the run measured there
        for i in hits.tolist():
            first = stop = int(pos[i])
            while stop < self.hashes.size and self.hashes[stop] == hashes[i]:
                stop += 1
            for doc, j in self.where[first:stop].tolist():
                if reach.get((doc, j - i), -1) > i:
                    continue  # inside a run already measured from an earlier start
                doc_ids = self.doc_ids[doc]
                length = 0
                while (i + length < ids.size and j + length < doc_ids.size
                       and ids[i + length] == doc_ids[j + length]):
                    length += 1
                reach[(doc, j - i)] = i + length
                if length >= self.window and (best is None or length > best[0]):
                    best = (length, i, doc)
        if best is None:
            return None
        length, start, doc = best
        text_span = self.tokenizer.decode(ids[start:start + length].tolist())
        title = self.documents[doc].strip().split("\n", 1)[0].strip()
        return Span(tokens=length, text=text_span, sample=sample, source=doc, source_title=title)


@dataclass
class Memorisation:
    samples: int
    threshold: int  # tokens of a verbatim run that counts as copied
    copied: int  # samples with a run of >= threshold tokens
    share: float
    longest: Span | None
    window: int  # shortest run the finder sees
    gate_passed: int  # samples the whole gate let through
    rejections: dict[str, int] = field(default_factory=dict)  # rule -> samples it rejected


def memorisation_figures(samples: list[Sample], finder: SpanFinder, threshold: int = 50) -> Memorisation:
    """Share of samples with a >= ``threshold``-token verbatim run from the corpus, the longest
    run (with its source post), and the gate's pass count and rejections per rule."""
    spans = [finder.longest(s.text, sample=s.index) for s in samples]
    copied = sum(1 for span in spans if span is not None and span.tokens >= threshold)
    found = [span for span in spans if span is not None]
    longest = max(found, key=lambda span: span.tokens) if found else None
    rejections: dict[str, int] = {}
    for s in samples:
        for rule in s.rejected_by:
            rejections[rule] = rejections.get(rule, 0) + 1
    return Memorisation(samples=len(samples), threshold=threshold, copied=copied,
                        share=copied / len(samples) if samples else 0.0, longest=longest,
                        window=finder.window, gate_passed=sum(s.passed for s in samples),
                        rejections=rejections)


@dataclass
class Diversity:
    texts: int
    words: float  # mean words per text (after cutting)
    distinct1: float
    distinct2: float
    rep: float  # rep-n: share of repeated word n-grams
    rep_n: int


def diversity(texts: list[str], rep_n: int = 4, max_words: int | None = None) -> Diversity:
    """Mean distinct-1, distinct-2 and rep-n over ``texts`` (words as the gate counts them),
    each text cut to its first ``max_words`` words so that samples and posts of different
    lengths compare fairly."""
    from trainer.generation.gate import distinct_n, repeated_ngram_share, words

    cut = [words(t)[:max_words] if max_words else words(t) for t in texts]
    cut = [w for w in cut if w]
    if not cut:
        return Diversity(0, 0.0, float("nan"), float("nan"), float("nan"), rep_n)
    return Diversity(
        texts=len(cut),
        words=statistics.fmean(len(w) for w in cut),
        distinct1=statistics.fmean(distinct_n(w, 1) for w in cut),
        distinct2=statistics.fmean(distinct_n(w, 2) for w in cut),
        rep=statistics.fmean(repeated_ngram_share(w, rep_n) for w in cut),
        rep_n=rep_n,
    )


# --------------------------------------------------------------------------- 4. warnings
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


# --------------------------------------------------------------------------- the whole report
@dataclass
class Report:
    run_name: str
    run_dir: str
    generated_at: str
    training: dict
    loss_png: bytes | None
    perplexity: PerplexityComparison | None
    held_out_note: str
    gallery: list[Sample]
    memorisation: Memorisation
    diversity_samples: Diversity
    diversity_posts: Diversity
    corpus_path: str
    corpus_posts: int
    corpus_tokens: int
    warnings: list[str]
    options: dict
    model_identity: dict


def build_report(run_dir: str | os.PathLike, *, samples: int = 8, batch: int = 64, seed: int = 0,
                 base_model: str | None = None, precision: str = "auto", length: int = 400,
                 corpus: str | None = None, gate=None, progress: bool = False) -> Report:
    """Measure the run in ``run_dir`` (see the module docstring). Raises ``TrainerError``."""
    import torch

    from common.corpus_format import read_documents
    from trainer.generation.gate import GateSettings, words
    from trainer.model_loading import load_model
    from trainer.generation.sampler import Sampler, SamplingSettings

    run_dir = Path(run_dir)
    if samples < 0 or batch < 1:
        raise TrainerError(f"--samples {samples} and --batch {batch}: use samples >= 0 and batch >= 1")
    batch = max(batch, samples)
    summary = read_summary(run_dir)
    records = read_metrics(run_dir)
    training = training_figures(summary, records)

    log.info("held-out perplexity of %s and of its base model", run_dir)
    held_out = held_out_posts(summary, corpus)
    if base_model is None:
        base_ref, base_note = default_base(summary)
    else:
        base_ref, base_note = base_model, ""
    device = torch.device("cuda") if torch.cuda.is_available() else None
    model, tokenizer = load_model(str(run_dir))
    if device is not None:
        model.to(device)
    comparison = compare_perplexity(model, tokenizer, held_out, summary.get("block_size"),
                                    base_ref=base_ref, base_note=base_note, device=device)
    del model

    gate = gate or GateSettings(corpus=corpus)
    log.info("sampling %d posts (seed %d, up to %d tokens each)", batch, seed, length)
    sampler = Sampler.load(run_dir, precision=precision)
    settings = SamplingSettings(max_new_tokens=length).validate()
    drawn = sample_candidates(sampler, batch, seed, settings, gate, progress=progress)

    corpus_path = held_out.corpus_path
    documents = read_documents(corpus_path)
    finder = SpanFinder(documents, sampler.tokenizer)
    memorisation = memorisation_figures(drawn, finder, threshold=gate.memorised_tokens)
    cut = int(statistics.median(len(words(s.text)) for s in drawn)) or None  # compare like with like
    div_samples = diversity([s.text for s in drawn], gate.rep_n, max_words=cut)
    div_posts = diversity(documents, gate.rep_n, max_words=cut)

    warnings = report_warnings(training, comparison, memorisation, finder.corpus_tokens,
                               comparison.documents, summary.get("warnings") or [])
    if held_out.note:
        warnings.append(held_out.note)
    return Report(
        run_name=run_dir.resolve().name,
        run_dir=str(run_dir.resolve()),
        generated_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        training=training,
        loss_png=loss_plot_png(run_dir, records),
        perplexity=comparison,
        held_out_note=held_out.note,
        gallery=drawn[:samples],
        memorisation=memorisation,
        diversity_samples=div_samples,
        diversity_posts=div_posts,
        corpus_path=corpus_path,
        corpus_posts=len(documents),
        corpus_tokens=finder.corpus_tokens,
        warnings=warnings,
        options={"samples": samples, "batch": batch, "seed": seed, "precision": sampler.precision,
                 "length": length, "base_model": base_ref, "words_compared": cut,
                 "gate": gate.to_dict()},
        model_identity=dict(sampler.identity),
    )
