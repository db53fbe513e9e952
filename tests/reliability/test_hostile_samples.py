"""Issue 7, item 5: a model that writes hostile text cannot attack the site it is published on.

A stub sampler stands in for the model: its raw "sampled" texts go through the trainer's own
``trainer.generation.post.parse_post`` (title from the first line, as for a real sample) and come out as the
posts the plugin publishes. They hold script tags, event handlers, ``javascript:``/``data:``/
``vbscript:`` links in every spelling, Markdown that opens raw HTML blocks, attribute lists,
reference links, Pelican metadata lines (``Status: draft``, ``Save_as: ../../index.html``,
``Template:``...) and 1 MB of one character. One build publishes them all (backfill), with the
project's own theme and feeds on. Then, in every HTML file and every feed entry of the output:

- no ``<script>`` element (but the plugin's own "show me another" script tag), no ``on*`` event-handler attribute, no URL attribute whose value is a
  ``javascript:``, ``vbscript:`` or ``data:`` URL (after the decoding a browser does);
- no file changed or appeared outside the output folder (and the generated-posts folder);
- each generated post's metadata is exactly the set the plugin writes, and it is published.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

import stub_build
from hostile_texts import HostileSampler
from reliability_harness import run_cli
from site_scripts import is_plugin_script

HERE = Path(__file__).resolve().parent
BUILD_TIMEOUT = 300

REPO = Path(__file__).resolve().parents[2]
DAY = dt.date(2026, 3, 14)

PLUGIN_KEYS = {"title", "date", "slug", "category", "tags", "author", "generated", "model", "model_sha256",
               "seed", "sampling", "gate", "summary"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "data", "srcset", "background",
                  "cite", "longdesc", "manifest", "codebase", "content"}
BAD_SCHEME = re.compile(r"^(javascript|vbscript|data):", re.I)


def tree_state(root: Path, skip: list[Path]) -> dict:
    state = {}
    for dirpath, dirs, names in os.walk(root):
        if any(Path(dirpath).resolve().is_relative_to(s) for s in skip):
            dirs[:] = []
            continue
        for name in names:
            if name.startswith(".sampling-"):
                continue
            path = Path(dirpath) / name
            state[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "other"
    return state


def visible_url(value: str) -> str:
    """An attribute value as a browser reads the scheme: no whitespace or controls anywhere."""
    return re.sub(r"[\s\x00-\x20]", "", value)


def attack_findings(html: str, where: str, page: Path | None = None, output: Path | None = None) -> list[str]:
    """What in ``html`` could run a script; for a page of the output (``page`` in ``output``), the
    plugin's own "show me another" script tag (``site_scripts``) is not a finding."""
    from bs4 import BeautifulSoup

    found = []
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(True):
        if tag.name == "script" and page is not None and is_plugin_script(tag, page, output):
            continue
        if tag.name in {"script", "iframe", "object", "embed", "base"}:
            found.append(f"{where}: <{tag.name}> element")
        for name, value in tag.attrs.items():
            values = value if isinstance(value, list) else [value]
            if name.lower().startswith("on"):
                found.append(f"{where}: <{tag.name} {name}=...> event handler")
            if name.lower() in URL_ATTRIBUTES:
                for item in values:
                    if BAD_SCHEME.match(visible_url(str(item))):
                        found.append(f"{where}: <{tag.name} {name}={str(item)[:40]!r}>")
        if tag.name == "style" or "style" in tag.attrs:
            css = tag.string if tag.name == "style" else tag.attrs.get("style")
            if css and re.search(r"javascript:|expression\(", visible_url(str(css)), re.I):
                found.append(f"{where}: script in CSS")
    return found


SETTINGS = """
FEED_ALL_ATOM = 'feeds/all.atom.xml'
FEED_ALL_RSS = 'feeds/all.rss.xml'
CATEGORY_FEED_ATOM = 'feeds/{slug}.atom.xml'
TAG_FEED_ATOM = 'feeds/tag-{slug}.atom.xml'
DAILY_POST_BACKFILL_DAYS = %d
MARKDOWN = {'extension_configs': {'markdown.extensions.extra': {}, 'markdown.extensions.meta': {},
                                  'markdown.extensions.attr_list': {}, 'markdown.extensions.toc': {}},
            'output_format': 'html5'}
"""


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    """A site in tmp/a/b/site built once (``make html`` in a child process) with the hostile sampler."""
    from pelican.settings import read_settings

    root = tmp_path_factory.mktemp("hostile")
    site = root / "a" / "b" / "site"
    site.mkdir(parents=True)
    sampler = HostileSampler()
    stub_build.write_site(site, SETTINGS % (len(sampler.posts) - 1))
    skip = [(site / "output").resolve(), (site / "content" / "generated").resolve()]
    before = tree_state(root, skip)
    outcome = run_cli([str(HERE / "stub_build.py"), str(site), "--day", DAY.isoformat(), "--hostile"], site,
                      timeout=BUILD_TIMEOUT)
    assert not outcome.timed_out, f"the build hung ({outcome.seconds:.0f} s)"
    assert outcome.returncode == 0, outcome.stderr[-3000:]
    after = tree_state(root, skip)
    settings = read_settings(str(site / "pelicanconf.py"))
    return SimpleNamespace(site=site, sampler=sampler, before=before, after=after, settings=settings,
                           seconds=outcome.seconds)


def test_built_site_has_no_live_script(hostile_site):
    output = hostile_site.site / "output"
    generated = sorted((hostile_site.site / "content" / "generated").glob("*.md"))
    assert len(generated) == len(hostile_site.sampler.posts), "one post per hostile text"
    findings = []
    pages = sorted(output.rglob("*.html"))
    assert pages
    for page in pages:
        findings += attack_findings(page.read_text(encoding="utf-8"), str(page.relative_to(output)), page, output)
    import xml.etree.ElementTree as ET

    feeds = sorted(output.rglob("*.xml"))
    assert feeds, "feeds are on in this site"
    for feed in feeds:
        for node in ET.parse(feed).iter():
            name = node.tag.rsplit("}", 1)[-1]
            if name in {"content", "summary", "description", "title"} and node.text:
                findings += attack_findings(node.text, f"{feed.relative_to(output)} <{name}>")
            url = node.get("href") or (node.text if name == "link" else "")
            if BAD_SCHEME.match(visible_url(url or "")):
                findings.append(f"{feed.relative_to(output)}: link {url[:40]!r}")
    assert not findings, "\n".join(findings[:30])


def test_nothing_written_outside_the_output_folder(hostile_site):
    assert hostile_site.after == hostile_site.before
    outside = hostile_site.site.parent
    assert sorted(p.name for p in outside.iterdir()) == ["site"]
    assert not (hostile_site.site.parent.parent.parent / "pwned.html").exists()


def test_post_metadata_is_only_what_the_plugin_sets(hostile_site):
    from pelican.readers import MarkdownReader

    reader = MarkdownReader(hostile_site.settings)
    output = hostile_site.site / "output"
    headers = hostile_site.site / "headers"
    headers.mkdir(exist_ok=True)
    for path in sorted((hostile_site.site / "content" / "generated").glob("*.md")):
        # Pelican reads the header up to the first blank line: read that part with its reader
        # (rendering the 1 MB bodies again would only cost time).
        head = headers / path.name
        head.write_text(path.read_text(encoding="utf-8").split("\n\n", 1)[0] + "\n\nbody\n", encoding="utf-8")
        _, meta = reader.read(str(head))
        assert set(meta) <= PLUGIN_KEYS, f"{path.name}: unexpected metadata {sorted(set(meta) - PLUGIN_KEYS)}"
        assert {"title", "date", "slug", "generated"} <= set(meta)
        assert str(meta["generated"]).lower() == "true"
        assert re.fullmatch(r"[\w-]+", meta["slug"]), meta["slug"]  # no '/', '.' or '..'
        assert meta.get("category", "Machine") == "Machine" and meta.get("author", "The Machine") == "The Machine"
        published = list(output.rglob(f"{meta['slug']}.html"))
        assert published, f"{path.name} was not published (status or save_as changed?)"


def test_the_hostile_words_are_shown_as_text(hostile_site):
    """Escaping keeps the words: the script tag text is visible on the page, not dropped."""
    from bs4 import BeautifulSoup

    output = hostile_site.site / "output"
    texts = " ".join(BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser").get_text(" ")
                     for p in output.rglob("*.html"))
    assert "alert(1)" in texts
    assert "Save_as" in texts
