"""Sampling posts from a model folder: one API for the plugin and the CLI.

    sampler = Sampler.load("models/blog", precision="auto")
    result = sampler.best_post(seed=1234, settings=SamplingSettings(), gate=GateSettings())
    result.post, result.report

The loop is our own: one prefill of the prompt (the EOS token, or EOS + a prefix), then one token
per step through a KV cache. Candidates run as one batch; each has its own seeded
``torch.Generator`` (seeds derived from the caller's seed), and a candidate that reaches EOS leaves
the batch, so no work is spent on finished rows. With the same model, settings, seed and thread
count, a new process on the same machine writes the same text.

Precisions: ``fp32`` runs the model exactly as loaded (the reference path), ``int8`` quantizes the
linear layers (``trainer.generation.int8``), ``bf16`` casts the weights, ``auto`` picks int8 on a CPU
(GPT-2 family) and bf16/fp16 on CUDA.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

from common.errors import ModelError, TrainerError
from trainer.generation.post import Post, parse_post

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


@dataclass
class BestPost:
    """What ``Sampler.best_post`` returns: the winner (or None) and one line per decision."""

    post: Post | None
    report: list[str] = field(default_factory=list)
    candidates: list[tuple[Post, object]] = field(default_factory=list)  # (post, gate Assessment)


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
        settings_dict = settings.to_dict()
        settings_dict.update(precision=self.precision, **extra_settings)
        post = parse_post(candidate.text, seed=seed, model=dict(self.identity),
                          settings=settings_dict)
        post.gate = {"candidate_seed": candidate.seed, "candidate": candidate.index,
                     "tokens": len(candidate.token_ids), "stop": candidate.stop,
                     "mean_logprob": round(candidate.mean_logprob, 4)}
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
        result = BestPost(post=None)
        for round_index in range(rounds):
            batch = self.generate(seed, settings, candidates, round_index=round_index)
            assessed = []
            for cand in batch:
                post = self.to_post(cand, seed, settings, candidates=candidates, rounds=rounds)
                post.gate["round"] = round_index
                assessment = assess(post, cand, gate, index, self.tokenizer)
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


# --------------------------------------------------------------------------------- decoders
# A decoder turns the model into three operations the loop needs: prefill the prompt for n rows,
# step one token per row, and keep only some rows (drop the finished ones).

class HFDecoder:
    """Any Hugging Face causal LM, through its own forward and a ``DynamicCache``."""

    def __init__(self, model, device: str):
        self.model = model
        self.device = device
        self.cache = None

    def prefill(self, prompt: list[int], n: int, capacity: int | None = None):
        import torch

        ids = torch.tensor([prompt], device=self.device)
        out = self.model(input_ids=ids, use_cache=True, logits_to_keep=1)
        self.cache = out.past_key_values
        if n > 1:
            self.cache.batch_repeat_interleave(n)
        return out.logits[:, -1].float().expand(n, -1)

    def step(self, tokens):
        out = self.model(input_ids=tokens[:, None], past_key_values=self.cache, use_cache=True)
        self.cache = out.past_key_values
        return out.logits[:, -1].float()

    def keep(self, rows):
        self.cache.batch_select_indices(rows)


class GPT2Decoder:
    """GPT-2 without the framework: our own forward over the model's weights, a preallocated KV
    cache, and int8 linear layers (``trainer.generation.int8``). Used for ``int8`` on the CPU.

    Per token it runs exactly the maths of GPT-2 (layer norm, attention over the cache, tanh-GELU
    MLP, tied output projection) and nothing else: no masks, no cache objects, no hooks.
    """

    def __init__(self, model, int8: bool = True, quantize_lm_head: bool = True):
        import torch
        from torch import nn

        from trainer.generation.int8 import conv1d_to_linear, quantize_int8_linears

        config = model.config
        transformer = model.transformer
        conv1d_to_linear(model)
        self.n_head = config.n_head
        self.head_dim = config.n_embd // config.n_head
        self.eps = config.layer_norm_epsilon
        self.max_positions = config.n_positions
        self.wte = transformer.wte.weight.detach().float()
        self.wpe = transformer.wpe.weight.detach().float()
        self.ln_f = (transformer.ln_f.weight.detach().float(), transformer.ln_f.bias.detach().float())
        self.layers = []
        for block in transformer.h:
            linears = [block.attn.c_attn, block.attn.c_proj, block.mlp.c_fc, block.mlp.c_proj]
            self.layers.append({
                "ln_1": (block.ln_1.weight.detach().float(), block.ln_1.bias.detach().float()),
                "ln_2": (block.ln_2.weight.detach().float(), block.ln_2.bias.detach().float()),
                "linears": [_direct(lin) for lin in (
                    quantize_int8_linears([lin.float() for lin in linears]) if int8
                    else [lin.float() for lin in linears])],
            })
        head = nn.Linear(config.n_embd, self.wte.shape[0], bias=False)
        with torch.no_grad():
            head.weight.copy_(model.lm_head.weight.detach().float())
        self.lm_head = _direct(quantize_int8_linears([head])[0] if int8 and quantize_lm_head
                               else head)
        self.cache = None
        self.length = 0

    @staticmethod
    def supports(model) -> bool:
        """True for a standard HF GPT-2 (what this forward reproduces)."""
        config = getattr(model, "config", None)
        return (getattr(config, "model_type", None) == "gpt2"
                and hasattr(model, "transformer") and hasattr(model, "lm_head")
                and getattr(config, "scale_attn_weights", True)
                and not getattr(config, "scale_attn_by_inverse_layer_idx", False)
                and getattr(config, "activation_function", "gelu_new") in (
                    "gelu_new", "gelu_pytorch_tanh", "gelu_fast")
                and getattr(config, "add_cross_attention", False) is False)

    def _forward(self, ids, start: int, cache):
        """Logits of the last position for ``ids`` [rows, T] at positions start..start+T-1,
        reading and extending ``cache`` (per layer: keys, values [rows, heads, capacity, dim])."""
        import torch.nn.functional as F

        rows, steps = ids.shape
        end = start + steps
        x = F.embedding(ids, self.wte) + self.wpe[start:end]
        width = x.shape[-1]
        for layer, (keys, values) in zip(self.layers, cache):
            qkv_proj, attn_proj, fc, mlp_proj = layer["linears"]
            h = F.layer_norm(x, (width,), *layer["ln_1"], self.eps)
            q, k, v = qkv_proj(h).view(rows, steps, 3, self.n_head, self.head_dim).permute(
                2, 0, 3, 1, 4)
            keys[:, :, start:end] = k
            values[:, :, start:end] = v
            attn = F.scaled_dot_product_attention(q, keys[:, :, :end], values[:, :, :end],
                                                  is_causal=steps > 1)
            x = x + attn_proj(attn.transpose(1, 2).reshape(rows, steps, width))
            h = F.layer_norm(x, (width,), *layer["ln_2"], self.eps)
            x = x + mlp_proj(F.gelu(fc(h), approximate="tanh"))
        x = F.layer_norm(x[:, -1], (width,), *self.ln_f, self.eps)
        return self.lm_head(x)

    def prefill(self, prompt: list[int], n: int, capacity: int | None = None):
        """Run the prompt once and share its keys/values with all ``n`` rows."""
        import torch

        capacity = min(capacity or self.max_positions, self.max_positions)
        shape = (n, self.n_head, capacity, self.head_dim)
        self.cache = [(torch.empty(shape), torch.empty(shape)) for _ in self.layers]
        first_row = [(k[:1], v[:1]) for k, v in self.cache]
        logits = self._forward(torch.tensor([prompt]), 0, first_row)
        self.length = len(prompt)
        for keys, values in self.cache:
            keys[1:, :, :self.length] = keys[:1, :, :self.length]
            values[1:, :, :self.length] = values[:1, :, :self.length]
        return logits.expand(n, -1)

    def step(self, tokens):
        logits = self._forward(tokens[:, None], self.length, self.cache)
        self.length += 1
        return logits

    def keep(self, rows):
        """Keep only ``rows`` of the batch (copies just the filled part of the cache)."""
        import torch

        kept = []
        for pair in self.cache:
            new = []
            for buffer in pair:
                fresh = torch.empty((len(rows),) + tuple(buffer.shape[1:]))
                fresh[:, :, :self.length] = buffer[:, :, :self.length].index_select(0, rows)
                new.append(fresh)
            kept.append(tuple(new))
        self.cache = kept


def _direct(linear):
    """A plain function computing ``linear`` (skips ``nn.Module.__call__``; ~50 calls a token)."""
    import torch
    import torch.nn.functional as F

    packed = getattr(getattr(linear, "packed", None), "_packed_params", None)
    if packed is not None:  # trainer.generation.int8's Int8Linear
        op, reduce_range = torch.ops.quantized.linear_dynamic, linear.reduce_range
        return lambda x: op(x, packed, reduce_range)
    if isinstance(linear, torch.nn.Linear):
        weight, bias = linear.weight.detach(), linear.bias
        bias = bias.detach() if bias is not None else None
        return lambda x: F.linear(x, weight, bias)
    return linear


def make_decoder(model, precision: str, device: str):
    """The decoder for ``precision``: fp32 as loaded (HF forward, the exact path), bf16/fp16
    cast, int8 through ``GPT2Decoder`` for GPT-2 or quantized linears for any other model."""
    import torch

    if device != "cpu":
        model.to(device)
    if precision in ("bf16", "fp16"):
        _cast(model, torch.bfloat16 if precision == "bf16" else torch.float16)
    else:
        _cast(model, torch.float32)
    if precision == "int8":
        if GPT2Decoder.supports(model):
            return GPT2Decoder(model)
        from trainer.generation.int8 import quantize_int8

        # Llama-style models carry activation outliers into the MLP's down projection: int8
        # there (and in the output projection) cost SmolLM2-135M +2.8 % held-out perplexity;
        # kept in float, +0.1 %.
        model = quantize_int8(model, include_lm_head=False, keep_float=("down_proj",))
    return HFDecoder(model, device)


def _cast(model, dtype) -> None:
    """Floating-point weights of ``model`` to ``dtype``, also for models HF marks as quantized
    (a GGUF file is dequantized when loaded, but ``.to(dtype)`` is refused for it)."""
    import torch

    tensors = list(model.parameters()) + list(model.buffers())
    if all(t.dtype == dtype for t in tensors if torch.is_floating_point(t)):
        return
    try:
        model.to(dtype)
    except ValueError:
        for tensor in tensors:
            if torch.is_floating_point(tensor):
                tensor.data = tensor.data.to(dtype)


# ------------------------------------------------------------------------------------ the loop
def _penalise(logits, seen, penalty: float):
    """HF/CTRL repetition penalty: logits of tokens already seen move towards "less likely".

    Only the seen entries are touched (a few hundred of a 50k vocabulary)."""
    import torch

    if penalty == 1.0 or seen is None:
        return logits
    logits = logits.clone()
    values = logits[seen]
    logits[seen] = torch.where(values > 0, values / penalty, values * penalty)
    return logits


def _process_logits(logits, seen, settings: SamplingSettings):
    """Repetition penalty, temperature, top-k and top-p (HF's order); returns (values, token ids).

    ``values`` are the kept logits (the others are -inf or dropped), ``ids`` their token ids.
    """
    import torch

    logits = _penalise(logits, seen, settings.repetition_penalty)
    logits = logits / settings.temperature
    vocab = logits.shape[-1]
    k = settings.top_k if 0 < settings.top_k < vocab else vocab
    values, ids = torch.topk(logits, k, dim=-1)  # sorted, descending
    if settings.top_p < 1.0:
        probs = torch.softmax(values, dim=-1)
        before = torch.cumsum(probs, dim=-1) - probs  # mass of the better tokens
        values = values.masked_fill(before >= settings.top_p, float("-inf"))  # keeps the first
    return values, ids


def sample_batch(decoder, prompt: list[int], seeds: list[int], settings: SamplingSettings,
                 eos_id: int, max_positions: int):
    """Sample one continuation of ``prompt`` per seed; returns [(token ids, mean log-prob, stop)].

    Rows stop at EOS (not included in the ids) or after ``max_new_tokens`` or at the model's
    maximum positions. Finished rows leave the batch. Deterministic for the same inputs.
    """
    import torch

    n = len(seeds)
    generators = [torch.Generator().manual_seed(s) for s in seeds]
    budget = min(settings.max_new_tokens, max_positions - len(prompt))
    out: list[list[int]] = [[] for _ in range(n)]
    logprob_sums = [0.0] * n
    stops = ["length"] * n
    if budget < settings.max_new_tokens:
        stops = ["context"] * n
    if budget <= 0:
        return [([], 0.0, "context") for _ in range(n)]

    with torch.inference_mode():
        logits = decoder.prefill(prompt, n, len(prompt) + budget)
        vocab = logits.shape[-1]
        seen = None
        if settings.repetition_penalty != 1.0:
            seen = torch.zeros(n, vocab, dtype=torch.bool, device=logits.device)
            prefix_ids = [t for t in prompt if t != eos_id]
            if prefix_ids:
                seen[:, prefix_ids] = True
        active = list(range(n))  # row r of the batch is candidate active[r]
        for step in range(budget):
            normaliser = torch.logsumexp(logits, dim=-1)
            if settings.temperature == 0:
                chosen = torch.argmax(_penalise(logits, seen, settings.repetition_penalty), dim=-1)
            else:
                values, ids = _process_logits(logits, seen, settings)
                probs = torch.softmax(values, dim=-1).cpu()
                picks = [torch.multinomial(probs[r], 1, generator=generators[c]).item()
                         for r, c in enumerate(active)]
                chosen = ids.gather(1, torch.tensor(picks, device=ids.device)[:, None])[:, 0]
            chosen_lp = (logits.gather(1, chosen[:, None])[:, 0] - normaliser).tolist()
            chosen_list = chosen.tolist()
            keep = []
            for r, c in enumerate(active):
                token = chosen_list[r]
                logprob_sums[c] += chosen_lp[r]
                if token == eos_id:
                    stops[c] = "eos"
                    out[c].append(token)
                else:
                    out[c].append(token)
                    keep.append(r)
            if not keep or step == budget - 1:
                break
            if seen is not None:
                seen[torch.arange(len(active), device=seen.device), chosen] = True
            if len(keep) < len(active):
                rows = torch.tensor(keep, device=chosen.device)
                decoder.keep(rows)
                chosen = chosen[rows]
                if seen is not None:
                    seen = seen[rows]
                active = [active[r] for r in keep]
            logits = decoder.step(chosen)

    results = []
    for c in range(n):
        ids = out[c]
        mean = logprob_sums[c] / len(ids) if ids else float("-inf")
        if ids and ids[-1] == eos_id:
            ids = ids[:-1]
        results.append((ids, mean, stops[c]))
    return results
