"""The report a site publishes is regenerated from report.json (trainer.evaluation.published_report):
the same page `trainer report` wrote, from data whose every type is checked, through the autoescaped
template; a report.json that is not a report's figures is one line naming it and what to do."""
from __future__ import annotations

import dataclasses
import json
import re

import pytest
from bs4 import BeautifulSoup
from report_factory import make_report

from common.errors import RunFolderError
from trainer.evaluation.published_report import published_page, report_from_figures
from trainer.evaluation.report_page import render_html, render_markdown, write_report

PAYLOADS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "</textarea><svg onload=alert(1)>",
            "<style>@import url(https://evil.example/x.css)</style>", "' onmouseover='alert(1)"]
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00:~\x9bU"
       b"\x00\x00\x00\nIDATx\x9cc`\x00\x00\x00\x02\x00\x01H\xaf\xa4q\x00\x00\x00\x00IEND\xaeB`\x82")


def figures(report, tmp_path) -> bytes:
    """report.json as `trainer report` writes it."""
    write_report(report, tmp_path / "report.html")
    return (tmp_path / "report.json").read_bytes()


def test_the_published_page_is_the_page_trainer_report_wrote(tmp_path):
    report = make_report(loss_png=PNG)
    page = published_page(figures(report, tmp_path), PNG, tmp_path / "report.json")
    assert page == render_html(report) == (tmp_path / "report.html").read_text(encoding="utf-8")


def test_report_from_figures_rebuilds_every_dataclass(tmp_path):
    report = make_report()
    rebuilt = report_from_figures(json.loads(figures(report, tmp_path)))
    assert type(rebuilt.perplexity).__name__ == "PerplexityComparison"
    assert type(rebuilt.memorisation.longest).__name__ == "Span" and type(rebuilt.gallery[0]).__name__ == "Sample"
    assert rebuilt.diversity_posts.distinct1 != rebuilt.diversity_posts.distinct1  # NaN, written as null, is NaN again
    assert dataclasses.replace(rebuilt, diversity_posts=report.diversity_posts) == report


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_text_of_report_json_is_shown_as_text(tmp_path, payload):
    page = published_page(figures(make_report(payload), tmp_path), PNG, tmp_path / "report.json")
    soup = BeautifulSoup(page, "html.parser")
    assert [tag.name for tag in soup.find_all(["script", "svg", "iframe", "link", "textarea"])] == []
    assert not [tag for tag in soup.find_all(True) if any(name.startswith("on") for name in tag.attrs)]
    assert [img["src"][:22] for img in soup.find_all("img")] == ["data:image/png;base64,"]
    [style] = soup.find_all("style")
    assert "url(" not in style.get_text() and "@import" not in style.get_text()
    assert soup.get_text().count(payload) >= 30  # every field, as the characters it holds


def test_texts_lose_what_no_published_text_may_hold(tmp_path):
    page = published_page(figures(make_report("Spoof\u202eexe.txt\ufffe\x01 end"), tmp_path), None, "r.json")
    assert not re.search("[\u202e\ufffe\x01]", page) and "Spoofexe.txt end" in page


@pytest.mark.parametrize("change, why", [
    (lambda d: d.pop("memorisation"), "report.memorisation is missing"),
    (lambda d: d.update(gallery={"0": {}}), "report.gallery is not a list"),
    (lambda d: d["gallery"][0].update(passed="yes"), "report.gallery[0].passed is not bool"),
    (lambda d: d["memorisation"]["longest"].update(sample="<script>"), "report.memorisation.longest.sample is not int"),
    (lambda d: d["perplexity"].update(fine_tuned="20.5"), "report.perplexity.fine_tuned is not float"),
    (lambda d: d["perplexity"].update(fine_tuned=10 ** 400), "report.perplexity.fine_tuned is too large a number"),
    (lambda d: d.update(warnings=[["nested"]]), "report.warnings[0] is not str"),
    (lambda d: d.update(training="<script>"), "report.training is not an object"),
    (lambda d: d["memorisation"].update(rejections={"gate": "3"}), "report.memorisation.rejections.gate is not int"),
], ids=["missing", "list", "bool", "int", "float", "huge", "str", "dict", "dict-of-int"])
def test_a_value_of_the_wrong_type_is_no_report(tmp_path, change, why):
    data = json.loads(figures(make_report(), tmp_path))
    change(data)
    with pytest.raises(RunFolderError) as caught:
        published_page(json.dumps(data).encode(), None, tmp_path / "report.json")
    message = str(caught.value)
    assert message == (f"{tmp_path / 'report.json'} is not a `trainer report`'s figures ({why}): "
                       "run `trainer report` again to rewrite it")


@pytest.mark.parametrize("data, why", [
    (b"{", "is not JSON"),
    (b"\xff\xfe", "is not JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "is not JSON"),
    (b'{"a":' * 900 + b"1" + b"}" * 900, "is not a `trainer report`'s figures"),
    (b"[]", "is not a `trainer report`'s figures (report is not an object)"),
])
def test_what_is_not_a_report_json_is_one_line(data, why):
    with pytest.raises(RunFolderError) as caught:
        published_page(data, None, "models/blog/report.json")
    message = str(caught.value)
    assert message.startswith(f"models/blog/report.json {why}") and "\n" not in message
    assert message.endswith("run `trainer report` again to rewrite it")


def test_free_form_figures_of_the_wrong_kind_cannot_blow_up_the_page(tmp_path):
    """``training``, ``options`` and ``calibration`` are free-form: the template does no arithmetic
    on them (the share goes through a filter: ``100 * "x" * 10**6`` would be 100 MB)."""
    data = json.loads(figures(make_report(), tmp_path))
    data["calibration"]["html_share"] = "x" * 1_000_000
    with pytest.raises(RunFolderError, match="has figures the report cannot show .a share must be a number"):
        published_page(json.dumps(data).encode(), None, "report.json")
    data["calibration"]["html_share"] = 0.25
    data["training"]["grad_accum"] = "<script>"
    with pytest.raises(RunFolderError, match="has figures the report cannot show"):
        published_page(json.dumps(data).encode(), None, "report.json")


def test_the_share_filter_prints_what_the_old_expression_printed():
    report = make_report()
    for share, shown in ((0.25, "25"), (0.0, "0"), (0.996, "100"), (None, "–")):
        report.calibration["html_share"] = share
        assert f"posts showing HTML: {shown} %." in " ".join(render_html(report).split())
        assert f"posts showing HTML: {shown} %." in render_markdown(report)
