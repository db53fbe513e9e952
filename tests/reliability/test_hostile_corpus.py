"""Issue 7, item 4: a hostile corpus.

Malformed files (random bytes, truncated UTF-8, UTF-16, NUL bytes, a huge single line, deeply
nested Markdown and HTML, broken metadata, YAML bombs and YAML code tags, symlink loops, unreadable
files, odd names) are mixed with good posts and ``corpus-builder`` runs on them as a user would (a
child process, under a memory limit and a time-out). It must not crash, every good post must be in
the corpus exactly once, every bad file must be named in the manifest with its reason, and nothing
in the content folder may change.

Fast variant: about 40 hostile files. ``RELIABILITY_FULL=1``: 220 hostile files including a 20 MB
single-line post (see docs/reliability.md for the figures).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from pathlib import Path


from common.corpus_format import split_documents

import hostile_corpus as h
from reliability_harness import FULL, run_cli

N_BAD = 220 if FULL else 40
N_GOOD = 30 if FULL else 10
TIMEOUT = 900 if FULL else 120
MEMORY = 4 << 30  # bytes of address space for the child: a bomb must not take the machine
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def snapshot(content: Path) -> dict:
    """Every entry under ``content`` (not following links): kind, mode and a hash of the bytes."""
    seen = {}
    for dirpath, dirs, names in os.walk(os.fsencode(content)):
        for name in dirs + names:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            digest = None
            if os.path.isfile(path) and not os.path.islink(path) and st.st_mode & 0o444:
                with open(path, "rb") as handle:
                    digest = hashlib.sha256(handle.read()).hexdigest()
            elif os.path.islink(path):
                digest = os.readlink(path)
            seen[path] = (st.st_mode, st.st_size, digest)
    return seen


def build(site: Path, timeout: float = TIMEOUT):
    args = ["-m", "corpus_builder.cli", "content", "-o", "out/corpus.txt", "-s", "pelicanconf.py", "-j", "2"]
    return run_cli(args, site, timeout=timeout, memory_bytes=MEMORY, prefix=h.drop_read_override_prefix())


def manifest_name(entry: h.Entry) -> str:
    """How a content file is named in the manifest (relative to the site folder)."""
    return "content/" + entry.name.decode("utf-8", "surrogateescape")


def check_build(plan: h.Plan, outcome) -> dict:
    """Assert the promises of item 4 and return the figures for the report."""
    site = plan.root
    assert not outcome.timed_out, f"corpus-builder hung for {outcome.seconds:.0f} s"
    assert outcome.returncode == 0, outcome.stderr[-3000:]
    assert "Traceback" not in outcome.stderr, outcome.stderr[-3000:]
    corpus_bytes = (site / "out" / "corpus.txt").read_bytes()
    manifest = json.loads((site / "out" / "corpus.json").read_text(encoding="utf-8"))
    corpus = corpus_bytes.decode("utf-8")
    assert manifest["corpus_sha256"] == hashlib.sha256(corpus_bytes).hexdigest()
    assert len(split_documents(corpus)) == manifest["documents"]

    sources = {s["path"] for s in manifest["sources"]}
    excluded = {e["path"]: e["reason"] for e in manifest["excluded"]}
    listed = Counter([s["path"] for s in manifest["sources"]] + [e["path"] for e in manifest["excluded"]])
    twice = sorted(p for p, n in listed.items() if n > 1)
    assert not twice, f"files listed more than once in the manifest: {twice[:5]}"
    planned = {manifest_name(e) for e in plan.entries}
    unknown = sorted(set(listed) - planned)
    assert not unknown, f"manifest lists files that are not in the content folder once: {unknown[:5]}"

    problems = []
    for entry in plan.entries:
        name = manifest_name(entry)
        if entry.expect == h.GOOD:
            if name not in sources:
                problems.append(f"good post {name!r} missing from sources ({excluded.get(name)})")
            count = corpus.count(entry.marker)
            if count != 1:
                problems.append(f"good post {name!r} is {count} times in the corpus")
        elif entry.kind == "k_unreadable" and os.geteuid() == 0 and not h.drop_read_override_prefix():
            if name not in listed:  # root without setpriv reads mode-000 files: a readable post
                problems.append(f"file {name!r} is not in the manifest")
        elif entry.expect == h.BAD:
            reasons = set(entry.reasons)
            if excluded.get(name) not in reasons:
                problems.append(f"bad file {name!r}: expected one of {sorted(reasons)}, manifest says "
                                f"{excluded.get(name, 'in sources' if name in sources else 'nothing')}")
        elif name not in listed:
            problems.append(f"hostile file {name!r} is not in the manifest")
    assert not problems, "\n".join(problems[:20])

    bad_chars = sorted({repr(c) for c in CONTROL.findall(corpus)})
    assert not bad_chars, f"control characters in the corpus: {bad_chars}"
    assert not plan.pwned.exists(), "a YAML tag ran code"
    return {"files": len(plan.entries), "good": len(plan.by_expect(h.GOOD)), "bad": len(plan.by_expect(h.BAD)),
            "hostile_readable": len(plan.by_expect(h.ANY)), "kept": len(sources), "excluded": len(excluded),
            "by_reason": dict(Counter(excluded.values())), "seconds": round(outcome.seconds, 1)}


def test_hostile_corpus_mixed_with_good_posts(tmp_path):
    """The whole mix in one content folder: no crash, good posts in, bad ones named with reasons."""
    plan = h.make_site(tmp_path, N_BAD, N_GOOD, seed=7, full=FULL)
    assert len(plan.entries) - N_GOOD - 1 >= N_BAD
    before = snapshot(tmp_path / "content")
    outcome = build(tmp_path)
    figures = check_build(plan, outcome)
    assert snapshot(tmp_path / "content") == before, "the content folder changed"
    print(json.dumps(figures))


def test_dates_at_the_ends_of_the_calendar(tmp_path):
    """Year 9999 west of Greenwich overflows when turned into UTC (the mixed run, in Asia/Tokyo,
    has year 1 east of it)."""
    plan = h.make_site(tmp_path, 0, 2, seed=1, timezone="America/New_York")
    content = tmp_path / "content"
    for name, date in (("year-one.md", "0001-01-01 00:00"), ("year-9999.md", "9999-12-31 23:59")):
        (content / name).write_text(f"Title: Edge {name}\nDate: {date}\n\nWords here.\n", encoding="utf-8")
        plan.entries.append(h.Entry(name=name.encode(), expect=h.ANY, kind="date"))
    check_build(plan, build(tmp_path, timeout=60))
