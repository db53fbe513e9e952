"""Fixtures shared by every test package: a tiny tokenizer and a tiny GPT-2, built offline.

They are session-scoped because every package needs one: the model is untrained (random
weights), which is enough for the mechanics of training, sampling and publishing. Tests that need
a model that has learnt something train their own copy.
"""
from __future__ import annotations

import pytest

# A few made-up paragraphs: enough for a byte-level BPE of a few hundred tokens.
TINY_TEXTS = [
    "The wind came round to the north-west before dawn and the gauge on the roof read four "
    "millimetres of rain. I climbed up with a cup of coffee and a screwdriver.",
    "Calibration is a patient business. The thermometer in the kitchen says one thing, the sensor "
    "on the mast says another, and the truth is somewhere in a spreadsheet.",
    "Snow fell all afternoon. The ultrasonic sensor measured the depth every ten minutes and the "
    "little chart climbed like a staircase until midnight.",
    "A pair of oystercatchers landed on the neighbouring roof, argued loudly, and left. The wind "
    "speed logger recorded nothing unusual about the episode.",
    "The database now holds a year of readings: temperature, humidity, pressure, wind and rain, "
    "one row per minute, and a small Python script that plots them every morning.",
]


@pytest.fixture(scope="session")
def tiny_texts() -> list[str]:
    return list(TINY_TEXTS)


@pytest.fixture(scope="session")
def tiny_model_and_tokenizer():
    """An untrained 2-layer, 64-dim GPT-2 and a byte-level BPE tokenizer trained on TINY_TEXTS."""
    from trainer.training.scratch import build_scratch_model

    return build_scratch_model(TINY_TEXTS * 4, size="test", seed=0)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tiny_model_and_tokenizer):
    """A model folder (save_pretrained: safetensors + tokenizer) holding the tiny model."""
    model, tokenizer = tiny_model_and_tokenizer
    folder = tmp_path_factory.mktemp("tiny-model")
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder
