"""One way to name a run in every command: `-r/--run NAME_OR_PATH` with `--models-dir DIR`; the old
spellings (`sample --model PATH`, `eval --model RUN_FOLDER`, `report RUN`) work with one note.

The commands' work is replaced by stubs: these tests are about which folder each command reads."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from trainer.cli import evaluate, main, report, sample
from trainer.runs import DEFAULT_MODELS_DIR, DEFAULT_RUN


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def notes(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("note:")]


@pytest.fixture
def runs(tmp_path, monkeypatch):
    """models/blog and models/demo, run folders (train.json) under tmp_path, the current folder."""
    for name in ("blog", "demo"):
        (tmp_path / "models" / name).mkdir(parents=True)
        (tmp_path / "models" / name / "train.json").write_text(json.dumps({"steps": 1}))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "models"


@pytest.fixture
def sampled(monkeypatch):
    """The folders `trainer sample` samples from."""
    folders = []
    monkeypatch.setattr(sample, "sample_posts", lambda path, *args: folders.append(path)
                        or sample.SampleOutcome([], [], None, []))
    return folders


@pytest.fixture
def measured(monkeypatch):
    """The refs `trainer eval` measures (each printed as `measured REF`)."""
    monkeypatch.setattr(evaluate, "evaluate_model", lambda ref, corpus, **options: f"measured {ref}")


@pytest.fixture
def reported(monkeypatch):
    """The folders `trainer report` reports on."""
    folders = []
    figures = SimpleNamespace(perplexity=None, warnings=[], memorisation=SimpleNamespace(
        gate_passed=0, samples=0, copied=0, threshold=50))
    monkeypatch.setattr(report, "make_report", lambda run_dir, **options: folders.append(run_dir)
                        or (figures, []))
    return folders


def test_the_defaults_are_the_runs_module_s():
    from trainer.training.fit import FitConfig

    assert (DEFAULT_RUN, DEFAULT_MODELS_DIR) == ("blog", "models")
    assert (FitConfig.run, FitConfig.models_dir) == (DEFAULT_RUN, DEFAULT_MODELS_DIR)


def test_fit_writes_the_run_under_models_dir(tmp_path, monkeypatch):
    import trainer.training.fit as training

    configs = []
    monkeypatch.setattr(training, "fit", lambda config: configs.append(config) or SimpleNamespace(
        stopped=True, step=0, run_dir=config.run_dir))
    result = invoke("fit", "--models-dir", tmp_path / "elsewhere", "-r", "demo", "--steps", 1)
    assert result.exit_code == 0, result.output
    assert configs[0].run_dir == tmp_path / "elsewhere" / "demo" and not notes(result)
    result = invoke("fit", "--run", tmp_path / "there", "--steps", 1)
    assert configs[1].run_dir == tmp_path / "there"


def test_sample_run_default_and_name_and_path(runs, sampled):
    for args, folder in [((), runs / DEFAULT_RUN), (("-r", "demo"), runs / "demo"),
                         (("--run", runs / "demo"), runs / "demo"),
                         (("--run", "demo", "--models-dir", runs), runs / "demo")]:
        result = invoke("sample", *args)
        assert result.exit_code == 0, result.output
        assert sampled.pop().resolve() == folder.resolve() and not notes(result)


def test_sample_model_path_is_the_old_spelling_of_run(runs, sampled):
    result = invoke("sample", "--model", runs / "demo")
    assert result.exit_code == 0, result.output
    assert sampled == [runs / "demo"]
    assert notes(result) == [f"note: `trainer sample --model {runs / 'demo'}` is deprecated; use "
                             f"`trainer sample --run {runs / 'demo'}` (see README.md, 'Naming a run')"]


def test_eval_runs_and_base_models(runs, measured):
    result = invoke("eval")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"measured {runs.name}/{DEFAULT_RUN}\n" and not notes(result)
    result = invoke("eval", "--model", "gpt2", "-r", "demo", "--run", runs / "blog")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["measured gpt2", f"measured {runs.name}/demo",
                                          f"measured {runs / 'blog'}"]
    assert not notes(result)  # a hub id, a .gguf file or a model folder is what --model is for


def test_eval_model_run_folder_is_the_old_spelling_of_run(runs, measured, tiny_model_dir):
    result = invoke("eval", "--model", tiny_model_dir, "--model", runs / "demo")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"measured {tiny_model_dir}", f"measured {runs / 'demo'}"]
    assert notes(result) == [f"note: `trainer eval --model {runs / 'demo'}` is deprecated; use "
                             f"`trainer eval --run {runs / 'demo'}` (see README.md, 'Naming a run')"]


def test_eval_missing_run_is_one_line_naming_both_ways(tmp_path, measured):
    result = invoke("eval", "--run", "nothing", "--models-dir", tmp_path)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("error: no run folder ") and "--model PATH" in result.stderr
    assert result.stderr.count("\n") == 1


def test_report_run_option_and_default(runs, reported):
    for args, folder in [((), runs / DEFAULT_RUN), (("-r", "demo"), runs / "demo"),
                         (("--run", runs / "demo"), runs / "demo")]:
        result = invoke("report", *args)
        assert result.exit_code == 0, result.output
        assert reported.pop().resolve() == folder.resolve() and not notes(result)


def test_report_positional_run_is_the_old_spelling(runs, reported):
    result = invoke("report", "demo", "--models-dir", runs)
    assert result.exit_code == 0, result.output
    assert reported == [runs / "demo"]
    assert notes(result) == ["note: `trainer report demo` is deprecated; use `trainer report --run "
                             "demo` (see README.md, 'Naming a run')"]
    both = invoke("report", "demo", "--run", "blog")
    assert both.exit_code == 1 and both.stderr.startswith("error: give the run as --run")


@pytest.mark.parametrize("command", ["sample", "eval", "report"])
def test_a_missing_run_is_one_error_line_and_no_note(tmp_path, command, sampled, measured, reported):
    old = {"sample": ["--model", tmp_path / "gone"], "eval": ["--run", tmp_path / "gone"],
           "report": [tmp_path / "gone"]}[command]
    result = invoke(command, *old)
    assert result.exit_code == 1 and not notes(result)
    assert result.stderr.startswith("error: no run folder ") and result.stderr.count("\n") == 1


@pytest.mark.parametrize("command", ["fit", "sample", "eval", "report"])
def test_every_help_names_the_run_the_same_way(command):
    result = invoke(command, "--help")
    text = " ".join(result.output.split())
    assert result.exit_code == 0
    assert "-r, --run NAME_OR_PATH" in text and "--models-dir DIR" in text
    assert "See README.md, 'Naming a run'." in text
