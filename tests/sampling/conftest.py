"""Fixtures for the sampling tests: a tiny GPT-2 overfit on one short text until it recites it."""
from __future__ import annotations

import json

import pytest

# Two of the shared tiny texts run together: about a hundred tokens, well under 128 positions.
RECITED_INDEXES = (0, 2)


@pytest.fixture(scope="session")
def recited_text(tiny_texts) -> str:
    return " ".join(tiny_texts[i] for i in RECITED_INDEXES)


@pytest.fixture(scope="session")
def overfit_run(tmp_path_factory, tiny_model_and_tokenizer, recited_text):
    """A run folder (model, tokenizer, train.json, corpus) whose model recites ``recited_text``.

    A fresh copy of the tiny GPT-2 is trained with a plain loop on the one text, framed by EOS
    tokens, until greedy decoding reproduces it: a few hundred steps, a few seconds on a CPU.
    """
    import torch
    from transformers import GPT2LMHeadModel

    from corpus_builder.corpus_format import join_documents
    from corpus_builder.fileio import atomic_write_json, atomic_write_text, sha256_file

    base, tokenizer = tiny_model_and_tokenizer
    torch.manual_seed(0)
    model = GPT2LMHeadModel(base.config)
    model.config.resid_pdrop = model.config.embd_pdrop = model.config.attn_pdrop = 0.0
    ids = [tokenizer.eos_token_id] + tokenizer.encode(recited_text) + [tokenizer.eos_token_id]
    assert 60 < len(ids) <= model.config.n_positions
    batch = torch.tensor([ids])
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(300):
        loss = model(input_ids=batch, labels=batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if loss.item() < 0.01:
            break
    model.eval()

    run = tmp_path_factory.mktemp("overfit-run")
    corpus = run / "corpus.txt"
    atomic_write_text(corpus, join_documents([recited_text]))
    model.save_pretrained(run, safe_serialization=True)
    tokenizer.save_pretrained(run)
    atomic_write_json(run / "train.json", {
        "corpus_path": str(corpus), "corpus_sha256": sha256_file(corpus),
        "steps": 300, "train_loss": loss.item(),
    })
    return run
