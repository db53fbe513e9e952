"""`trainer sample`: printing posts, writing them with --out, and --gate verdicts."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from trainer.cli.sample import sample_command

REPO = Path(__file__).resolve().parents[3]


def run(*args):
    return CliRunner().invoke(sample_command, [str(a) for a in args])


def test_prints_posts_for_a_run_name(tiny_model_dir):
    result = run("--models-dir", tiny_model_dir.parent, "--run", tiny_model_dir.name, "-n", 2,
                 "--seed", 7, "--length", 12, "--precision", "fp32", "--threads", 1)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("=== round 1 candidate") == 2
    assert result.stdout.count("\n# ") + result.stdout.startswith("# ") >= 2
    again = run("--run", tiny_model_dir, "-n", 2, "--seed", 7, "--length", 12,
                "--precision", "fp32", "--threads", 1)
    assert again.exit_code == 0, again.output
    assert again.stdout == result.stdout  # the same posts (log lines go to stderr)


def test_out_writes_markdown_files_with_metadata(tiny_model_dir, tmp_path):
    out = tmp_path / "samples"
    result = run("--run", tiny_model_dir, "-n", 2, "--seed", 3, "--length", 12, "--out", out,
                 "--threads", 1)
    assert result.exit_code == 0, result.output
    files = sorted(out.glob("*.md"))
    assert len(files) == 2 and all(f.name.startswith("seed3-") for f in files)
    text = files[0].read_text()
    assert text.startswith("Title: ") and "\nGenerated: true\n" in text and "\nSeed: 3\n" in text
    assert "<" not in text


def test_gate_shows_each_verdict_and_the_outcome(overfit_run):
    result = run("--run", overfit_run, "-n", 2, "--length", 120, "--gate", "--min-words", 5,
                 "--threads", 1, "--precision", "fp32")
    assert "  - memorised: REJECT (longest shared run" in result.output
    assert "  - length: pass" in result.output
    if "no post" in result.output:
        assert result.exit_code == 1
    else:
        assert "WINNER" in result.output and result.exit_code == 0


def test_missing_model_is_one_line_without_traceback(tmp_path):
    result = run("--run", tmp_path / "nothing-here")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no run folder ")  # as every trainer command (trainer.runs)
    assert "Traceback" not in result.output and result.output.count("\n") == 1


def test_run_and_model_together_are_refused(tiny_model_dir):
    result = run("--run", "blog", "--model", tiny_model_dir)
    assert result.exit_code == 1 and "either --run NAME or --model PATH" in result.output


def test_out_with_html_escape_writes_the_text_escaped_once(tiny_model_dir, tmp_path, monkeypatch):
    """`trainer sample --gate --html escape --out`: published with Pelican (this project's Markdown
    settings and a theme printing the title raw, and through striptags in <title>), the sample's
    <b>x</b> and [x](http://e) read as written, and none of it is live HTML or a link."""
    from bs4 import BeautifulSoup
    from markupsafe import Markup
    from pelican.readers import MarkdownReader
    from pelican.settings import read_settings

    from trainer.generation.sampler import Candidate, Sampler

    sample = ("A <b>bold</b> [x](http://e) morning\n\n"
              "The wind turned at noon and <b>x</b> stood next to [x](http://e) on the roof.\n\n"
              "By evening the gauge read two millimetres and the gulls had gone quiet again.")
    monkeypatch.setattr(Sampler, "generate", lambda self, seed, settings=None, n=1, round_index=0: [
        Candidate(text=sample, token_ids=[0] * 40, seed=seed, index=i, mean_logprob=-1.0, stop="eos")
        for i in range(n)])
    out = tmp_path / "drafts"
    result = run("--run", tiny_model_dir, "--gate", "--html", "escape", "--min-words", 10,
                 "--out", out, "--threads", 1, "--precision", "fp32")
    assert result.exit_code == 0, result.output
    [written] = out.glob("*.md")
    content, meta = MarkdownReader(read_settings(str(REPO / "pelicanconf.py"))).read(str(written))
    body = BeautifulSoup(content, "html.parser")
    assert "The wind turned at noon and <b>x</b> stood next to [x](http://e) on the roof." in body.get_text()
    assert body.find("b") is None and body.find("a") is None
    title = BeautifulSoup(meta["title"], "html.parser")  # <h1>{{ article.title }}</h1>
    assert title.find(True) is None
    assert title.get_text() == "A \u2039b\u203abold\u2039/b\u203a [x](http://e) morning"
    assert "<" not in Markup(meta["title"]).striptags()  # <title>{{ article.title|striptags }}</title>
