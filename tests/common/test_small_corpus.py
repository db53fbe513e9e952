"""A corpus too small to learn from is named, with its figures, by corpus-builder and trainer fit."""
from __future__ import annotations

from common.corpus_format import SMALL_CORPUS_POSTS, SMALL_CORPUS_WORDS, small_corpus_warning


def test_small_corpus_warning_names_the_figures_and_what_to_do():
    assert small_corpus_warning(SMALL_CORPUS_POSTS, SMALL_CORPUS_WORDS) is None
    line = small_corpus_warning(5, 1234)
    assert "5 posts, 1,234 words" in line and "at least 20 posts" in line
    assert "corpus-builder --txt" in line and "trainer fit --until-step" in line
    assert small_corpus_warning(200, 1000) is not None  # many tiny posts are still too little text
    assert small_corpus_warning(5) is not None
