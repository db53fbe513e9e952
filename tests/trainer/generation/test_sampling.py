"""The sampling API: loading, determinism (also across processes), stopping, the exact and fast paths."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from common.errors import ModelError, TrainerError
from trainer.generation.decoders import GPT2Decoder, HFDecoder
from trainer.generation.decoding import sample_batch
from trainer.generation.sampler import Sampler, SamplingSettings, derive_seed

ROOT = Path(__file__).resolve().parents[3]
SHORT = SamplingSettings(max_new_tokens=24)


@pytest.fixture(scope="module")
def sampler(tiny_model_dir):
    return Sampler.load(tiny_model_dir, precision="fp32", threads=1)


@pytest.fixture(scope="module")
def recite_sampler(overfit_run):
    return Sampler.load(overfit_run, precision="fp32", threads=1)


def test_load_reports_identity(sampler, tiny_model_dir):
    from common.fileio import sha256_file

    assert sampler.identity == {
        "path": str(Path(tiny_model_dir).resolve()),
        "name": Path(tiny_model_dir).resolve().name,
        "weights_sha256": sha256_file(Path(tiny_model_dir) / "model.safetensors"),
    }
    assert sampler.precision == "fp32"


def test_missing_folder_is_one_clear_model_error(tmp_path):
    with pytest.raises(ModelError) as excinfo:
        Sampler.load(tmp_path / "no-such-run")
    assert "model folder not found" in str(excinfo.value)
    assert "\n" not in str(excinfo.value)


def test_corrupt_weights_are_a_model_error(tmp_path, tiny_model_dir):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    (broken / "model.safetensors").write_bytes(b"not a safetensors file at all")
    with pytest.raises(ModelError) as excinfo:
        Sampler.load(broken)
    assert str(broken) in str(excinfo.value)
    assert "\n" not in str(excinfo.value)


def test_folder_without_weights_is_a_model_error(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelError, match="no model weights"):
        Sampler.load(tmp_path)


def test_same_seed_same_text_different_seed_different_text(sampler):
    first = sampler.generate(7, SHORT, n=3)
    again = sampler.generate(7, SHORT, n=3)
    other = sampler.generate(8, SHORT, n=3)
    assert [c.token_ids for c in first] == [c.token_ids for c in again]
    assert [c.token_ids for c in first] != [c.token_ids for c in other]
    # candidates in one batch differ from each other (each has its own derived seed)
    assert len({tuple(c.token_ids) for c in first}) == 3
    assert [c.seed for c in first] == [derive_seed(7, 0, i) for i in range(3)]


_CHILD = """
import json, sys
from trainer.generation.sampler import Sampler, SamplingSettings
texts = {}
for precision in ("fp32", "int8"):
    sampler = Sampler.load(sys.argv[1], precision=precision, threads=1)
    posts = sampler.posts(7, SamplingSettings(max_new_tokens=24), n=2)
    texts[precision] = [[p.title, p.body] for p in posts]
print(json.dumps(texts))
"""


def test_same_text_in_a_new_process(tiny_model_dir):
    """Both the exact (fp32) and the fast (int8) path repeat themselves in a fresh interpreter."""
    expected = {}
    for precision in ("fp32", "int8"):
        here = Sampler.load(tiny_model_dir, precision=precision, threads=1)
        posts = here.posts(7, SamplingSettings(max_new_tokens=24), 2)
        expected[precision] = [[p.title, p.body] for p in posts]
    child = subprocess.run([sys.executable, "-c", _CHILD, str(tiny_model_dir)],
                           capture_output=True, text=True, cwd=ROOT, timeout=300, check=True)
    assert json.loads(child.stdout.strip().splitlines()[-1]) == expected


def test_stops_at_max_length(sampler):
    (candidate,) = sampler.generate(1, SamplingSettings(max_new_tokens=5, temperature=1.0,
                                                        top_k=0, top_p=1.0), n=1)
    assert candidate.stop in ("length", "eos")
    assert len(candidate.token_ids) <= 5
    if candidate.stop == "length":
        assert len(candidate.token_ids) == 5


def test_stops_at_the_models_context(sampler):
    candidates = sampler.generate(2, SamplingSettings(max_new_tokens=10_000, repetition_penalty=1.0),
                                  n=2)
    for candidate in candidates:
        assert len(candidate.token_ids) <= sampler.max_positions - 1
        if candidate.stop != "eos":
            assert candidate.stop == "context"


def test_overfit_model_recites_and_stops_at_eos(recite_sampler, recited_text):
    greedy = SamplingSettings(max_new_tokens=120, temperature=0, repetition_penalty=1.0)
    (candidate,) = recite_sampler.generate(0, greedy, n=1)
    assert candidate.stop == "eos"
    assert candidate.text == recited_text
    assert recite_sampler.tokenizer.eos_token_id not in candidate.token_ids


class _ScriptedDecoder:
    """A fake decoder: row r emits token 5 until its step ``eos_at[r]``, then EOS (id 0)."""

    def __init__(self, eos_at):
        self.eos_at = eos_at
        self.rows = list(range(len(eos_at)))
        self.steps = 0
        self.batch_sizes = []

    def _logits(self):
        logits = torch.full((len(self.rows), 8), -10.0)
        for i, row in enumerate(self.rows):
            logits[i, 0 if self.steps >= self.eos_at[row] else 5] = 10.0
        self.batch_sizes.append(len(self.rows))
        return logits

    def prefill(self, prompt, n, capacity=None):
        return self._logits()

    def step(self, tokens):
        self.steps += 1
        return self._logits()

    def keep(self, rows):
        self.rows = [self.rows[r] for r in rows.tolist()]


def test_each_row_stops_at_its_eos_and_leaves_the_batch():
    decoder = _ScriptedDecoder(eos_at=[2, 5, 3])
    rows = sample_batch(decoder, [0], seeds=[1, 2, 3], settings=SamplingSettings(
        max_new_tokens=50, temperature=0.7, top_k=0, top_p=1.0, repetition_penalty=1.0),
        eos_id=0, max_positions=100)
    assert [ids for ids, _, _ in rows] == [[5, 5], [5] * 5, [5, 5, 5]]
    assert [stop for _, _, stop in rows] == ["eos"] * 3
    # finished rows are dropped: no work is spent on them
    assert decoder.batch_sizes == [3, 3, 3, 2, 1, 1]


def test_greedy_fp32_matches_hf_generate(recite_sampler):
    model, tokenizer = recite_sampler.model, recite_sampler.tokenizer
    prefix = "Snow fell"
    settings = SamplingSettings(max_new_tokens=40, temperature=0, repetition_penalty=1.0,
                                prefix=prefix)
    (candidate,) = recite_sampler.generate(0, settings, n=1)
    prompt = torch.tensor([recite_sampler.prompt_ids(prefix)])
    with torch.inference_mode():
        out = model.generate(input_ids=prompt, attention_mask=torch.ones_like(prompt),
                             do_sample=False, max_new_tokens=40,
                             pad_token_id=tokenizer.eos_token_id)
    expected = out[0, prompt.shape[1]:].tolist()
    if expected and expected[-1] == tokenizer.eos_token_id:
        expected = expected[:-1]
    assert candidate.token_ids == expected
    assert len(expected) > 5


def test_gpt2_fast_forward_is_exact_in_fp32_and_close_in_int8(overfit_run, recited_text):
    import copy

    from trainer.model_loading import load_model

    model, tokenizer = load_model(str(overfit_run))
    model.eval()
    ids = [tokenizer.eos_token_id] + tokenizer.encode(recited_text)[:30]
    with torch.inference_mode():
        reference = model(input_ids=torch.tensor([ids])).logits[0, -1]
        results = {}
        for name, decoder in [("hf", HFDecoder(copy.deepcopy(model), "cpu")),
                              ("fp32", GPT2Decoder(copy.deepcopy(model), int8=False)),
                              ("int8", GPT2Decoder(copy.deepcopy(model)))]:
            decoder.prefill(ids[:-1], 2)
            results[name] = decoder.step(torch.tensor([ids[-1]] * 2))
    for name in ("hf", "fp32"):
        torch.testing.assert_close(results[name][1], reference, atol=1e-4, rtol=1e-4)
    assert torch.argmax(results["int8"][0]) == torch.argmax(reference)
    assert (results["int8"][0] - reference).abs().max() < 0.05 * reference.abs().max()


def test_int8_sampler_uses_the_fast_gpt2_path_and_recites(overfit_run, recited_text):
    sampler = Sampler.load(overfit_run, precision="int8", threads=1)
    assert isinstance(sampler._decoder, GPT2Decoder)
    greedy = SamplingSettings(max_new_tokens=120, temperature=0, repetition_penalty=1.0)
    assert sampler.generate(0, greedy, n=1)[0].text == recited_text


def test_auto_precision_on_cpu_is_int8(tiny_model_dir):
    assert Sampler.load(tiny_model_dir, precision="auto", threads=1).precision == "int8"


def test_prefix_is_continued(recite_sampler, recited_text):
    prefix = recited_text[:20]
    settings = SamplingSettings(max_new_tokens=120, temperature=0, repetition_penalty=1.0,
                                prefix=prefix)
    (candidate,) = recite_sampler.generate(0, settings, n=1)
    assert candidate.text.startswith(prefix)


def test_invalid_settings_are_one_line_errors(sampler):
    with pytest.raises(TrainerError, match="top-p"):
        sampler.generate(1, SamplingSettings(top_p=0), n=1)
    with pytest.raises(TrainerError, match="unknown precision"):
        Sampler.load(sampler.folder, precision="int4")


def test_post_carries_seed_model_and_settings(recite_sampler, recited_text):
    greedy = SamplingSettings(max_new_tokens=120, temperature=0, repetition_penalty=1.0)
    (post,) = recite_sampler.posts(11, greedy, n=1)
    assert post.seed == 11
    assert post.model == recite_sampler.identity
    assert post.settings["max_new_tokens"] == 120 and post.settings["precision"] == "fp32"
    assert post.gate["candidate_seed"] == derive_seed(11, 0, 0)
    assert post.gate["stop"] == post.gate["ending"] == "eos"
    title, _, body = recited_text.partition("\n\n")
    assert (post.title, post.body, post.title_problem) == (title, body, "")
