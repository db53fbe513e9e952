"""The build: exclusion rules, bad input, format, determinism, manifest, atomic writes, sources."""
from __future__ import annotations

import json
import logging
import os

import pytest
from corpus_helpers import md_post

from common.corpus_format import DELIMITER
from common.errors import CorpusError
from common.fileio import sha256_file
from corpus_builder.build import BuildOptions, build_corpus


def reasons(result) -> dict[str, str]:
    return {os.path.basename(e["path"]): e["reason"] for e in result.manifest["excluded"]}


# --------------------------------------------------------------------------- exclusion rules
@pytest.mark.parametrize("status, reason", [("draft", "draft"), ("hidden", "hidden"), ("skip", "skipped")])
def test_status_exclusions(site, status, reason):
    site.post("kept.md", md_post("Kept", "Published text."))
    site.post("out.md", md_post("Out", "Not for training.", Status=status))
    result = site.build()
    assert site.documents() == ["Kept\n\nPublished text."]
    assert reasons(result) == {"out.md": reason}


def test_include_drafts_keeps_drafts_but_not_hidden_posts(site):
    site.post("d.md", md_post("Draft", "A draft.", date="2021-01-01", Status="draft"))
    site.post("h.md", md_post("Hidden", "Hidden.", date="2021-01-02", Status="hidden"))
    result = site.build(include_drafts=True)
    assert site.documents() == ["Draft\n\nA draft."]
    assert reasons(result) == {"h.md": "hidden"}


def test_future_dated_posts_are_excluded_in_the_sites_time_zone(site):
    # NOW is 2030-01-01 00:00 UTC. 00:30 in Stockholm (UTC+1) is 23:30 UTC the day before: past.
    site.post("past.md", md_post("Past", "Already out.", date="2030-01-01 00:30"))
    site.post("future.md", md_post("Future", "Scheduled.", date="2030-01-01 02:30"))
    (site.root / "pelicanconf.py").write_text('TIMEZONE = "Europe/Stockholm"\n')
    result = site.build(settings_file=str(site.root / "pelicanconf.py"))
    assert site.documents() == ["Past\n\nAlready out."]
    assert reasons(result) == {"future.md": "future-dated"}


def test_generated_posts_are_excluded_even_with_include_drafts(site):
    site.post("kept.md", md_post("Kept", "Human text."))
    site.post("gen.md", md_post("Machine", "Model output.", Generated="true", Model="blog", Seed="7"))
    site.post("gen2.md", "---\ntitle: Machine Two\ngenerated: true\ndate: 2021-01-01\n---\nMore output.\n")
    result = site.build(include_drafts=True)
    assert site.documents() == ["Kept\n\nHuman text."]
    assert reasons(result) == {"gen.md": "generated", "gen2.md": "generated"}


def test_too_short_posts_are_excluded(site):
    site.post("long.md", md_post("Long", "one two three four five"))
    site.post("short.md", md_post("Short", "one two"))
    site.post("code-only.md", md_post("Code Only", "```\nx = 1\n```"))
    result = site.build(min_words=3)
    assert len(site.documents()) == 1
    assert reasons(result) == {"short.md": "too-short", "code-only.md": "too-short"}


def test_exact_and_near_duplicates_are_removed_keeping_the_first(site):
    body = " ".join(f"word{i}" for i in range(120))
    site.post("a.md", md_post("Original", body, date="2021-01-01"))
    site.post("b.md", md_post("Original", body.upper(), date="2021-01-02"))
    site.post("c.md", md_post("Original", body + " and one more line at the end", date="2021-01-03"))
    site.post("d.md", md_post("Different", "Something else entirely, with its own words.", date="2021-01-04"))
    result = site.build(dedupe=True)
    assert [d.splitlines()[0] for d in site.documents()] == ["Original", "Different"]
    assert reasons(result) == {"b.md": "duplicate", "c.md": "near-duplicate"}


def test_duplicates_are_kept_without_dedupe(site):
    site.post("a.md", md_post("Same", "The same words.", date="2021-01-01"))
    site.post("b.md", md_post("Same", "The same words.", date="2021-01-02"))
    site.build()
    assert len(site.documents()) == 2


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("name, data, reason", [
    ("binary.md", b"Title: X\n\n\x00\x01\x02", "binary"),
    ("latin1.md", "Title: Café\n\nCafé au lait.".encode("latin-1"), "not-utf8"),
    ("empty.md", b"", "empty"),
    ("blank.md", b"  \n\n ", "empty"),
    ("baddate.md", b"Title: Bad Date\nDate: not a date at all\n\nText.", "broken-metadata"),
    ("badyaml.md", b"---\ntitle: ok\nthis line is no metadata\n---\nText.", "broken-metadata"),
])
def test_bad_input_gets_one_line_and_the_run_goes_on(site, caplog, name, data, reason):
    site.post("good.md", md_post("Good", "Good text."))
    site.post(name, data)
    with caplog.at_level(logging.WARNING, logger="corpus_builder"):
        result = site.build()
    assert site.documents() == ["Good\n\nGood text."]
    assert reasons(result) == {name: reason}
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1 and name in lines[0] and reason in lines[0] and "\n" not in lines[0]


def test_unreadable_file(site, caplog):
    site.post("good.md", md_post("Good", "Good text."))
    os.symlink(site.root / "nowhere.md", site.content / "dangling.md")
    result = site.build()
    assert reasons(result) == {"dangling.md": "unreadable"}


def test_strict_stops_at_the_first_problem(site):
    site.post("good.md", md_post("Good", "Good text."))
    site.post("empty.md", b"")
    with pytest.raises(CorpusError, match=r"empty\.md: empty"):
        site.build(strict=True)
    assert not site.output.exists()


def test_nothing_usable_is_an_error_and_leaves_the_previous_corpus_intact(site):
    site.post("good.md", md_post("Good", "Good text."))
    site.build()
    before = (site.output.read_bytes(), site.output.with_suffix(".json").read_bytes())
    (site.content / "good.md").write_text(md_post("Good", "Now a draft.", Status="draft"))
    with pytest.raises(CorpusError, match="nothing usable remains"):
        site.build()
    assert (site.output.read_bytes(), site.output.with_suffix(".json").read_bytes()) == before


def test_missing_folder_is_one_clear_error(site):
    with pytest.raises(CorpusError, match="content folder not found: .*nope"):
        build_corpus(BuildOptions(content_dirs=[str(site.root / "nope")], output=str(site.output)))


def test_output_inside_the_content_folder_is_refused(site):
    site.post("good.md", md_post("Good", "Good text."))
    with pytest.raises(CorpusError, match="inside the content folder"):
        site.build(output=str(site.content / "corpus.txt"))


def test_the_content_folder_is_never_modified(site):
    site.post("a.md", md_post("A", "Text a."))
    site.post("b.rst", "B\n#\n\n:date: 2021-01-01\n\nText b.\n")
    site.post("c.md", "---\ntitle: C\ndate: 2021-01-01\n---\nText c.\n")
    snapshot = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in site.content.rglob("*")}
    site.build(dedupe=True, shuffled_copies=1)
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in site.content.rglob("*")} == snapshot


# --------------------------------------------------------------------------- format and order
def test_delimiter_format_titles_and_order_by_date_then_path(site):
    site.post("b.md", md_post("Second", "Body two.", date="2021-02-01"))
    site.post("z.md", md_post("First", "Body one,\nwrapped.\n\nPara two.", date="2021-01-01"))
    site.post("a.md", md_post("Third", "Body three.", date="2021-02-01"))
    site.build()
    # same date: a.md before b.md
    assert site.corpus() == (
        "First\n\nBody one, wrapped.\n\nPara two.\n" + DELIMITER + "\n"
        "Third\n\nBody three.\n" + DELIMITER + "\n"
        "Second\n\nBody two.\n"
    )


def test_no_titles(site):
    site.post("a.md", md_post("Title", "Only the body."))
    site.build(titles=False)
    assert site.corpus() == "Only the body.\n"


def test_the_delimiter_never_appears_inside_a_document(site):
    site.post("a.md", md_post("Tokens <|endoftext|>", "A line\n\n<|endoftext|>\n\nand <|endoftext|> inline."))
    site.build()
    assert site.corpus().count(DELIMITER) == 0
    assert site.documents() == ["Tokens\n\nA line\n\nand inline."]


def test_pages_and_static_folders_are_not_posts(site):
    site.post("posts/a.md", md_post("Post", "A post."))
    site.post("pages/about.md", md_post("About", "A page."))
    site.post("images/notes.md", md_post("Notes", "A static file."))
    site.build()
    assert site.documents() == ["Post\n\nA post."]


def test_site_settings_choose_article_paths(blog, tmp_path):
    from corpus_helpers import NOW

    result = build_corpus(BuildOptions(settings_file=str(blog / "pelicanconf.py"), output=str(tmp_path / "c.txt"),
                                       now=NOW, workers=1))
    titles = [s["title"] for s in result.manifest["sources"]]
    assert titles == ["First Frost on the Allotment", "Sowing Broad Beans in the Rain",
                      "A Note on Compost & Patience", "Migrated: Notes From the Old Blog"]
    assert sorted(e["reason"] for e in result.manifest["excluded"]) == ["draft", "future-dated", "generated", "hidden"]


def test_builds_are_deterministic_whatever_the_worker_count(site):
    for i in range(120):
        site.post(f"p{i:03d}.md", md_post(f"Post {i}", f"Text of post {i}.\n\nSecond paragraph {i % 7}.",
                                          date=f"2021-{1 + i % 12:02d}-{1 + i % 28:02d}"))
    site.build(workers=1)
    first = (site.output.read_bytes(), site.output.with_suffix(".json").read_bytes())
    site.build(workers=2)
    assert (site.output.read_bytes(), site.output.with_suffix(".json").read_bytes()) == first
    site.build(workers=1)
    assert (site.output.read_bytes(), site.output.with_suffix(".json").read_bytes()) == first


# --------------------------------------------------------------------------- manifest
def test_manifest_records_hashes_counts_and_exclusions(site):
    a = site.post("a.md", md_post("Alpha", "one two three", date="2021-01-01"))
    site.post("d.md", md_post("Draft", "Draft.", Status="draft"))
    result = site.build()
    manifest = json.loads(site.output.with_suffix(".json").read_text())
    assert manifest == result.manifest
    assert manifest["corpus_sha256"] == sha256_file(site.output)
    assert manifest["documents"] == 1 and manifest["words"] == 4 and manifest["tokens"] is None
    [source] = manifest["sources"]
    assert source["sha256"] == sha256_file(a) and source["words"] == 4 and source["format"] == "md"
    assert manifest["excluded"] == [{"path": "content/d.md", "reason": "draft",
                                     "detail": "Status: draft (use --include-drafts to keep drafts)"}]
    assert manifest["totals"]["excluded_by_reason"] == {"draft": 1}


def test_token_count_counts_each_delimiter_as_one_token(site, tiny_tokenizer_dir):
    from transformers import AutoTokenizer

    site.post("a.md", md_post("Leeks", "The leeks stood in a row.", date="2021-01-01"))
    site.post("b.md", md_post("Beans", "Frost at dawn, beans in the soil.", date="2021-01-02"))
    result = site.build(tokenizer=str(tiny_tokenizer_dir))
    tok = AutoTokenizer.from_pretrained(tiny_tokenizer_dir)
    expected = sum(len(tok(d, add_special_tokens=False)["input_ids"]) for d in site.documents()) + 1
    assert result.manifest["tokens"] == expected
    assert result.manifest["tokenizer"] == str(tiny_tokenizer_dir)


def test_openai_gpt2_tokenizer_files_are_accepted(site, tiny_tokenizer_dir):
    """OpenAI's release (and gpt-2-simple's models/124M/) names the files encoder.json + vocab.bpe."""
    from tokenizers import Tokenizer

    openai = site.root / "openai-124M"
    openai.mkdir()
    Tokenizer.from_file(str(tiny_tokenizer_dir / "tokenizer.json")).model.save(str(openai))
    (openai / "vocab.json").rename(openai / "encoder.json")
    (openai / "merges.txt").rename(openai / "vocab.bpe")
    site.post("a.md", md_post("Leeks", "The leeks stood in a row.", date="2021-01-01"))
    site.post("b.md", md_post("Beans", "Frost at dawn, beans in the soil.", date="2021-01-02"))
    expected = site.build(tokenizer=str(tiny_tokenizer_dir)).manifest["tokens"]
    assert expected > 10
    assert site.build(tokenizer=str(openai)).manifest["tokens"] == expected


def test_a_tokenizer_that_cannot_be_loaded_is_one_clear_error(site):
    site.post("a.md", md_post("A", "Text."))
    (site.root / "not-a-tokenizer").mkdir()
    with pytest.raises(CorpusError, match="cannot load tokenizer") as info:
        site.build(tokenizer=str(site.root / "not-a-tokenizer"))
    assert "\n" not in str(info.value)
    assert not site.output.exists()


def test_a_hub_name_that_cannot_be_fetched_is_one_clear_error(site, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # as without a network; the test never touches it
    site.post("a.md", md_post("A", "Text."))
    with pytest.raises(CorpusError, match="cannot load tokenizer 'no-such-org/no-such-tokenizer'") as info:
        site.build(tokenizer="no-such-org/no-such-tokenizer")
    assert "\n" not in str(info.value) and "local tokenizer folder" in str(info.value)


# --------------------------------------------------------------------------- cleaning, augmentation
def test_drop_regex_removes_matching_lines(site):
    site.post("a.md", md_post("A", "Keep this.\n\nShare this post on social media!\n\nAnd this."))
    site.build(drop_regex=[r"^Share this"])
    assert site.documents() == ["A\n\nKeep this.\n\nAnd this."]


def test_bad_regex_is_one_clear_error(site):
    site.post("a.md", md_post("A", "Text."))
    with pytest.raises(CorpusError, match="bad --drop-regex"):
        site.build(drop_regex=["(unclosed"])


def test_shuffled_copies_are_seeded_permutations_of_paragraphs(site):
    paragraphs = [f"Paragraph number {i}." for i in range(8)]
    site.post("a.md", md_post("Shuffle", "\n\n".join(paragraphs)))
    result = site.build(shuffled_copies=2, seed=3)
    docs = site.documents()
    assert len(docs) == 3 and result.manifest["shuffled_copies"] == 2 and result.manifest["posts"] == 1
    for copy in docs[1:]:
        parts = copy.split("\n\n")
        assert parts[0] == "Shuffle" and sorted(parts[1:]) == sorted(paragraphs) and parts[1:] != paragraphs
    again = site.corpus()
    site.build(shuffled_copies=2, seed=3)
    assert site.corpus() == again
    site.build(shuffled_copies=2, seed=4)
    assert site.corpus() != again


# --------------------------------------------------------------------------- other sources
def test_txt_folder_csv_column_and_jsonl_field(site):
    site.post("a.md", md_post("Post", "A post."))
    texts = site.root / "texts"
    texts.mkdir()
    (texts / "one.txt").write_text("A plain text\nfile.\n", encoding="utf-8")
    (texts / "two.txt").write_bytes(b"\xff\xfe bad")
    (site.root / "posts.csv").write_text('id,body,title\n1,"Multi-line\nfield, with comma",CSV One\n2,,Empty\n',
                                         encoding="utf-8")
    (site.root / "more.jsonl").write_text('{"text": "From JSON Lines."}\nnot json\n{"other": 1}\n', encoding="utf-8")
    result = site.build(txt_dirs=[str(texts)], csv_files=[str(site.root / "posts.csv")], csv_column="body",
                        csv_title_column="title", jsonl_files=[str(site.root / "more.jsonl")])
    assert site.documents() == ["Post\n\nA post.", "A plain text\nfile.", "CSV One\n\nMulti-line\nfield, with comma",
                                "From JSON Lines."]
    assert sorted(e["reason"] for e in result.manifest["excluded"]) == ["empty", "empty", "not-utf8", "unreadable"]
    formats = [s["format"] for s in result.manifest["sources"]]
    assert formats == ["md", "txt", "csv", "jsonl"]


def test_missing_csv_column_is_one_clear_error(site):
    (site.root / "posts.csv").write_text("id,body\n1,text\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="has no column 'text'"):
        build_corpus(BuildOptions(csv_files=[str(site.root / "posts.csv")], csv_column="text",
                                  output=str(site.output)))


def test_a_broken_settings_file_is_one_clear_error(site):
    (site.root / "pelicanconf.py").write_text("PATH = undefined_name\n")
    with pytest.raises(CorpusError, match="cannot read settings file pelicanconf.py: .*undefined_name"):
        build_corpus(BuildOptions(output=str(site.output)))


def test_without_a_settings_file_the_default_folder_is_content(site):
    site.post("a.md", md_post("Default Folder", "Found it."))
    build_corpus(BuildOptions(output=str(site.output), now=site.options().now))
    assert site.documents() == ["Default Folder\n\nFound it."]


def test_a_symlink_loop_in_the_content_folder_is_read_once(site):
    site.post("sub/a.md", md_post("Once", "Read only once."))
    os.symlink(site.content, site.content / "sub" / "loop")
    site.build()
    assert site.documents() == ["Once\n\nRead only once."]
