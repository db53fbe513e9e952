"""Sampling posts from a model folder: one API for the plugin and the CLI.

    sampler = Sampler.load("models/blog", precision="auto")
    result = sampler.best_post(seed=1234, settings=SamplingSettings(), gate=GateSettings())
    result.post, result.report

This module holds the API: ``Sampler`` (load a model folder once; ``generate`` candidates,
``posts`` without the gate, ``best_post`` through it), ``SamplingSettings``, ``Candidate``,
``BestPost`` (from ``trainer.generation.best_post``), ``derive_seed`` and ``weights_sha256``.
The decoders are in ``trainer.generation.decoders``, the sampling loop in
``trainer.generation.decoding``: candidates run as one batch, each with its own seeded generator
(seeds derived from the caller's seed). With the same model, settings, seed and thread count, a
new process on the same machine writes the same text.

Precisions: ``fp32`` runs the model exactly as loaded (the reference path), ``int8`` quantizes the
linear layers (``trainer.generation.int8``), ``bf16`` casts the weights, ``auto`` picks int8 on a CPU
(GPT-2 family) and bf16/fp16 on CUDA.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from common.errors import ModelError, TrainerError
from trainer.generation.best_post import BestPost
from trainer.generation.decoders import make_decoder
from trainer.generation.decoding import sample_batch
from trainer.generation.post import Post, parse_post, trim_to_last_sentence

log = logging.getLogger(__name__)


@dataclass
class SamplingSettings:
    """How each candidate is sampled. ``temperature=0`` means greedy decoding."""

    max_new_tokens: int = 400
    temperature: float = 0.9
    top_k: int = 40  # 0 = off
    top_p: float = 0.95  # 1.0 = off
    repetition_penalty: float = 1.1  # 1.0 = off (HF/CTRL style, on tokens already in the text)
    prefix: str = ""  # text after the EOS token that every candidate continues

    def validate(self) -> "SamplingSettings":
        problems = []
        if self.max_new_tokens < 1:
            problems.append(f"length {self.max_new_tokens} must be at least 1")
        if self.temperature < 0:
            problems.append(f"temperature {self.temperature} must be >= 0")
        if self.top_k < 0:
            problems.append(f"top-k {self.top_k} must be >= 0")
        if not 0 < self.top_p <= 1:
            problems.append(f"top-p {self.top_p} must be in (0, 1]")
        if self.repetition_penalty <= 0:
            problems.append(f"repetition penalty {self.repetition_penalty} must be > 0")
        if problems:
            raise TrainerError("invalid sampling settings: " + "; ".join(problems))
        return self

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Candidate:
    """One sampled text with the figures the gate needs."""

    text: str
    token_ids: list[int]
    seed: int
    index: int
    mean_logprob: float  # mean log-probability of the sampled tokens under the raw model
    stop: str  # "eos", "length" or "context" (the model's maximum positions)


def derive_seed(seed: int, *parts: int) -> int:
    """A 63-bit seed for one candidate, derived from the caller's seed (stable across versions)."""
    key = ":".join(str(int(p)) for p in (seed, *parts)).encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") >> 1


def _weights_file(folder: Path) -> tuple[Path, str | None]:
    """The weights file of a model folder and, for GGUF, its name for ``from_pretrained``."""
    safetensors = folder / "model.safetensors"
    if safetensors.exists():
        return safetensors, None
    index = folder / "model.safetensors.index.json"
    if index.exists():
        return index, None
    ggufs = sorted(folder.glob("*.gguf"))
    if ggufs:
        return ggufs[0], ggufs[0].name
    raise ModelError(
        f"no model weights in {folder} (expected model.safetensors or a .gguf file): "
        "train one with `trainer fit` or point to a model folder"
    )


_SHA_CACHE: dict[tuple[str, int, int], str] = {}


def weights_sha256(path: Path) -> str:
    """sha256 of a weights file, cached in memory by (path, size, mtime)."""
    from common.fileio import sha256_file

    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA_CACHE:
        _SHA_CACHE[key] = sha256_file(path)
    return _SHA_CACHE[key]


class Sampler:
    """A loaded model and tokenizer, ready to sample posts. Build with ``Sampler.load``."""

    def __init__(self, model, tokenizer, identity: dict, precision: str, device: str,
                 threads: int | None, folder: Path):
        self.model = model
        self.tokenizer = tokenizer
        self.identity = identity
        self.precision = precision
        self.device = device
        self.threads = threads
        self.folder = folder
        self._decoder = None
        self._memorisation = {}
        self._quality = None

    # ----------------------------------------------------------------------------- loading
    @classmethod
    def load(cls, path, precision: str = "auto", device: str | None = None,
             threads: int | None = None) -> "Sampler":
        """Load a model folder once (safetensors, or GGUF) and prepare it for ``precision``.

        Raises ``ModelError`` with one line when the folder is missing or unreadable.
        """
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise ModelError(f"model folder not found: {folder} (train one with `trainer fit`, "
                             "or set the path to a folder holding config.json and the weights)")
        weights, gguf_file = _weights_file(folder)

        import torch

        from trainer.devices import default_threads, resolve_precision

        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if device == "cpu":
            threads = threads or default_threads()
            torch.set_num_threads(threads)
        from trainer.model_loading import EVAL_HINT, load_model

        model, tokenizer = load_model(str(weights if gguf_file else folder), hint=EVAL_HINT)
        model.eval()
        if tokenizer.eos_token_id is None:
            raise ModelError(f"the tokenizer in {folder} has no EOS token: unconditional sampling "
                             "starts from it (use a GPT-2 style tokenizer)")
        identity = {
            "path": str(folder.resolve()),
            "name": folder.resolve().name,
            "weights_sha256": weights_sha256(weights),
        }
        concrete = resolve_precision(device, precision, sampling=True)
        sampler = cls(model, tokenizer, identity, concrete, device, threads, folder)
        sampler._prepare()
        log.info("loaded %s (%s, %s%s)", folder, concrete, device,
                 f", {threads} threads" if device == "cpu" else "")
        return sampler

    def _prepare(self) -> None:
        self._decoder = make_decoder(self.model, self.precision, self.device)

    @property
    def max_positions(self) -> int:
        config = self.model.config
        for name in ("n_positions", "max_position_embeddings", "n_ctx"):
            value = getattr(config, name, None)
            if isinstance(value, int) and value > 0:
                return value
        return 1024

    # ----------------------------------------------------------------------------- sampling
    def prompt_ids(self, prefix: str = "") -> list[int]:
        ids = [self.tokenizer.eos_token_id]
        if prefix:
            ids += self.tokenizer.encode(prefix, add_special_tokens=False)
        return ids

    def generate(self, seed: int, settings: SamplingSettings | None = None, n: int = 1,
                 round_index: int = 0) -> list[Candidate]:
        """Sample ``n`` candidates as one batch; candidate ``i`` uses ``derive_seed(seed, round, i)``."""
        settings = (settings or SamplingSettings()).validate()
        prompt = self.prompt_ids(settings.prefix)
        if len(prompt) >= self.max_positions:
            raise TrainerError(f"the prefix is {len(prompt)} tokens: longer than the model's "
                               f"{self.max_positions} positions; shorten it")
        seeds = [derive_seed(seed, round_index, i) for i in range(n)]
        rows = sample_batch(self._decoder, prompt, seeds, settings,
                            eos_id=self.tokenizer.eos_token_id, max_positions=self.max_positions)
        candidates = []
        for i, (ids, mean_logprob, stop) in enumerate(rows):
            text = settings.prefix + self.tokenizer.decode(ids, skip_special_tokens=True)
            candidates.append(Candidate(text=text, token_ids=ids, seed=seeds[i], index=i,
                                        mean_logprob=mean_logprob, stop=stop))
        return candidates

    def to_post(self, candidate: Candidate, seed: int, settings: SamplingSettings,
                **extra_settings) -> Post:
        """The candidate as a ``Post``; one that hit the length limit (``stop`` "length" or
        "context") is cut back to its last complete paragraph or sentence (``ending`` "trimmed"),
        one that ended with the end-of-post token is whole (``ending`` "eos")."""
        settings_dict = settings.to_dict()
        settings_dict.update(precision=self.precision, **extra_settings)
        post = parse_post(candidate.text, seed=seed, model=dict(self.identity),
                          settings=settings_dict)
        ending = "eos" if candidate.stop == "eos" else "trimmed"
        post.gate = {"candidate_seed": candidate.seed, "candidate": candidate.index,
                     "tokens": len(candidate.token_ids), "stop": candidate.stop,
                     "ending": ending, "mean_logprob": round(candidate.mean_logprob, 4)}
        if ending == "trimmed":
            words = post.words
            post.body = trim_to_last_sentence(post.body)
            post.gate["trimmed_words"] = words - post.words
        return post

    def posts(self, seed: int, settings: SamplingSettings | None = None, n: int = 1) -> list[Post]:
        """``n`` candidates parsed into posts, without the gate."""
        settings = settings or SamplingSettings()
        return [self.to_post(c, seed, settings, candidates=n)
                for c in self.generate(seed, settings, n)]

    def memorisation_index(self, gate):
        """The corpus n-gram index for ``gate`` (built once, cached on disk), or a skip reason."""
        from trainer.generation.memorisation import index_for_run

        key = (gate.corpus, gate.memorised_tokens)
        if key not in self._memorisation:
            self._memorisation[key] = index_for_run(self.folder, self.tokenizer, gate)
        return self._memorisation[key]

    def quality_checks(self, gate):
        """The gate's fluency and topic rules for this run (``trainer.generation.quality``): one
        object per sampler, so the calibration is read and the reference model loaded once."""
        from trainer.generation.quality import QualityChecks

        if self._quality is None:
            self._quality = QualityChecks(self.folder, gate)
        self._quality.gate = gate
        return self._quality

    def best_post(self, seed: int, settings: SamplingSettings | None = None, gate=None,
                  candidates: int = 4, rounds: int = 3) -> BestPost:
        """Up to ``rounds`` batches of ``candidates``; the gate's best survivor, or no post.

        ``report`` holds one line per candidate and rule with the measured value, then the
        outcome. ``post.seed`` is ``seed``; ``post.gate`` records which round and candidate won.
        """
        from trainer.generation.gate import GateSettings, assess, pick_best

        settings = (settings or SamplingSettings()).validate()
        gate = gate or GateSettings()
        if candidates < 1 or rounds < 1:
            raise TrainerError(f"candidates ({candidates}) and rounds ({rounds}) must be >= 1")
        index = self.memorisation_index(gate)
        quality = self.quality_checks(gate)
        result = BestPost(post=None)
        for round_index in range(rounds):
            batch = self.generate(seed, settings, candidates, round_index=round_index)
            assessed = []
            posts = [self.to_post(cand, seed, settings, candidates=candidates, rounds=rounds)
                     for cand in batch]
            quality.prepare(posts)
            for cand, post in zip(batch, posts):
                post.gate["round"] = round_index
                assessment = assess(post, cand, gate, index, self.tokenizer, quality)
                post.gate.update(assessment.figures)
                assessed.append((post, assessment))
                result.report.extend(f"round {round_index + 1} candidate {cand.index + 1}: {line}"
                                     for line in assessment.lines())
            result.candidates.extend(assessed)
            best = pick_best(assessed)
            if best is not None:
                result.post = best
                result.report.append(
                    f"round {round_index + 1}: candidate {best.gate['candidate'] + 1} wins "
                    f"(mean log-prob {best.gate['mean_logprob']:.3f}): {best.title!r}")
                return result
            result.report.append(f"round {round_index + 1}: every candidate was rejected")
        result.report.append(f"no post: all {candidates * rounds} candidates in {rounds} rounds "
                             "were rejected (see the rules above; loosen the gate settings or "
                             "train the model longer)")
        return result
