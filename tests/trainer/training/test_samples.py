"""trainer.training.samples: the samples `trainer fit` writes while it trains."""
from __future__ import annotations

from trainer.training.samples import generate_samples


def test_samples_longer_than_the_models_context_are_cut_to_fit(tiny_model_and_tokenizer, monkeypatch):
    """--sample-length 200 (the default) on a model with a 128-token context asks for at most 127
    new tokens (the EOS start token takes one position), never more than the model can hold."""
    model, tokenizer = tiny_model_and_tokenizer
    assert model.config.n_positions == 128
    asked = []
    original = model.generate

    def spy(*args, **kwargs):
        asked.append(kwargs["max_new_tokens"])
        return original(*args, **kwargs)

    monkeypatch.setattr(model, "generate", spy)
    samples = generate_samples(model, tokenizer, num=1, length=200, seed=0, device="cpu")
    assert asked == [127] and len(samples) == 1
