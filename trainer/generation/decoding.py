"""The sampling loop: ``sample_batch`` draws one continuation per seed through a decoder.

One prefill of the prompt, then one token per step and row. Each candidate has its own seeded
``torch.Generator``; a candidate that reaches EOS leaves the batch. Each step turns the logits into
a choice the way Hugging Face does: repetition penalty, temperature, top-k, top-p (or the argmax
of the penalised logits when ``temperature`` is 0). The log-probability recorded for a token is
that of the raw model, before any of these.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trainer.generation.sampler import SamplingSettings


def sample_batch(decoder, prompt: list[int], seeds: list[int], settings: SamplingSettings,
                 eos_id: int, max_positions: int) -> list[tuple[list[int], float, str]]:
    """Sample one continuation of ``prompt`` per seed; returns [(token ids, mean log-prob, stop)].

    Rows stop at EOS (not included in the ids) or after ``max_new_tokens`` or at the model's
    maximum positions. Finished rows leave the batch. Deterministic for the same inputs.
    """
    import torch

    budget = min(settings.max_new_tokens, max_positions - len(prompt))
    if budget <= 0:
        return [([], 0.0, "context") for _ in seeds]
    batch = _Batch.start(seeds, stop="length" if budget == settings.max_new_tokens else "context")
    with torch.inference_mode():
        logits = decoder.prefill(prompt, len(seeds), len(prompt) + budget)
        seen = _prompt_tokens(prompt, eos_id, logits, settings.repetition_penalty)
        for step in range(budget):
            chosen = _choose(logits, seen, settings, batch.active_generators())
            keep = batch.record(chosen.tolist(), _log_probs(logits, chosen), eos_id)
            if not keep or step == budget - 1:
                break
            if seen is not None:
                seen[torch.arange(len(batch.active), device=seen.device), chosen] = True
            if len(keep) < len(batch.active):
                chosen, seen = _drop_finished(decoder, batch, keep, chosen, seen)
            logits = decoder.step(chosen)
    return batch.results(eos_id)


@dataclass
class _Batch:
    """The candidates being sampled: their tokens, summed log-probs and stop reasons, and which of
    them are still in the decoder's batch (row r of the batch is candidate ``active[r]``)."""

    generators: list  # one seeded torch.Generator per candidate
    stops: list[str]
    tokens: list[list[int]]
    logprob_sums: list[float]
    active: list[int]

    @classmethod
    def start(cls, seeds: list[int], stop: str) -> "_Batch":
        import torch

        n = len(seeds)
        return cls(generators=[torch.Generator().manual_seed(s) for s in seeds], stops=[stop] * n,
                   tokens=[[] for _ in range(n)], logprob_sums=[0.0] * n, active=list(range(n)))

    def active_generators(self) -> list:
        return [self.generators[c] for c in self.active]

    def record(self, chosen: list[int], log_probs: list[float], eos_id: int) -> list[int]:
        """Append each row's token and log-prob; returns the rows that go on (no EOS)."""
        keep = []
        for r, c in enumerate(self.active):
            self.tokens[c].append(chosen[r])
            self.logprob_sums[c] += log_probs[r]
            if chosen[r] == eos_id:
                self.stops[c] = "eos"
            else:
                keep.append(r)
        return keep

    def results(self, eos_id: int) -> list[tuple[list[int], float, str]]:
        """(token ids without the final EOS, mean log-prob, stop) per candidate."""
        results = []
        for ids, total, stop in zip(self.tokens, self.logprob_sums, self.stops):
            mean = total / len(ids) if ids else float("-inf")
            if ids and ids[-1] == eos_id:
                ids = ids[:-1]
            results.append((ids, mean, stop))
        return results


def _prompt_tokens(prompt: list[int], eos_id: int, logits, penalty: float):
    """The tokens each row has seen (a [rows, vocab] mask: the prompt's, EOS aside), or None when
    there is no repetition penalty."""
    import torch

    if penalty == 1.0:
        return None
    seen = torch.zeros(logits.shape, dtype=torch.bool, device=logits.device)
    prefix_ids = [t for t in prompt if t != eos_id]
    if prefix_ids:
        seen[:, prefix_ids] = True
    return seen


def _choose(logits, seen, settings: SamplingSettings, generators: list):
    """One token per row: the argmax of the penalised logits (temperature 0), else a draw from
    the processed distribution with the row's own generator."""
    import torch

    if settings.temperature == 0:
        return torch.argmax(_penalise(logits, seen, settings.repetition_penalty), dim=-1)
    values, ids = _process_logits(logits, seen, settings)
    probs = torch.softmax(values, dim=-1).cpu()
    picks = [torch.multinomial(probs[r], 1, generator=generator).item()
             for r, generator in enumerate(generators)]
    return ids.gather(1, torch.tensor(picks, device=ids.device)[:, None])[:, 0]


def _log_probs(logits, chosen) -> list[float]:
    """The raw model's log-probability of each row's chosen token."""
    import torch

    normaliser = torch.logsumexp(logits, dim=-1)
    return (logits.gather(1, chosen[:, None])[:, 0] - normaliser).tolist()


def _drop_finished(decoder, batch: _Batch, keep: list[int], chosen, seen):
    """Keep only the rows in ``keep``, in the decoder and in the loop's tensors."""
    import torch

    rows = torch.tensor(keep, device=chosen.device)
    decoder.keep(rows)
    batch.active = [batch.active[r] for r in keep]
    return chosen[rows], (seen[rows] if seen is not None else None)


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
