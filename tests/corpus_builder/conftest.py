"""Fixtures for the corpus builder's tests: a throw-away site folder and a tiny tokenizer."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from corpus_helpers import TEST_DATA, Site


@pytest.fixture
def site(tmp_path, monkeypatch) -> Site:
    # Work in an empty folder: no pelicanconf.py there, so Pelican's defaults apply.
    monkeypatch.chdir(tmp_path)
    return Site(tmp_path)


@pytest.fixture
def blog(tmp_path, monkeypatch) -> Path:
    """A copy of test_data/blog (a small made-up site with its own pelicanconf.py)."""
    copy = tmp_path / "blog"
    shutil.copytree(TEST_DATA / "blog", copy)
    monkeypatch.chdir(tmp_path)
    return copy


@pytest.fixture
def untitled_blog(tmp_path, monkeypatch) -> Path:
    """A copy of test_data/untitled_blog: posts titled by headings or file names, no Title: lines."""
    copy = tmp_path / "untitled_blog"
    shutil.copytree(TEST_DATA / "untitled_blog", copy)
    monkeypatch.chdir(tmp_path)
    return copy


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(tmp_path_factory) -> Path:
    """A tiny byte-level BPE tokenizer (saved like a Hugging Face model folder), built offline."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    texts = ["The leeks stood in a row by the shed.", "Frost at dawn, rain by noon, beans in the soil."]
    tokenizer.train_from_iterator(texts * 10, trainer)
    folder = tmp_path_factory.mktemp("tokenizer")
    PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="<|endoftext|>").save_pretrained(folder)
    return folder
