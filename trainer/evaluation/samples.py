"""The report's samples: one batch of unconditional candidates, each with the quality gate's verdicts.

``sample_candidates`` draws them; the gallery is its first few ``Sample``s, and the memorisation
and diversity figures are measured over all of them.
"""
from __future__ import annotations

from dataclasses import dataclass

GENERATION_CHUNK = 16  # candidates sampled per batch


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


def sample_candidates(sampler, n: int, seed: int, settings, gate, *, progress: bool = False,
                      quality=None) -> list[Sample]:
    """``n`` unconditional candidates (batches of ``GENERATION_CHUNK``), each through the gate."""
    from tqdm.auto import tqdm

    from trainer.generation.gate import assess

    index = sampler.memorisation_index(gate)
    if quality is None and hasattr(sampler, "quality_checks"):  # fluency and topic, once calibrated
        quality = sampler.quality_checks(gate)
    samples: list[Sample] = []
    round_index = 0
    bar = tqdm(total=n, unit="sample", desc="sampling", disable=not progress, dynamic_ncols=True)
    while len(samples) < n:
        count = min(GENERATION_CHUNK, n - len(samples))
        batch = sampler.generate(seed, settings, count, round_index=round_index)
        posts = [sampler.to_post(cand, seed, settings) for cand in batch]
        if quality is not None:
            quality.prepare(posts)
        for cand, post in zip(batch, posts):
            assessment = assess(post, cand, gate, index, sampler.tokenizer, quality)
            samples.append(Sample(index=len(samples), seed=cand.seed, title=post.title,
                                  body=post.body, text=cand.text, tokens=len(cand.token_ids),
                                  stop=cand.stop, passed=assessment.passed,
                                  rejected_by=assessment.rejected_by,
                                  verdicts=assessment.lines(), figures=dict(assessment.figures)))
        bar.update(count)
        round_index += 1
    bar.close()
    return samples
