"""Corpus -> tokens -> windows: EOS between posts, held-out whole posts, the token cache, sampling."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from common.corpus_format import DELIMITER, join_documents
from trainer.training import data
from common.errors import CorpusError


def test_delimiter_lines_become_the_single_eos_token(corpus_file, tiny_model_and_tokenizer):
    _model, tokenizer = tiny_model_and_tokenizer
    corpus = data.read_corpus(corpus_file)
    tokens = data.encode_documents(corpus.documents, tokenizer)
    stream = data.token_stream(tokens, tokenizer.eos_token_id)

    eos_positions = np.flatnonzero(stream == tokenizer.eos_token_id)
    assert len(eos_positions) == len(corpus.documents) + 1  # before, between and after the posts
    assert stream[0] == stream[-1] == tokenizer.eos_token_id
    literal = tokenizer(DELIMITER, add_special_tokens=False, split_special_tokens=True)["input_ids"]
    assert len(literal) > 1  # as text it would be several ordinary tokens...
    pieces = np.split(stream, eos_positions)[1:-1]
    for piece, document in zip(pieces, corpus.documents):  # ...but each post is exactly its text
        assert tokenizer.decode(piece[1:].tolist()) == document


def test_literal_delimiter_inside_a_post_stays_text(tiny_model_and_tokenizer):
    _model, tokenizer = tiny_model_and_tokenizer
    [tokens] = data.encode_documents([f"the marker {DELIMITER} mid-line"], tokenizer)
    assert tokenizer.eos_token_id not in tokens.tolist()


def test_gpt2_eos_is_50256(tmp_path, gpt2_tokenizer_dir):
    """With the real GPT-2 BPE files (scripts/get-models.sh; the gpt2_tokenizer_dir fixture)."""
    folder = gpt2_tokenizer_dir
    from transformers import GPT2TokenizerFast

    tokenizer = GPT2TokenizerFast(vocab=str(folder / "encoder.json"), merges=str(folder / "vocab.bpe"))
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(join_documents(["First post", f"Second post, quoting {DELIMITER} inline"]), encoding="utf-8")
    tokens = data.encode_documents(data.read_corpus(corpus).documents, tokenizer)
    stream = data.token_stream(tokens, tokenizer.eos_token_id)
    assert tokenizer.eos_token_id == 50256
    assert stream.tolist().count(50256) == 3  # before, between and after the posts; the quote stays text


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "does not exist"),
        ("", "is empty"),
        ("\n\n" + DELIMITER + "\n", "is empty"),
        ("one long post without any separator line\n", "has no line '<|endoftext|>'"),
        (b"\xff\xfe not utf-8", "not UTF-8"),
    ],
)
def test_bad_corpus_is_one_clear_error(tmp_path, content, message):
    path = tmp_path / "corpus.txt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(CorpusError, match=message) as error:
        data.read_corpus(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_corpus_hash_and_absolute_path(corpus_file, monkeypatch):
    monkeypatch.chdir(corpus_file.parent)
    corpus = data.read_corpus("corpus.txt")
    assert corpus.path == corpus_file and corpus.path.is_absolute()
    import hashlib

    assert corpus.sha256 == hashlib.sha256(corpus_file.read_bytes()).hexdigest()


def test_held_out_split_keeps_whole_posts_and_is_stable():
    documents = [f"post number {i}" for i in range(20)]
    train, val = data.held_out_split(documents, 0.1)
    assert len(val) == 2 and sorted(train + val) == list(range(20))
    # the same posts, whatever their order in the corpus
    shuffled = documents[::-1]
    _, val_shuffled = data.held_out_split(shuffled, 0.1)
    assert {shuffled[i] for i in val_shuffled} == {documents[i] for i in val}


@pytest.mark.parametrize("n, fraction, expected", [(1, 0.1, 0), (2, 0.1, 1), (3, 0.9, 2), (10, 0.0, 0)])
def test_held_out_split_sizes(n, fraction, expected):
    _train, val = data.held_out_split([f"doc {i}" for i in range(n)], fraction)
    assert len(val) == expected


def test_token_cache_is_reused_and_keyed_by_tokenizer(tmp_path, corpus_file, tiny_model_and_tokenizer, monkeypatch):
    _model, tokenizer = tiny_model_and_tokenizer
    corpus = data.read_corpus(corpus_file)
    cache = data.cache_dir_for(corpus.path)
    first = data.encode_documents(corpus.documents, tokenizer, cache_dir=cache, corpus_sha256=corpus.sha256)
    assert cache == corpus_file.parent / ".cache" and len(list(cache.iterdir())) == 1

    def no_tokenizing(*args, **kwargs):
        raise AssertionError("tokenized again despite the cache")

    monkeypatch.setattr(data, "_encode", no_tokenizing)
    second = data.encode_documents(corpus.documents, tokenizer, cache_dir=cache, corpus_sha256=corpus.sha256)
    assert [a.tolist() for a in first] == [b.tolist() for b in second]

    from trainer.training.scratch import train_tokenizer

    other = train_tokenizer(corpus.documents, 300)
    with pytest.raises(AssertionError, match="tokenized again"):
        data.encode_documents(corpus.documents, other, cache_dir=cache, corpus_sha256=corpus.sha256)


def test_train_windows_are_shifted_and_resumable():
    stream = np.arange(1000)
    windows = data.TrainWindows(stream, block_size=16, batch_size=4, seed=1)
    x, y = windows.next_batch()
    assert x.shape == y.shape == (4, 16) and torch.equal(x[:, 1:], y[:, :-1]) and torch.equal(y - x, torch.ones_like(x))
    windows.end_step()
    state = windows.state_dict()
    expected = windows.next_batch()

    resumed = data.TrainWindows(stream, block_size=16, batch_size=4, seed=1)
    resumed.load_state_dict(state)
    assert all(torch.equal(a, b) for a, b in zip(resumed.next_batch(), expected))
    other_rank = data.TrainWindows(stream, block_size=16, batch_size=4, seed=1, rank=1)
    assert not torch.equal(other_rank.batch(1)[0], expected[0])


def test_short_corpus_gets_shorter_windows():
    windows = data.TrainWindows(np.arange(10), block_size=1024, batch_size=3, seed=0)
    x, y = windows.next_batch()
    assert x.shape == (3, 9) and y[0, -1] == 9


def test_validation_windows_cover_the_stream_and_are_fixed():
    stream = np.arange(100)
    windows = data.validation_windows(stream, 32)
    assert [len(w) for w in windows] == [33, 33, 33, 4]
    assert sum(len(w) - 1 for w in windows) == 99  # every token but the first is predicted once
    subset = data.validation_windows(stream, 8, max_windows=3)
    assert len(subset) == 3 and torch.equal(subset[0], data.validation_windows(stream, 8, max_windows=3)[0])


def test_corpus_written_by_join_documents_round_trips(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(join_documents(["Title A\n\nBody A", "Title B\n\nBody B"]), encoding="utf-8")
    assert data.read_corpus(path).documents == ["Title A\n\nBody A", "Title B\n\nBody B"]


def test_post_start_share_opens_that_share_of_windows_at_a_post_start():
    """With --post-start-share, half the rows begin with the EOS that opens a post (so the model sees
    "EOS, title" often); without it the windows are exactly the ones drawn before the option."""
    posts = [np.arange(10 + i, 40 + i) for i in range(6)]
    stream = data.token_stream(posts, eos_id=0)
    plain = data.TrainWindows(stream, 8, 4, seed=3)
    shared = data.TrainWindows(stream, 8, 4, seed=3, eos_id=0, post_start_share=0.5)
    unset = data.TrainWindows(stream, 8, 4, seed=3, eos_id=0)
    for step in range(20):
        x, y = shared.batch(step)
        assert (x[:2, 0] == 0).all()  # rows 0-1: a post's opening EOS, then its first token
        assert (y[:2, 0] != 0).all()
        assert torch.equal(x[2:], plain.batch(step)[0][2:])  # the others: as before
        assert torch.equal(unset.batch(step)[0], plain.batch(step)[0])
