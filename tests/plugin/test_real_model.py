"""The plugin with the real sampling API and the session's tiny models: one that recites a titled
post (an untrained model writes noise: no title, no sentence, which the gate rejects) publishes it,
the same date gives the same post in a fresh site, and the post is written, read and published by
Pelican; the untrained one has every candidate rejected, summarised by rule."""
from __future__ import annotations

import pytest
from plugin_site import build, daily_settings, site_settings, write_site
from recital import RECITED_TITLE, recital, train_recital_run

LENIENT = {
    # a tiny model: any post with a title and a last sentence (the recital is its corpus, title
    # included)
    "DAILY_POST_GATE": {"min_words": 1, "max_repeated": 1.0, "min_distinct": 0.0,
                        "memorised_tokens": 500, "new_title": False},
    "DAILY_POST_SAMPLING": {"max_new_tokens": 120},
    "DAILY_POST_CANDIDATES": 2,
    "DAILY_POST_ROUNDS": 1,
    "DAILY_POST_PRECISION": "fp32",
}


@pytest.fixture(scope="module")
def recital_run(tmp_path_factory, tiny_model_and_tokenizer, tiny_texts):
    base, tokenizer = tiny_model_and_tokenizer
    return train_recital_run(tmp_path_factory.mktemp("recital"), base, tokenizer, recital(tiny_texts))


def test_tiny_model_publishes_a_post_and_same_date_gives_same_post(tmp_path, recital_run, fixed_day):
    posts = []
    for name in ("one", "two"):
        root = tmp_path / name
        write_site(root)
        build(site_settings(root, DAILY_POST_MODEL=str(recital_run), **LENIENT))
        [post] = sorted((root / "content" / "generated").glob("*.md"))
        posts.append(post)
        header = post.read_text(encoding="utf-8").split("\n\n", 1)[0]
        assert "Generated: true" in header
        assert f"Model: {recital_run.name}" in header
        assert f"Title: {RECITED_TITLE}" in header
        slug = header.split("Slug: ", 1)[1].split("\n", 1)[0]
        assert (root / "output" / f"{slug}.html").is_file()
        assert slug in (root / "output" / "index.html").read_text(encoding="utf-8")
    assert posts[0].name == posts[1].name
    assert posts[0].read_bytes() == posts[1].read_bytes()


def test_real_gate_rejection_is_summarised_by_rule(tmp_path, tiny_model_dir):
    import datetime as dt

    from plugin import generate
    from plugin.daily import publish

    write_site(tmp_path)
    settings = daily_settings(tmp_path, DAILY_POST_MODEL=str(tiny_model_dir),
                              **{**LENIENT, "DAILY_POST_GATE": {"min_words": 10_000}})
    sampler = generate.load_sampler(tiny_model_dir, "fp32")
    outcome = publish(settings, [dt.date(2026, 3, 14)], sampler=sampler)
    assert outcome.written == []
    [failure] = outcome.failures
    assert failure.startswith("2026-03-14: the quality gate rejected every candidate (")
    assert "rejected 2 of 2" in failure and "10000" in failure
