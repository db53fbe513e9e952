"""One source for every default: each option's default is the one of the API the command calls
(FitConfig, SamplingSettings, GateSettings, build_report, evaluate_model), read from there."""
from __future__ import annotations

import dataclasses
import inspect

import click
import pytest
from click.testing import CliRunner

from trainer.cli import evaluate, sample
from trainer.cli.defaults import ApiDefault
from trainer.cli.fit import fit_command
from trainer.cli.report import report_command
from trainer.generation import sampler as sampler_module
from trainer.generation.gate import GateSettings
from trainer.generation.sampler import SamplingSettings

# option name -> API name, where they differ
RENAMED = {fit_command: {"compile_mode": "compile"}, sample.sample_command: {"length": "max_new_tokens"}}


def field_defaults(owner) -> dict:
    return {f.name: f.default for f in dataclasses.fields(owner)}


def keyword_defaults(function) -> dict:
    return {p.name: p.default for p in inspect.signature(function).parameters.values()
            if p.default is not inspect.Parameter.empty}


def option_defaults(command: click.Command, api: dict) -> dict:
    """``{api name: (option default, ApiDefault?)}`` for every option of ``command`` the API has."""
    ctx = click.Context(command)
    found = {}
    for param in command.params:
        name = RENAMED.get(command, {}).get(param.name, param.name)
        if name in api and not (isinstance(param, click.Option) and param.is_flag):
            found[name] = (param.get_default(ctx), isinstance(param.default, ApiDefault))
    return found


def assert_from_api(command, api: dict, expected: set[str]) -> None:
    found = option_defaults(command, api)
    assert expected <= set(found), f"{command.name}: options missing for {expected - set(found)}"
    for name, (default, from_api) in found.items():
        assert from_api, f"{command.name}: the default of {name} is a copy, not read from the API"
        assert default == api[name], name


def test_fit_options_read_fit_config():
    from trainer.training.fit import FitConfig

    api = field_defaults(FitConfig)
    assert_from_api(fit_command, api, {"corpus", "model", "run", "models_dir", "steps", "lr", "seed",
                                       "batch_size", "val_fraction", "precision", "compile", "device"})
    ctx = click.Context(fit_command)
    flags = {p.name: p.get_default(ctx) for p in fit_command.params if getattr(p, "is_flag", False)}
    for flag in ("from_scratch", "grad_checkpointing", "fresh"):
        assert api[flag] is False and not flags[flag]  # a flag turns on what FitConfig leaves off
    assert api["progress"] is True and not flags["no_progress"]


def test_sample_options_read_sampling_and_gate_settings():
    assert_from_api(sample.sample_command, field_defaults(SamplingSettings),
                    set(field_defaults(SamplingSettings)))  # every sampling setting has an option
    gate = field_defaults(GateSettings)
    assert_from_api(sample.sample_command, gate,
                    set(gate) - {"rep_n", "require_corpus", "fluency", "topic", "new_title"})
    assert gate["require_corpus"] is False  # --require-corpus turns it on
    ctx = click.Context(sample.sample_command)
    flags = {p.name: p.get_default(ctx) for p in sample.sample_command.params if getattr(p, "is_flag", False)}
    for rule in ("fluency", "topic", "new_title"):  # on in GateSettings; --no-RULE turns it off
        assert gate[rule] is True and flags[f"no_{rule}"] is False


def test_report_and_eval_options_read_their_functions():
    from trainer.evaluation.report import build_report

    assert_from_api(report_command, keyword_defaults(build_report),
                    {"samples", "batch", "seed", "length", "base_model", "corpus", "precision"})
    assert_from_api(evaluate.eval_command, keyword_defaults(evaluate.evaluate_model),
                    {"val_fraction", "block_size", "batch_size", "device", "precision"})


@pytest.mark.parametrize("temperature", [SamplingSettings.temperature, 0.5])
def test_trainer_sample_and_the_daily_post_sample_alike(temperature, monkeypatch, tmp_path):
    """Changing a default in SamplingSettings (here: temperature) is one line that `trainer sample`
    and the daily post both follow: with no sampling options they build equal settings."""
    changed = dataclasses.make_dataclass("SamplingSettings", [("temperature", float, temperature)],
                                         bases=(SamplingSettings,))
    monkeypatch.setattr(sampler_module, "SamplingSettings", changed)
    (tmp_path / "models" / "blog").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)

    built = {}

    def capture(key):
        def record(*args, **kwargs):
            built[key] = kwargs.get("settings") or args[3]
            return sample.SampleOutcome([], [], None, [])
        return record

    monkeypatch.setattr(sample, "sample_posts", capture("cli"))
    result = CliRunner().invoke(sample.sample_command, [])
    assert result.exit_code == 0, result.output

    from plugin import generate
    from plugin.settings import DailyPostSettings

    class StubSampler:
        best_post = staticmethod(capture("daily post"))

    generate.sample(StubSampler(), 7, DailyPostSettings.from_pelican({"PATH": str(tmp_path)}))
    assert built["cli"] == built["daily post"] == changed()
    assert built["cli"].temperature == temperature
