"""Sampling starts where a post starts, for the real SmolLM2 tokenizer too.

The corpus separates posts with ``<|endoftext|>``; training joins the posts with the tokenizer's
EOS id, and sampling starts after it. SmolLM2-Instruct's own EOS is ``<|im_end|>`` (id 2), but its
vocabulary has ``<|endoftext|>`` (id 0): ``load_model`` makes that the EOS, so training separates
posts with id 0 and a Sampler's prompt is ``[0]``. Loading the GGUF takes ~25 s, so it is loaded once
per module, the way the plugin loads it: ``Sampler.load`` on a folder holding only the .gguf, which
calls ``load_model`` on that file (a link to the fixture's).
"""
from __future__ import annotations

import pytest

from common.corpus_format import DELIMITER

pytestmark = pytest.mark.slow

ENDOFTEXT_ID = 0  # SmolLM2's <|endoftext|>


@pytest.fixture(scope="module")
def sampler(smollm2_gguf, tmp_path_factory):
    from trainer.generation.sampler import Sampler

    folder = tmp_path_factory.mktemp("smol")
    (folder / smollm2_gguf.name).symlink_to(smollm2_gguf)
    return Sampler.load(folder, precision="fp32", device="cpu", threads=2)


def test_load_model_makes_endoftext_the_eos_everywhere(sampler, smollm2_gguf, monkeypatch):
    import trainer.model_loading as model_loading
    from trainer.generation.sampler import Sampler

    loaded = []  # Sampler.load loads through load_model, on the .gguf itself
    monkeypatch.setattr(model_loading, "load_model",
                        lambda ref, **kw: loaded.append(ref) or (sampler.model, sampler.tokenizer))
    Sampler.load(sampler.folder, precision="fp32", device="cpu", threads=2)
    assert loaded == [str(sampler.folder / smollm2_gguf.name)]
    model, tokenizer = sampler.model, sampler.tokenizer
    assert tokenizer.convert_tokens_to_ids(DELIMITER) == ENDOFTEXT_ID
    assert tokenizer.eos_token == DELIMITER
    assert tokenizer.eos_token_id == ENDOFTEXT_ID
    assert model.config.eos_token_id == ENDOFTEXT_ID
    assert model.generation_config.eos_token_id == ENDOFTEXT_ID
    assert model.generation_config.pad_token_id == ENDOFTEXT_ID


def test_training_separates_posts_with_the_endoftext_id(sampler):
    from trainer.training.data import encode_documents, token_stream

    tokenizer = sampler.tokenizer
    posts = ["Fog on the Harbour\n\nThe boats stayed in.", "A Dry Week\n\nNo rain at all."]
    tokens = encode_documents(posts, tokenizer)
    assert all(ENDOFTEXT_ID not in doc.tolist() for doc in tokens)
    stream = token_stream(tokens, tokenizer.eos_token_id).tolist()
    separators = [i for i, token in enumerate(stream) if token == ENDOFTEXT_ID]
    assert separators == [0, len(tokens[0]) + 1, len(stream) - 1]
    assert tokenizer.decode(stream[1:separators[1]]) == posts[0]


def test_a_sampler_on_a_folder_holding_only_the_gguf_starts_after_endoftext(sampler):
    from trainer.generation.sampler import SamplingSettings

    assert sampler.prompt_ids() == [ENDOFTEXT_ID]
    assert sampler.prompt_ids("Fog")[0] == ENDOFTEXT_ID
    candidate = sampler.generate(seed=1, settings=SamplingSettings(max_new_tokens=4, temperature=0))[0]
    assert len(candidate.token_ids) <= 4
