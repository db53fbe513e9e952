"""A run folder is untrusted input (issue 14 item 2): the "About the machine" page and the files the
plugin publishes with it (loss plot, training report) carry nothing from the run folder but what it
shows on purpose, escaped. Each test builds a real site (Pelican's notmyidea theme, or the project's)
around a run folder made hostile in one way, and reads what was written to output/."""
from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import struct
import zlib

import pytest
from bs4 import BeautifulSoup
from plugin_site import REPO, build, site_settings

SCRIPT = "<script>alert(1)</script>"
ONERROR = '"><img src=x onerror=alert(1)>'
MACHINE_PAGE = "Title: About the machine\nTemplate: machine\nSlug: machine\n\nWho writes here.\n"
SECRET = "TOP-SECRET-TOKEN-4711"
# Every train.json field the machine page prints.
PRINTED_FIELDS = ("base_model", "steps", "tokens_seen", "documents", "train_loss", "val_loss",
                  "val_perplexity", "device", "time_s", "trained_at")
GOOD_SUMMARY = {"base_model": "gpt2", "steps": 1000, "tokens_seen": 4096000, "documents": 16,
                "train_loss": 2.71828, "val_loss": 3.14159, "val_perplexity": 23.1407, "device": "cpu",
                "time_s": 754.2, "trained_at": "2026-11-20T21:04:00+00:00"}


def png(width=4, height=3, extra_chunks=(), corrupt_crc=False, idat=None) -> bytes:
    """A valid grey RGB PNG (``extra_chunks``: (type, data) pairs before IDAT; ``idat``: other
    image data, with a right CRC)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) ^ (1 if corrupt_crc and kind == b"IDAT" else 0)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + b"".join(chunk(kind, data) for kind, data in extra_chunks)
            + chunk(b"IDAT", zlib.compress(rows) if idat is None else idat) + chunk(b"IEND", b""))


@pytest.fixture
def run(site):
    """The site's machine page and a run folder models/blog with a good train.json and loss.png."""
    (site / "content" / "pages" / "machine.md").write_text(MACHINE_PAGE, encoding="utf-8")
    folder = site / "models" / "blog"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "train.json").write_text(json.dumps(GOOD_SUMMARY))
    (folder / "loss.png").write_bytes(png())
    return folder


def build_site(site, folder, theme="notmyidea"):
    settings = site_settings(site, THEME=theme, DAILY_POST_ENABLED=False, DAILY_POST_MODEL=str(folder))
    build(settings)
    out = site / "output"
    return out, BeautifulSoup((out / "pages" / "machine.html").read_text(encoding="utf-8"), "html.parser")


def rows(page) -> dict[str, str]:
    return {" ".join(tr.th.get_text().split()): " ".join(tr.td.get_text().split())
            for tr in page.select("table.tpdne-machine-table tr")}


def warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def assert_no_payload(page, where) -> None:
    """A whole page (its theme links its own stylesheets): no script of a payload, no event handler."""
    for tag in page.find_all(True):
        assert tag.name != "script" or "alert" not in tag.decode(), (where, tag)
        assert not [name for name in tag.attrs if name.lower().startswith("on")], (where, tag)
        assert not (tag.name == "img" and tag.get("src") == "x"), (where, tag)


def machine_section(page):
    [section] = page.select("section.tpdne-machine")
    assert_no_payload(page, "machine page")
    return section


def assert_inert(page, where) -> None:
    """No script, no event handler, no element that loads anything but an inline PNG."""
    for tag in page.find_all(True):
        assert tag.name not in ("script", "iframe", "object", "embed", "link", "base", "frame"), (where, tag)
        for name, value in tag.attrs.items():
            assert not name.lower().startswith("on"), (where, tag)
            if name.lower() in ("src", "href", "srcset", "action", "formaction", "poster", "data", "background"):
                text = " ".join(value) if isinstance(value, list) else value
                assert (tag.name == "a" and name == "href") or text.startswith("data:image/png;base64,") \
                    or not text.strip().lower().startswith(("http", "//", "javascript", "data")), (where, tag)
                assert not text.strip().lower().startswith(("javascript:", "vbscript:")), (where, tag)
        if tag.name == "style":
            assert "url(" not in tag.get_text() and "@import" not in tag.get_text(), where
        assert "url(" not in (tag.get("style") or ""), (where, tag)


# ---------- the machine page: every train.json value escaped ----------

@pytest.mark.parametrize("payload", [SCRIPT, ONERROR])
def test_every_printed_train_json_field_shows_as_text(site, run, payload):
    (run / "train.json").write_text(json.dumps({field: payload for field in PRINTED_FIELDS}))
    _, page = build_site(site, run)
    assert_inert(machine_section(page), "machine section")
    shown = rows(page)
    for label in ("Fine-tuned from", "Training steps", "Tokens seen", "Posts in the corpus", "Training loss",
                  "Validation loss", "Validation perplexity", "Trained on", "Training time", "Trained at"):
        assert shown[label] == payload, label  # the very characters, as text


def test_a_hostile_run_folder_name_shows_as_text(site, run):
    hostile = run.parent / ONERROR  # no "/" in it: a valid folder name
    run.rename(hostile)
    _, page = build_site(site, hostile)
    assert_inert(machine_section(page), "machine section")
    assert rows(page)["Model"] == ONERROR
    assert page.select_one(".tpdne-machine img")["alt"].endswith(f"{ONERROR}, by step")


def test_the_project_theme_prints_run_values_as_text_too(site, run):
    (run / "train.json").write_text(json.dumps({field: SCRIPT for field in PRINTED_FIELDS}))
    shutil.copytree(REPO / "theme", site / "theme")
    _, page = build_site(site, run, theme=str(site / "theme"))
    assert_inert(machine_section(page), "machine section (project theme)")
    assert rows(page)["Trained on"] == SCRIPT


def test_a_symlinked_train_json_is_not_read(site, run, caplog):
    secret = site / "secret.json"
    secret.write_text(json.dumps({"base_model": SECRET, "device": SECRET}))
    (run / "train.json").unlink()
    (run / "train.json").symlink_to(secret)
    _, page = build_site(site, run)
    assert SECRET not in page.decode()
    assert rows(page)["Fine-tuned from"] == "—"
    assert any("train.json" in w and "symbolic link" in w for w in warnings(caplog)), warnings(caplog)


# ---------- the loss plot: a regular PNG file of the run folder, or nothing ----------

def test_a_real_png_is_published_without_its_text_chunks(site, run):
    (run / "loss.png").write_bytes(png(extra_chunks=[(b"tEXt", b"Comment\x00" + SECRET.encode())]))
    out, page = build_site(site, run)
    published = (out / "machine" / "loss.png").read_bytes()
    assert published.startswith(b"\x89PNG\r\n\x1a\n") and SECRET.encode() not in published
    assert page.select_one(".tpdne-machine img")["src"] == "../machine/loss.png"
    pil = pytest.importorskip("PIL.Image")
    with pil.open(out / "machine" / "loss.png") as image:
        image.load()
        assert image.size == (4, 3)


@pytest.mark.parametrize("target", ["png", "text"])
def test_a_symlinked_loss_png_publishes_nothing(site, run, caplog, target):
    """The issue's case: loss.png -> a secret file outside the run folder (a PNG or not)."""
    secret = site / "secret.bin"
    secret.write_bytes(png(extra_chunks=[(b"tEXt", b"k\x00" + SECRET.encode())]) if target == "png"
                       else f"password={SECRET}\n".encode())
    (run / "loss.png").unlink()
    (run / "loss.png").symlink_to(secret)
    out, page = build_site(site, run)
    assert not (out / "machine" / "loss.png").exists()
    assert not page.select(".tpdne-machine img")
    assert not [p for p in out.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert any("loss.png" in w and "symbolic link" in w for w in warnings(caplog)), warnings(caplog)


def test_a_symlink_to_a_file_inside_the_run_folder_is_refused_too(site, run):
    (run / "plot.png").write_bytes(png())
    (run / "loss.png").unlink()
    (run / "loss.png").symlink_to("plot.png")
    out, page = build_site(site, run)
    assert not (out / "machine" / "loss.png").exists() and not page.select(".tpdne-machine img")


@pytest.mark.parametrize("content", [
    b"<html><script>alert(1)</script></html>",
    b"\x89PNG\r\n\x1a\n not really a png",
    png(corrupt_crc=True),
    png()[:-20],  # cut short
    png(idat=b"not zlib data"),
    png(idat=zlib.compress(b"\x00" * 13)),  # fewer bytes than 3 rows of 4 RGB pixels
    png(idat=zlib.compress(b"\x07" + b"\x80" * 12 + (b"\x00" + b"\x80" * 12) * 2)),  # filter type 7
    png(extra_chunks=[(b"EVIL", b"")]),  # a critical chunk no PNG reader knows
    png() + b"<script>alert(1)</script>",  # something after IEND
], ids=["html", "signature-only", "bad-crc", "truncated", "not-zlib", "short-data", "bad-filter", "unknown-critical",
        "trailing-bytes"])
def test_a_loss_png_that_is_no_png_is_not_published(site, run, caplog, content):
    (run / "loss.png").write_bytes(content)
    out, page = build_site(site, run)
    assert not (out / "machine" / "loss.png").exists()
    assert not page.select(".tpdne-machine img")
    assert any("loss.png" in w and "PNG" in w for w in warnings(caplog)), warnings(caplog)


def test_a_loss_png_that_is_a_fifo_or_a_folder_neither_hangs_nor_publishes(site, run):
    (run / "loss.png").unlink()
    os.mkfifo(run / "loss.png")
    (run / "report.json").mkdir()
    out, page = build_site(site, run)
    assert not (out / "machine" / "loss.png").exists() and not page.select(".tpdne-machine img")
    assert not (out / "machine" / "report.html").exists() and not page.select(".tpdne-report a")


def test_an_oversized_loss_png_is_not_read(site, run, caplog):
    from plugin.machine import MAX_PLOT_BYTES

    with open(run / "loss.png", "r+b") as handle:  # sparse: the size costs no disk
        handle.truncate(MAX_PLOT_BYTES + 1)
    out, page = build_site(site, run)
    assert not (out / "machine" / "loss.png").exists() and not page.select(".tpdne-machine img")
    assert any("loss.png" in w and "larger than" in w for w in warnings(caplog)), warnings(caplog)


def test_a_symlinked_run_folder_is_still_the_run_folder(site, run):
    """DAILY_POST_MODEL may point at a link to the run (models/blog -> runs/2026-11-20): the files in
    the folder it resolves to are the run's."""
    link = site / "models" / "current"
    link.symlink_to(run, target_is_directory=True)
    out, page = build_site(site, link)
    assert (out / "machine" / "loss.png").read_bytes().startswith(b"\x89PNG")
    assert rows(page)["Fine-tuned from"] == "gpt2"


# ---------- the report: regenerated from report.json, never copied ----------

def report(payload: str = "a note"):
    """A ``trainer report`` Report whose every text is ``payload`` (figures are plain numbers)."""
    from trainer.evaluation.comparison import PerplexityComparison
    from trainer.evaluation.diversity import Diversity
    from trainer.evaluation.memorisation_figures import Memorisation, Span
    from trainer.evaluation.readiness import Readiness
    from trainer.evaluation.report import Report
    from trainer.evaluation.samples import Sample

    training = {**GOOD_SUMMARY, "base_model": payload, "device": payload, "precision": payload, "size": payload,
                "from_scratch": False, "batch_size": 4, "block_size": 32, "grad_accum": 2, "best_val_loss": 3.0,
                "best_step": 900, "train_documents": 14, "val_documents": 2, "tokens_per_s": 5000.0,
                "step_tokens_per_s": 6000.0, "corpus_path": payload}
    sample = Sample(index=0, seed=1, title=payload, body=payload, text=payload, tokens=12, stop=payload,
                    passed=False, rejected_by=[payload], verdicts=[payload], figures={payload: payload})
    return Report(
        run_name=payload, run_dir=payload, generated_at=payload, training=training, loss_png=None,
        perplexity=PerplexityComparison(documents=2, tokens=300, fine_tuned=20.5, base=40.1, base_model=payload,
                                        base_note=payload, change_pct=48.9, verdict=payload),
        held_out_note=payload, gallery=[sample],
        memorisation=Memorisation(samples=8, threshold=50, copied=1, share=0.125,
                                  longest=Span(tokens=60, text=payload, sample=0, source=3, source_title=payload),
                                  window=8, gate_passed=5, rejections={payload: 3}),
        diversity_samples=Diversity(texts=8, words=120.0, distinct1=0.5, distinct2=0.8, rep=0.01, rep_n=4),
        diversity_posts=Diversity(texts=16, words=130.0, distinct1=float("nan"), distinct2=0.85, rep=0.0, rep_n=4),
        corpus_path=payload, corpus_posts=16, corpus_tokens=20000, warnings=[payload],
        options={"samples": 1, "batch": 8, "seed": 0, "precision": payload, "length": 400, "base_model": payload,
                 "words_compared": 100, "gate": {"rule": payload}},
        model_identity={"weights_sha256": payload, "name": payload},
        readiness=Readiness(ready=False, headline=payload, reasons=[payload]),
        calibration={"reference": payload, "reference_source": payload, "posts": 16, "held_out_posts": 2,
                     "median_perplexity": 30.0, "p95_perplexity": 60.0, "max_perplexity": 90.0,
                     "median_similarity": 0.3, "p5_similarity": 0.1, "min_similarity": 0.05, "p5_words": 40,
                     "html_share": 0.25, "created_at": payload})


def write_report(folder, payload="a note"):
    from trainer.evaluation.report_page import write_report as write

    r = report(payload)
    r.run_dir = str(folder)
    write(r)  # report.html, report.md, report.json in the run folder, as `trainer report` writes them


def published_report(out):
    return BeautifulSoup((out / "machine" / "report.html").read_text(encoding="utf-8"), "html.parser")


def test_a_report_html_is_never_published_as_it_is(site, run):
    """The issue's case: a report.html with a live <script> and remote resources went out verbatim."""
    write_report(run)
    (run / "report.html").write_text(
        '<!doctype html><html><head><link rel="stylesheet" href="https://evil.example/x.css">'
        f'<script src="https://evil.example/x.js"></script></head><body>{SCRIPT}'
        '<img src="https://evil.example/pixel.gif"><iframe src="https://evil.example/"></iframe></body></html>')
    out, page = build_site(site, run)
    published = (out / "machine" / "report.html").read_text(encoding="utf-8")
    assert "evil.example" not in published and "<script" not in published.lower()
    assert_inert(published_report(out), "report")
    assert "Training report: a note" in published  # the project's own page, from report.json
    assert page.select_one(".tpdne-report a")["href"] == "../machine/report.html"


@pytest.mark.parametrize("payload", [SCRIPT, ONERROR])
def test_every_text_of_the_report_shows_as_text(site, run, payload):
    write_report(run, payload)
    out, _ = build_site(site, run)
    published = published_report(out)
    assert_inert(published, "report")
    text = published.get_text()
    assert text.count(payload) >= 20 and published.title.get_text() == f"Training report: {payload}"


def test_the_report_carries_the_validated_loss_plot_inline(site, run):
    write_report(run)
    out, _ = build_site(site, run)
    [img] = published_report(out).select("img")
    assert img["src"] == "data:image/png;base64," + base64.b64encode(png()).decode()


def test_without_report_json_no_report_is_published(site, run, caplog):
    (run / "report.html").write_text(f"<!doctype html><title>report</title>{SCRIPT}")
    out, page = build_site(site, run)
    assert not (out / "machine" / "report.html").exists() and not page.select(".tpdne-report")
    assert any("report.json" in w and "trainer report" in w for w in warnings(caplog)), warnings(caplog)


@pytest.mark.parametrize("broken", ["link", "not-a-report", "wrong-type", "string-share", "not-json"])
def test_a_report_json_that_is_no_report_publishes_nothing(site, run, caplog, broken):
    write_report(run)
    data = json.loads((run / "report.json").read_text(encoding="utf-8"))
    if broken == "link":
        (site / "elsewhere.json").write_text(json.dumps(data))
        (run / "report.json").unlink()
        (run / "report.json").symlink_to(site / "elsewhere.json")
    elif broken == "not-a-report":
        (run / "report.json").write_text(json.dumps({"html": SCRIPT}))
    elif broken == "wrong-type":
        data["memorisation"]["longest"]["sample"] = SCRIPT
        (run / "report.json").write_text(json.dumps(data))
    elif broken == "string-share":
        data["calibration"]["html_share"] = "x" * 100_000  # 100 * it would be 10 MB of "x"
        (run / "report.json").write_text(json.dumps(data))
    else:
        (run / "report.json").write_text("{" + SCRIPT)
    out, page = build_site(site, run)
    assert not (out / "machine" / "report.html").exists() and not page.select(".tpdne-report")
    assert any("report.json" in w for w in warnings(caplog)), warnings(caplog)
