"""Find broken internal links in a built site: pure Python over the output folder, no browser."""
from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

# (tag, attribute) pairs that point at another file of the site.
LINK_ATTRS = {
    ("a", "href"),
    ("link", "href"),
    ("img", "src"),
    ("script", "src"),
    ("source", "src"),
    ("iframe", "src"),
    ("video", "src"),
    ("audio", "src"),
}


@dataclass(frozen=True)
class BrokenLink:
    page: str  # the page holding the link, relative to the output folder
    target: str  # the href/src as written
    reason: str

    def __str__(self) -> str:
        return f"{self.page}: {self.target} ({self.reason})"


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)
            if (tag, name) in LINK_ATTRS and value is not None:
                self.links.append(value)


def _parse(path: Path) -> _Collector:
    collector = _Collector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector


def _is_external(url: str, siteurl: str) -> bool:
    if siteurl and url.startswith(siteurl):
        return False
    parts = urlsplit(url)
    return bool(parts.scheme) or url.startswith("//")


def _resolve(output: Path, page: Path, url: str, siteurl: str) -> Path:
    if siteurl and url.startswith(siteurl):
        url = url[len(siteurl):] or "/"
    path = unquote(urlsplit(url).path)
    if path.startswith("/"):
        target = output / path.lstrip("/")
    elif path == "":
        target = page
    else:
        target = page.parent / path
    if path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target


def find_broken_links(output: Path | str, siteurl: str = "") -> list[BrokenLink]:
    """Every internal href/src in every HTML file under `output` whose target file (or #fragment
    inside an HTML target) does not exist. External URLs (http:, mailto:, data:, //host) are skipped."""
    output = Path(output).resolve()
    parsed: dict[Path, _Collector] = {}

    def get(path: Path) -> _Collector:
        if path not in parsed:
            parsed[path] = _parse(path)
        return parsed[path]

    broken: list[BrokenLink] = []
    for page in sorted(output.rglob("*.html")):
        rel = page.relative_to(output).as_posix()
        for url in get(page).links:
            url = url.strip()
            if not url:
                broken.append(BrokenLink(rel, url, "empty link"))
                continue
            if _is_external(url, siteurl):
                continue
            if "{" in url:  # e.g. an unresolved {filename} link left by Pelican
                broken.append(BrokenLink(rel, url, "unresolved Pelican link"))
                continue
            target = _resolve(output, page, url, siteurl).resolve()
            if output not in target.parents and target != output:
                broken.append(BrokenLink(rel, url, "points outside the site"))
            elif not target.is_file():
                broken.append(BrokenLink(rel, url, "no such file"))
            else:
                fragment = unquote(urlsplit(url).fragment)
                if fragment and target.suffix == ".html" and fragment not in get(target).ids:
                    broken.append(BrokenLink(rel, url, f"no element with id {fragment!r}"))
    return broken


def count_internal_links(output: Path | str, siteurl: str = "") -> int:
    """How many internal links the crawl followed (so a test can prove it crawled something)."""
    total = 0
    for page in Path(output).rglob("*.html"):
        total += sum(1 for url in _parse(page).links if url.strip() and not _is_external(url, siteurl))
    return total
