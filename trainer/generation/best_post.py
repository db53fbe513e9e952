"""``BestPost``: what best-of-N sampling through the gate returns (``Sampler.best_post``).

The winner (or None), one report line per decision, and every candidate with its assessment;
``rejection_summary`` says in one line why nothing was published. Torch-free, and it imports
neither the sampler nor the gate at run time, so stand-in samplers can return one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from trainer.generation.post import Post

if TYPE_CHECKING:
    from trainer.generation.gate import Assessment


@dataclass
class BestPost:
    """The gate's result: ``post`` is the winner or None; ``report`` has one line per candidate
    and rule, then the outcome; ``candidates`` every (post, assessment) in the order sampled."""

    post: Post | None
    report: list[str] = field(default_factory=list)
    candidates: list[tuple[Post, Assessment]] = field(default_factory=list)

    def rejection_summary(self) -> str:
        """Why the gate published nothing, in one line: each rule, how many candidates it
        rejected, one measured value and the limit (from the assessments, else the report)."""
        counts: dict[str, list] = {}  # rule -> [candidates it rejected, its first verdict]
        for _post, assessment in self.candidates:
            for verdict in assessment.verdicts:
                if not verdict.passed:
                    counts.setdefault(verdict.rule, [0, verdict])[0] += 1
        if counts:
            return "; ".join(f"{rule} rejected {count} of {len(self.candidates)} "
                             f"(e.g. {v.value}, limit {v.limit})" for rule, (count, v) in counts.items())
        return self._rejected_report_lines()

    def _rejected_report_lines(self) -> str:
        """The report's REJECT lines (else all its lines), the first three, in one line."""
        lines = [line.strip() for line in self.report if line.strip()]
        lines = [line for line in lines if "REJECT" in line] or lines
        if not lines:
            return "no report"
        shown = "; ".join(lines[:3])
        return shown if len(lines) <= 3 else f"{shown} (and {len(lines) - 3} more)"
