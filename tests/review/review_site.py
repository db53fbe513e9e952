"""Helpers of the review tests (imported by name, never from `conftest`)."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from plugin_site import StubSampler, daily_settings


class SeededStub(StubSampler):
    """A stub whose post depends on the seed (a real model's does): a redraw gives another text."""

    def best_post(self, seed, settings=None, gate=None, candidates=4, rounds=3):
        result = super().best_post(seed, settings, gate, candidates, rounds)
        if result.post is not None:
            result.post = SimpleNamespace(**{**vars(result.post), "title": f"{self.title} number {seed % 1000}",
                                            "body": f"{self.body}\n\nSeed {seed} wrote this."})
        return result


@pytest.fixture
def seeded_sampler(stub_sampler, monkeypatch):
    """stub_sampler's stubs (no torch), with a SeededStub loaded by plugin.generate.load_sampler."""
    import plugin.generate as generate

    sampler = SeededStub()
    sampler.loads = 0

    def load(path, precision="auto", demo=False):
        sampler.loads += 1
        return sampler

    monkeypatch.setattr(generate, "load_sampler", load)
    return sampler


def review_settings(root, **overrides):
    return daily_settings(root, DAILY_POST_REVIEW=True, **overrides)


def decisions(root) -> dict:
    return json.loads((root / "review" / "decisions.json").read_text(encoding="utf-8"))


def queue_files(root) -> list:
    return sorted((root / "review" / "queue").glob("*.md"))
