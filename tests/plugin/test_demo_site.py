"""The project's own site (pelicanconf.py, theme/, content/) copied to a temporary folder and built
with the plugin: today's post, the machine page fed by DAILY_POST_MACHINE, and the XSS case
through the project's theme (which prints summaries with striptags inside an attribute)."""
from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from demo_blog import demo_settings
from plugin_site import build
from site_scripts import is_plugin_script
from test_site_build import XSS_BODY, XSS_TITLE


def test_demo_site_publishes_todays_post_and_describes_the_machine(demo_site, stub_sampler, fixed_day):
    build(demo_settings(demo_site))
    out = demo_site / "output"
    [post] = (demo_site / "content" / "generated").glob("*.md")
    assert post.name == "2026-03-14-wind-over-the-harbour.md"
    article = out / "2026" / "03" / "wind-over-the-harbour.html"
    page = BeautifulSoup(article.read_text(encoding="utf-8"), "html.parser")
    assert page.find("meta", attrs={"name": "robots", "content": "noindex"}) is not None
    assert "This post does not exist: a machine wrote it on" in page.get_text()
    assert "Wind over the harbour" in (out / "index.html").read_text(encoding="utf-8")
    machine_page = (out / "pages" / "machine.html").read_text(encoding="utf-8")
    assert "Training summary" in machine_page and "3.210" in machine_page
    assert "machine/loss.png" in machine_page
    assert (out / "machine" / "loss.png").read_bytes().startswith(b"\x89PNG")


def test_demo_site_theme_shows_hostile_output_as_text(demo_site, stub_sampler, fixed_day):
    stub_sampler.title, stub_sampler.body = XSS_TITLE, XSS_BODY
    build(demo_settings(demo_site))
    for path in (demo_site / "output").rglob("*.html"):
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for tag in soup.find_all(True):
            assert tag.name != "script" or is_plugin_script(tag, path, demo_site / "output"), (path, tag)
            assert tag.name not in ("iframe", "svg") or "alert" not in tag.decode(), (path, tag)
            for name, value in tag.attrs.items():
                assert not name.lower().startswith("on"), (path, tag)
                joined = " ".join(value) if isinstance(value, list) else str(value)
                assert not joined.strip().lower().startswith(("javascript:", "data:")), (path, tag)


# A sample with HTML and a Markdown link in its title and body (the gate's html rule finds them).
MARKUP_SAMPLE = ("A <b>bold</b> [x](http://e) morning\n\n"
                 "The wind turned at noon and <b>x</b> stood next to [x](http://e) on the roof.\n\n"
                 "By evening the gauge read two millimetres and the gulls had gone quiet again.")


@pytest.fixture
def fixed_text_sampler(monkeypatch, tiny_model_and_tokenizer, tmp_path):
    """trainer.generation.sampler.Sampler, the real gate included, whose every candidate is MARKUP_SAMPLE."""
    import plugin.generate as generate
    from trainer.generation.sampler import Candidate, Sampler

    class FixedText(Sampler):
        def generate(self, seed, settings=None, n=1, round_index=0):
            return [Candidate(text=MARKUP_SAMPLE, token_ids=[0] * 40, seed=seed, index=i,
                              mean_logprob=-1.0, stop="eos") for i in range(n)]

    model, tokenizer = tiny_model_and_tokenizer
    sampler = FixedText(model, tokenizer, {"path": "/fixed", "name": "fixed", "weights_sha256": "0" * 64},
                        "fp32", "cpu", 1, tmp_path / "no-run-folder")
    monkeypatch.setattr(generate, "load_sampler", lambda *args, **kwargs: sampler)
    return sampler


def test_html_escape_gate_publishes_the_text_escaped_once(demo_site, fixed_text_sampler, fixed_day):
    """DAILY_POST_GATE = {"html": "escape"}: the reader sees the model's <b> and [x](...) as text,
    exactly as written (not &lt;b&gt; or \\[x\\]), and none of it is live HTML or a link."""
    build(demo_settings(demo_site, DAILY_POST_GATE={"html": "escape", "min_words": 10}))
    [post] = (demo_site / "content" / "generated").glob("*.md")
    source = post.read_text(encoding="utf-8")
    assert "and &lt;b&gt;x&lt;/b&gt; stood next to \\[x\\](http://e) on" in source  # escaped once
    article = demo_site / "output" / "2026" / "03" / (post.name[len("2026-03-14-"):-len(".md")] + ".html")
    page = BeautifulSoup(article.read_text(encoding="utf-8"), "html.parser")
    # titles never hold < > (look-alikes, as for every generated title): the rest reads as written
    assert page.find("h1").get_text() == "A \u2039b\u203abold\u2039/b\u203a [x](http://e) morning"
    body = page.find("div", class_="post-body")
    assert "The wind turned at noon and <b>x</b> stood next to [x](http://e) on the roof." in body.get_text()
    assert body.find("b") is None and body.find("a") is None
    assert "&lt;" not in page.get_text() and "\\[" not in page.get_text()


def test_without_a_machine_page_the_plot_and_report_are_not_copied(demo_site, stub_sampler, fixed_day):
    """Files no page uses stay out of the output (a blog without "About the machine")."""
    (demo_site / "models" / "demo" / "report.html").write_text("<p>report</p>")
    machine_pages = [p for p in (demo_site / "content").rglob("*.md") if "Template: machine" in p.read_text()]
    assert machine_pages
    for page in machine_pages:
        page.unlink()
    build(demo_settings(demo_site))
    out = demo_site / "output"
    assert (out / "index.html").is_file()
    machine = out / "machine"
    assert not (machine / "loss.png").exists() and not (machine / "report.html").exists()
