"""The report page: self-contained HTML with every figure, escaped text, the Markdown twin, the CLI."""
from __future__ import annotations

import base64
import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path

from click.testing import CliRunner

from trainer.evaluation.memorisation_figures import Span
from trainer.evaluation.report_page import (fmt_int, fmt_num, fmt_rate, render_html, render_markdown,
                                 write_report)

ROOT = Path(__file__).resolve().parents[3]


def test_html_page_is_self_contained_and_shows_every_figure(built_report):
    page = render_html(built_report)
    # no external resources: no scripts, stylesheets or remote images
    assert not re.search(r"<script|<link|<iframe|src=\"(?!data:)", page, re.IGNORECASE)
    match = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert match and base64.b64decode(match.group(1)) == built_report.loss_png
    t, p, m = built_report.training, built_report.perplexity, built_report.memorisation
    for figure in (fmt_int(t["steps"]), fmt_int(t["tokens_seen"]), fmt_rate(t["tokens_per_s"]),
                   fmt_rate(t["step_tokens_per_s"]), t["device"], fmt_num(p.fine_tuned),
                   fmt_num(p.base), f"{p.change_pct:.1f} %",
                   f"{m.gate_passed} of {m.samples} samples pass the quality gate",
                   fmt_num(built_report.diversity_samples.distinct2, 3),
                   fmt_num(built_report.diversity_posts.rep, 3)):
        assert figure in page, figure
    for warning in built_report.warnings:
        assert warning.replace("'", "&#39;").replace('"', "&#34;") in page
    assert page.count('class="sample"') == len(built_report.gallery)


def test_sample_and_corpus_text_is_escaped(built_report):
    hostile = "<script>alert('x')</script> <img src=x onerror=alert(1)>"
    gallery = [dataclasses.replace(built_report.gallery[0], title=hostile, body=hostile,
                                   verdicts=[hostile])]
    span = Span(tokens=60, text=hostile, sample=0, source=1, source_title=hostile)
    memo = dataclasses.replace(built_report.memorisation, longest=span)
    report = dataclasses.replace(built_report, gallery=gallery, memorisation=memo,
                                 warnings=[hostile], corpus_path=hostile)
    page = render_html(report)
    assert "<script" not in page and "<img src=x" not in page
    escaped = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt;"
    assert page.count(escaped) == 7  # title, body, verdict, warning, span, its post, corpus path
    markdown = render_markdown(report)
    # in the Markdown twin samples sit in code fences, so they never render as HTML
    assert f"```text\n{hostile}\n\n{hostile}\n```" in markdown


def test_markdown_twin_holds_the_same_figures(built_report):
    markdown = render_markdown(built_report)
    p, m = built_report.perplexity, built_report.memorisation
    assert markdown.startswith(f"# Training report: {built_report.run_name}")
    assert f"fine-tuned {fmt_num(p.fine_tuned)}, base {fmt_num(p.base)}" in markdown
    assert f"{m.copied} ({m.share * 100:.1f} %) share a verbatim run of {m.threshold}" in markdown
    assert markdown.count("\n### ") == len(built_report.gallery)
    for warning in built_report.warnings:
        assert f"- {warning}" in markdown


def test_write_report_defaults_to_the_run_folder(built_report, tmp_path):
    report = dataclasses.replace(built_report, run_dir=str(tmp_path))
    html_path, md_path, _json_path = write_report(report)
    assert html_path == tmp_path / "report.html" and md_path == tmp_path / "report.md"
    assert html_path.read_text(encoding="utf-8") == render_html(report)
    assert (tmp_path / "report.json").is_file()
    html_path, md_path, _json_path = write_report(report, tmp_path / "elsewhere" / "r.html")
    assert md_path == tmp_path / "elsewhere" / "r.md" and md_path.is_file()


def test_cli_writes_the_report(fit_run, tmp_path):
    from trainer.cli import main

    out = tmp_path / "out" / "report.html"
    result = CliRunner().invoke(main, ["report", str(fit_run), "--samples", "1", "--batch", "2",
                                       "--length", "16", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "better than the base model by" in result.output
    assert f"wrote {out}" in result.output
    for twin in (out.with_suffix(".md"), out.with_suffix(".json")):  # each file written is named
        assert f"wrote {twin}\n" in result.output and twin.is_file()
    assert out.is_file()
    assert not (fit_run / "report.html").exists() or out != fit_run / "report.html"


def test_cli_run_names_resolve_under_models_dir(fit_run, tmp_path):
    from trainer.cli import main

    result = CliRunner().invoke(main, ["report", "nosuchrun", "--models-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "no run folder" in result.stderr  # as trainer fit
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(main, ["report", "empty", "--models-dir", str(tmp_path)])
    assert result.exit_code == 1 and "has no train.json" in result.output


def test_from_scratch_run_says_there_is_no_base(fit_run, tmp_path):
    from trainer.evaluation.report import build_report

    run = tmp_path / "scratch"
    shutil.copytree(fit_run, run, ignore=shutil.ignore_patterns("checkpoints", "best"))
    summary = json.loads((run / "train.json").read_text(encoding="utf-8"))
    summary.update(from_scratch=True, size="test", base_model="scratch:test")
    (run / "train.json").write_text(json.dumps(summary), encoding="utf-8")
    report = build_report(run, samples=1, batch=1, length=8)
    assert report.perplexity.base is None and report.perplexity.change_pct is None
    assert "trained from scratch: there is no base model" in report.perplexity.verdict
    page = render_html(report)
    assert "trained from scratch (test)" in page


def test_make_report_runs_trainer_report_for_the_configured_model():
    result = subprocess.run(["make", "-n", "report"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "trainer.cli report" in result.stdout
    assert "plugin.settings model-path" in result.stdout


def test_report_json_holds_the_figures(built_report, tmp_path):
    report = dataclasses.replace(built_report, run_dir=str(tmp_path))
    write_report(report)
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert data["perplexity"]["fine_tuned"] == built_report.perplexity.fine_tuned
    assert data["memorisation"]["share"] == built_report.memorisation.share
    assert [s["text"] for s in data["gallery"]] == [s.text for s in built_report.gallery]
    assert "loss_png" not in data
