"""Issue 16, items 2, 5 and 6, in a real browser: on "About the machine", "Write me a new post" runs
the blog's model in the page (onnxruntime-web, WASM) and shows a titled post, from the site alone
(every request stays on the local server, no console error); the seed on the page writes the same
post again; the stop button stops; a hostile model output stays text; without scripts or without
WebAssembly the box says what would happen and links to the machine's posts.

The model is the tiny GPT-2 overfit on one hostile post (script tags, an ``onerror`` image, a
``javascript:`` link), exported with `trainer export-web`: whatever it writes is that post, so the
test knows what the page must show. Needs /usr/bin/chromium, the playwright package and npm (the
export fetches onnxruntime-web once): without them it skips, or fails under CI (CI=true)."""
from __future__ import annotations

from pathlib import Path

import pytest
from chromium import browser, serve, watched_page
from recital import train_recital_run
from theme_build import build_site

from trainer.generation.gate import distinct_n, find_html, repeated_ngram_share, words
from trainer.generation.post import parse_post, trim_to_last_sentence

HOSTILE_TITLE = "Gulls <script>window.__pwned=1</script> Again"
HOSTILE_BODY = ('The wind <img src=x onerror="window.__pwned=2"> came from the sea. '
                'Read <a href="javascript:window.__pwned=3">this</a>.')
HOSTILE_POST = f"{HOSTILE_TITLE}\n\n{HOSTILE_BODY}"
TIME_BUDGET_MS = 120_000  # loading the model and writing the post, on a 2-core CI machine


@pytest.fixture(scope="module")
def hostile_run(tiny_model_and_tokenizer, tmp_path_factory) -> Path:
    """The reciting run, exported into run/web (the folder DAILY_POST_BROWSER_MODEL defaults to)."""
    from trainer.web.export import export_web

    base, tokenizer = tiny_model_and_tokenizer
    run = train_recital_run(tmp_path_factory.mktemp("models") / "hostile", base, tokenizer, HOSTILE_POST)
    (run / "corpus.txt").write_text(HOSTILE_POST + "\n<|endoftext|>\n", encoding="utf-8")
    export_web(run)
    return run


def build_write_site(demo_content, run, output, gate) -> Path:
    return build_site(demo_content, output, DAILY_POST_MODEL=str(run), DAILY_POST_BROWSER=True,
                      DAILY_POST_GATE=gate)


@pytest.fixture(scope="module")
def write_site(demo_content, hostile_run, tmp_path_factory) -> Path:
    """The gate's length rule lowered for the short recited post; its HTML let through, as text."""
    return build_write_site(demo_content, hostile_run, tmp_path_factory.mktemp("write") / "output",
                            {"min_words": 10, "html": "escape"})


@pytest.fixture(scope="module")
def server(write_site):
    with serve(write_site) as url:
        yield url


@pytest.fixture(scope="module")
def chromium():
    with browser("the \"Write me a new post\" browser test") as launched:
        yield launched


def open_machine_page(chromium, server, scripts=True, init_script=None):
    """The machine page, watched (``chromium.watched_page``): ``(context, page, problems)``."""
    return watched_page(chromium, server, "/pages/machine.html", scripts, init_script)


def write(page, seed: str) -> dict:
    """Type ``seed``, press the button, wait for the post; what the box shows."""
    page.locator(".tpdne-write-seed").fill(seed)
    page.get_by_role("button", name="Write me a new post").click()
    page.wait_for_function("() => { const s = document.querySelector('.tpdne-write').dataset.state;"
                           " return s && s !== 'writing'; }", timeout=TIME_BUDGET_MS)
    return {
        "state": page.locator(".tpdne-write").get_attribute("data-state"),
        "title": page.locator(".tpdne-write-title").text_content(),
        "body": page.locator(".tpdne-write-body").inner_text(),
        "status": page.locator(".tpdne-write-status").text_content(),
        "seed": page.locator(".tpdne-write-seed").input_value(),
    }


def test_the_button_writes_a_titled_post_that_stays_text(chromium, server, shots):
    context, page, problems = open_machine_page(chromium, server)
    try:
        shown = write(page, "7")
        page.locator(".tpdne-write").screenshot(path=str(shots / "write-post.png"))
        assert shown["state"] == "done", shown
        assert shown["title"] == HOSTILE_TITLE  # the script tag is text in the heading
        assert shown["body"] == HOSTILE_BODY
        assert shown["status"].startswith("Done. Seed 7:")
        post = page.locator(".tpdne-write-post")
        assert post.locator("script, img, a, iframe, [onerror]").count() == 0
        assert page.evaluate("() => window.__pwned") is None  # no markup of the model's ran
    finally:
        context.close()
    assert problems == []


def test_the_same_seed_writes_the_same_post_and_a_blank_seed_is_drawn(chromium, server):
    context, page, problems = open_machine_page(chromium, server)
    try:
        first = write(page, "123456")
        again = write(page, "123456")
        assert (first["title"], first["body"]) == (again["title"], again["body"])
        drawn = write(page, "")
        assert drawn["seed"].isdigit() and drawn["status"].startswith(f"Done. Seed {drawn['seed']}:")
    finally:
        context.close()
    assert problems == []


# Presses Stop as soon as the first words appear.
PRESS_STOP_EARLY = """
new MutationObserver((changes, observer) => {
  const title = document.querySelector('.tpdne-write-title');
  if (title && title.textContent) { observer.disconnect(); document.querySelector('.tpdne-write-stop').click(); }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def test_stop_ends_the_post_where_it_is(chromium, server):
    context, page, problems = open_machine_page(chromium, server, init_script=PRESS_STOP_EARLY)
    try:
        shown = write(page, "7")
        assert shown["state"] == "stopped" and shown["status"].startswith("Stopped after ")
        tokens = int(shown["status"].split()[2])
        assert tokens <= 3  # the words so far (the observer runs while the next token is computed)
        assert 0 < len(shown["title"]) < len(HOSTILE_TITLE) and shown["body"] == ""
    finally:
        context.close()
    assert problems == []


def test_a_draft_the_gate_turns_down_is_drawn_again_then_shown_as_such(chromium, demo_content, hostile_run,
                                                                       tmp_path):
    site = build_write_site(demo_content, hostile_run, tmp_path / "output", {"min_words": 10})  # HTML: rejected
    with serve(site) as server:
        context, page, problems = open_machine_page(chromium, server)
        try:
            shown = write(page, "7")
        finally:
            context.close()
    assert shown["state"] == "rejected"
    assert shown["status"] == ("No draft passed the daily post's checks in 3 tries (the last: it holds HTML "
                               "(script, event handler, script link, html tag)); here is the last one. "
                               "Try another seed.")
    assert shown["title"] == HOSTILE_TITLE  # still text
    assert problems == []


def _fallback_link(page, server):
    fallback = page.locator(".tpdne-write-fallback")
    assert fallback.is_visible()
    assert not page.get_by_role("button", name="Write me a new post").is_visible()
    link = fallback.locator("a")
    assert link.inner_text() == "read a post the machine has already written"
    with page.expect_navigation(wait_until="load"):
        link.click()
    assert page.url.startswith(server + "/") and page.url != server + "/pages/machine.html"
    return fallback


def test_without_scripts_the_box_says_what_would_happen(chromium, server, shots):
    context, page, problems = open_machine_page(chromium, server, scripts=False)
    try:
        page.locator(".tpdne-write").screenshot(path=str(shots / "write-no-scripts.png"))
        text = page.locator(".tpdne-write-fallback").inner_text()
        assert "write a new post in your browser" in text and "needs JavaScript and WebAssembly" in text
        _fallback_link(page, server)
    finally:
        context.close()
    assert problems == []


def test_without_webassembly_the_box_says_so(chromium, server):
    context, page, problems = open_machine_page(chromium, server, init_script="delete window.WebAssembly;")
    try:
        page.wait_for_function("() => document.querySelector('.tpdne-write-why').textContent.includes('no WebAssembly')")
        _fallback_link(page, server)
    finally:
        context.close()
    assert problems == []


PARSE_CASES = [
    "Wind from the north-west\n\nIt blew all day. The gauge froze.",
    "# A Markdown Title #\n\nBody here.\n\n\n\nSecond paragraph that stops mid",
    "Title\n======\nThe underline is not the body. Then it went on",
    "notes on the roof\n\nlower-case title.",
    "Rain, wind and\n\nA dangling title.",
    "The Gulls\nNo blank line after the title.",
    "“Quoted Title”\n\nThe Quoted Title\n\nThe body repeats the title first. Yes! Really? Ok :)",
    "Plan A\n\nA sentence ends here.\n\nAn unfinished paragraph",
    "Über den Wind\r\n\r\nDer Wind kam vom Meer.\x07 Ende.\u000bNoch etwas",
    "!!!\n\n???",
    "A Title\n\n",
    "Ten Readings, Sort Of\n\nOne. Two. Three \"quoted.\" (Bracketed.) done",
    "Rain\n\nIt rained.\n\nWhat I found\n\nHow much fell?\n\nThe gauge held",
    "Rain\n\nIt rained. That is all.\n\nWhy?\n\nWhere does the wind go? And",
    "Rain\n\nWhy does it rain?\n\nWhere does it go?\n\nAnd",
]


def post_js(chromium, server, body: str, texts: list[str]) -> list:
    """``body`` (JavaScript with ``post``, post.js's module, and ``text``) for each of ``texts``, in the page."""
    context, page, problems = open_machine_page(chromium, server)
    try:
        shown = page.evaluate("async (texts) => { const post = await import('/machine/write/post.js');"
                              f" return texts.map((text) => {{ {body} }}); }}", texts)
    finally:
        context.close()
    assert problems == []
    return shown


def test_the_page_cuts_posts_as_the_daily_post_does(chromium, server):
    shown = post_js(chromium, server, "const parsed = post.parsePost(text); return [parsed.title, parsed.body, "
                    "parsed.titleProblem, post.trimToLastSentence(parsed.body)];", PARSE_CASES)
    expected = []
    for text in PARSE_CASES:
        parsed = parse_post(text)
        expected.append([parsed.title, parsed.body, parsed.title_problem, trim_to_last_sentence(parsed.body)])
    assert shown == expected


GATE_CASES = PARSE_CASES + [
    HOSTILE_POST,
    "Loops\n\nthe gauge the gauge the gauge the gauge the gauge the gauge the gauge.",
    "Naïve Café\n\nDon’t stop: it’s 12°C and the ÉTÉ rain isn't <b>bold</b>; onload = x. data:text/html;x",
    "Comment\n\nA <!-- note --> and <?php ?> and javascript : void and vb script: x.",
]


def test_the_page_measures_drafts_as_the_gate_does(chromium, server):
    shown = post_js(chromium, server, "const w = post.words(text); return [w, post.repeatedShare(w, 4), "
                    "post.distinctShare(w, 2), post.findHtml(text)];", GATE_CASES)
    expected = []
    for text in GATE_CASES:
        w = words(text)
        expected.append([w, repeated_ngram_share(w, 4), distinct_n(w, 2), find_html(text)])
    assert shown == expected
