"""A generator of hostile blog content: malformed files mixed with good posts.

``make_site(folder, n_bad, n_good, seed)`` writes a Pelican site (``pelicanconf.py`` +
``content/``) and returns a :class:`Plan` that says what the corpus builder must make of each file:

- ``good``: a normal post with a unique marker word; it must be in the corpus exactly once;
- ``bad``: a file that cannot be a post; it must be in the manifest's ``excluded`` list with one of
  the given reasons;
- ``any``: hostile but arguably readable (20 MB single line, deeply nested markup, odd names...):
  it must be accounted for, in ``sources`` or ``excluded``, exactly once.

Kinds cycle so that any ``n_bad`` covers all of them; ``n_bad >= 200`` is the full variant.
Filenames are bytes so that names which are not UTF-8 can be made too.
"""
from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path

GOOD, BAD, ANY = "good", "bad", "any"
NOT_TEXT = {"binary", "not-utf8"}


@dataclass
class Entry:
    name: bytes  # path relative to content/, as bytes
    expect: str  # GOOD, BAD or ANY
    reasons: set[str] = field(default_factory=set)  # for BAD
    marker: str = ""  # for GOOD: a word found only in this post
    kind: str = ""


@dataclass
class Plan:
    root: Path
    entries: list[Entry] = field(default_factory=list)
    pwned: Path | None = None  # a file that must never appear (YAML code execution)
    loops: list[str] = field(default_factory=list)  # symlinked folder loops made

    def by_expect(self, expect: str) -> list[Entry]:
        return [e for e in self.entries if e.expect == expect]


def good_post(title: str, marker: str, rng: random.Random, fmt: str = "md") -> bytes:
    words = ["rain", "gauge", "wind", "north", "sensor", "morning", "coffee", "mast", "cloud", "snow"]
    body = " ".join(rng.choice(words) for _ in range(40))
    if fmt == "rst":
        text = f"{title}\n{'#' * len(title)}\n\n:date: 2024-03-0{rng.randint(1, 9)} 10:00\n\n{body} {marker}.\n"
    elif fmt == "html":
        text = (f"<html><head><title>{title}</title><meta name=\"date\" content=\"2024-03-01 10:00\" />"
                f"</head><body><p>{body} {marker}.</p></body></html>\n")
    else:
        text = f"Title: {title}\nDate: 2024-03-0{rng.randint(1, 9)} 10:00\n\n{body} {marker}.\n\nMore {body}.\n"
    return text.encode("utf-8")


# --------------------------------------------------------------------------- the hostile kinds
# Each returns a list of (name, content bytes or None for special files, expect, reasons).
def k_random_bytes(rng, i, full):
    data = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 4096)))
    return [(f"random-{i}.md", data, BAD, NOT_TEXT | {"empty"})]


def k_truncated_utf8(rng, i, full):
    text = f"Title: Café {i}\n\nÉté à Lisboa, ação, 日本語 ".encode("utf-8") + "日".encode("utf-8")[:2]
    return [(f"truncated-{i}.md", text, BAD, {"not-utf8"})]


def k_utf16_bom(rng, i, full):
    text = f"Title: Sixteen {i}\nDate: 2024-01-01\n\nWritten by an old editor.\n"
    return [(f"utf16-{i}.md", text.encode("utf-16"), BAD, NOT_TEXT)]


def k_nul_bytes(rng, i, full):
    text = f"Title: Nul {i}\n\nbefore\x00after\n".encode("utf-8")
    return [(f"nul-{i}.md", text, BAD, {"binary"})]


def k_late_nul_and_controls(rng, i, full):
    # A NUL and terminal escapes after the first 8 KB, and control characters in the title:
    # readable, but nothing of the controls may reach the corpus.
    body = ("long paragraph " * 700) + "\x00\x1b[31mred\x1b[0m\x07 bell\n"
    text = f"Title: Ctrl \x1b[2J{i}\x7f\nDate: 2024-01-02\n\n{body}"
    return [(f"controls-{i}.md", text.encode("utf-8"), ANY, set())]


def k_huge_line(rng, i, full):
    size = 20 * 1024 * 1024 if full else 512 * 1024
    line = ("lorem ipsum dolor " * (size // 18 + 1))[:size]
    return [(f"huge-line-{i}.md", f"Title: Huge {i}\n\n{line}".encode("utf-8"), ANY, set())]


def k_nested_markdown(rng, i, full):
    depth = 2000 if full else 300
    variants = [
        "> " * depth + "deep quote",
        "\n".join("    " * d + "- item" for d in range(min(depth, 200))),
        "*" * depth + "x" + "*" * depth,
        "[" * (depth // 4) + "x" + "]" * (depth // 4),
        "<div>" * depth + "deep" + "</div>" * depth,
        "`" * depth + "code",
    ]
    body = variants[i % len(variants)]
    return [(f"nested-md-{i}.md", f"Title: Nested {i}\n\n{body}\n".encode("utf-8"), ANY, set())]


def k_nested_html(rng, i, full):
    depth = 20000 if full else 3000
    body = "<div><span><b>" * depth + "deep" + "</b></span></div>" * depth
    text = f"<html><head><title>Deep {i}</title></head><body>{body}</body></html>"
    return [(f"nested-html-{i}.html", text.encode("utf-8"), ANY, set())]


def k_broken_metadata(rng, i, full):
    variants = [
        ("no-title", "Date: 2024-01-01\n\nA body without a title.\n", {ANY}),  # titled from its file name
        ("empty-title", "Title:\nDate: 2024-01-01\n\nA body.\n", {ANY}),
        ("bad-date", "Title: Bad date\nDate: the day after tomorrow-ish\n\nA body.\n", {"broken-metadata"}),
        ("month-13", "Title: Month\nDate: 2024-13-45 25:61\n\nA body.\n", {"broken-metadata"}),
        ("year-1", "Title: Year one\nDate: 0001-01-01 00:00\n\nA body.\n", {"broken-metadata", ANY}),
        ("year-9999", "Title: Far\nDate: 9999-12-31 23:59\n\nA body.\n", {"broken-metadata", "future-dated"}),
        ("front-unclosed", "---\ntitle: [unclosed\ndate: 2024-01-01\n---\n\nA body.\n", {"broken-metadata", ANY}),
        ("front-list", "---\n- a\n- b\n---\n\nA body.\n", {"broken-metadata"}),
        ("front-garbage", "---\n: : :\n%%%\n---\n\nA body.\n", {"broken-metadata"}),
        ("rst-no-title", ":date: 2024-01-01\n\nJust a paragraph.\n", {ANY}),
    ]
    name, text, reasons = variants[i % len(variants)]
    ext = "rst" if name.startswith("rst") else "md"
    expect = ANY if ANY in reasons else BAD
    return [(f"meta-{name}-{i}.{ext}", text.encode("utf-8"), expect, reasons - {ANY})]


def k_yaml_bomb(rng, i, full):
    levels = ["a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]"]
    for n, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[n]
        levels.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    key = ["title", "tags", "summary", "category"][i % 4]
    text = "---\n" + "\n".join(levels) + f"\n{key}: *i\n" + ("title: Bomb\n" if key != "title" else "") + \
        "date: 2024-01-01\n---\n\nA body.\n"
    return [(f"yaml-bomb-{i}.md", text.encode("utf-8"), ANY, set())]


def k_yaml_code(rng, i, full, pwned=None):
    text = (f"---\ntitle: !!python/object/apply:os.system [\"touch {pwned}\"]\n"
            f"x: !!python/object/apply:subprocess.check_output [[\"touch\", \"{pwned}\"]]\n---\n\nA body.\n")
    return [(f"yaml-code-{i}.md", text.encode("utf-8"), ANY, set())]


def k_empty(rng, i, full):
    data = [b"", b"   \n\n\t\n", b"\xef\xbb\xbf", b"\r\n\r\n"][i % 4]
    return [(f"empty-{i}.md", data, BAD, {"empty"})]


def k_delimiter_inside(rng, i, full):
    text = f"Title: <|endoftext|> {i}\n\nline one\n<|endoftext|>\nline <|endoftext|> two\n"
    return [(f"delimiter-{i}.md", text.encode("utf-8"), ANY, set())]


def k_markup_only(rng, i, full):
    text = f"Title: Only code {i}\n\n    import os\n    os.remove('x')\n\n![](a.png)\n"
    return [(f"markup-only-{i}.md", text.encode("utf-8"), BAD, {"too-short", "empty"})]


def k_rst_broken(rng, i, full):
    text = (f"Broken {i}\n#####\n\n:date: 2024-01-01\n\n.. unknown-directive:: x\n\n"
            "`unclosed interpreted text\n\n  bad indentation\n    worse\n\n.. [#] orphan footnote\n")
    return [(f"broken-{i}.rst", text.encode("utf-8"), ANY, set())]


def k_symlinks(rng, i, full):
    # (name, None, expect, reasons) with content None: the caller makes links. Encoded in names.
    return [(f"link-loop-a-{i}.md", b"@symlink:link-loop-b-%d.md" % i, BAD, {"unreadable"}),
            (f"link-loop-b-{i}.md", b"@symlink:link-loop-a-%d.md" % i, BAD, {"unreadable"}),
            (f"link-dangling-{i}.md", b"@symlink:does-not-exist-%d.md" % i, BAD, {"unreadable"})]


def k_unreadable(rng, i, full):
    text = f"Title: Secret {i}\n\nYou cannot read this.\n".encode("utf-8")
    return [(f"unreadable-{i}.md", b"@chmod000:" + text, BAD, {"unreadable"})]


def k_odd_names(rng, i, full):
    names = [
        "with space {i}.md", "-rf {i}.md", "quote'\"{i}.md", "star*?[{i}].md", "new\nline{i}.md",
        "tab\tname{i}.md", "émoji-🦆-{i}.md", "rtl-\u202eevil{i}.md", "back\\slash{i}.md",
        "x" * 200 + "{i}.md", "percent%s%n{i}.md", "semi;$(touch x){i}.md",
    ]
    name = names[i % len(names)].format(i=i)
    return [(name, None, GOOD, set())]


def k_non_utf8_name(rng, i, full):
    return [(b"latin1-\xe9t\xe9-%d.md" % i, None, GOOD, set())]


KINDS = [
    k_random_bytes, k_truncated_utf8, k_utf16_bom, k_nul_bytes, k_late_nul_and_controls, k_huge_line,
    k_nested_markdown, k_nested_html, k_broken_metadata, k_yaml_bomb, k_yaml_code, k_empty,
    k_delimiter_inside, k_markup_only, k_rst_broken, k_symlinks, k_unreadable, k_odd_names, k_non_utf8_name,
]
ONCE = {k_huge_line}  # the 20 MB file once is enough


def make_site(folder: Path, n_bad: int, n_good: int, seed: int = 0, timezone: str = "Asia/Tokyo",
              full: bool = False, kinds=None) -> Plan:
    """Write ``folder/pelicanconf.py`` and ``folder/content/`` and return what to expect."""
    rng = random.Random(seed)
    content = folder / "content"
    (content / "sub").mkdir(parents=True)
    (folder / "pelicanconf.py").write_text(
        f"PATH = 'content'\nTIMEZONE = {timezone!r}\nDEFAULT_LANG = 'en'\n", encoding="utf-8")
    plan = Plan(root=folder, pwned=folder / "PWNED")
    marker_n = 0

    def marker() -> str:
        nonlocal marker_n
        marker_n += 1
        return f"zqmarker{seed:03d}x{marker_n:05d}"

    def add(name, data, expect, reasons, kind):
        raw = name if isinstance(name, bytes) else name.encode("utf-8")
        path = os.path.join(os.fsencode(content), raw)
        entry = Entry(name=raw, expect=expect, reasons=set(reasons), kind=kind)
        if data is None:  # a good post under a hostile name
            entry.marker = marker()
            data = good_post(f"Odd name {marker_n}", entry.marker, rng)
        if data.startswith(b"@symlink:"):
            os.symlink(data[len(b"@symlink:"):], path)
        elif data.startswith(b"@chmod000:"):
            with open(path, "wb") as handle:
                handle.write(data[len(b"@chmod000:"):])
            os.chmod(path, 0)
        else:
            with open(path, "wb") as handle:
                handle.write(data)
        plan.entries.append(entry)

    made, i = 0, 0
    while made < n_bad:
        kind = (kinds or KINDS)[i % len(kinds or KINDS)]
        i += 1
        if kind in ONCE and any(e.kind == kind.__name__ for e in plan.entries):
            if all(k in ONCE for k in (kinds or KINDS)):
                break
            continue
        extra = {"pwned": plan.pwned} if kind is k_yaml_code else {}
        for name, data, expect, reasons in kind(rng, i, full, **extra):
            add(name, data, expect, reasons, kind.__name__)
            made += 1

    for n in range(n_good):
        fmt = ["md", "md", "md", "rst", "html"][n % 5]
        entry_marker = marker()
        sub = "sub/" if n % 3 == 0 else ""
        name = f"{sub}good-{n:03d}.{fmt}"
        data = good_post(f"Good post {n}", entry_marker, rng, fmt)
        if n % 7 == 1:
            data = data.replace(b"\n", b"\r\n")
        if n % 7 == 2:
            data = b"\xef\xbb\xbf" + data
        path = content / name
        path.write_bytes(data)
        plan.entries.append(Entry(name=name.encode(), expect=GOOD, marker=entry_marker, kind="good"))

    # A folder that links to itself, holding one good post: content/loops/again -> .
    # (a link back to content/ itself would make the walk exponential, in Pelican too).
    (content / "loops").mkdir()
    entry_marker = marker()
    (content / "loops" / "in-a-loop.md").write_bytes(good_post("In a loop", entry_marker, rng))
    plan.entries.append(Entry(name=b"loops/in-a-loop.md", expect=GOOD, marker=entry_marker, kind="loop"))
    os.symlink(".", content / "loops" / "again")
    plan.loops = ["loops/again"]
    return plan


def _setpriv() -> str | None:
    for folder in ("/usr/bin", "/bin", "/usr/sbin", "/sbin"):
        candidate = Path(folder) / "setpriv"
        if candidate.exists() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def drop_read_override_prefix() -> list[str]:
    """A command prefix that makes root obey file permissions (so mode 000 means unreadable)."""
    if os.geteuid() != 0:
        return []
    setpriv = _setpriv()
    if not setpriv:
        return []
    return [setpriv, "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search"]
