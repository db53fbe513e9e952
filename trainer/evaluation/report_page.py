"""Render a ``trainer.evaluation.report.Report`` as one self-contained HTML page, its Markdown
twin and its figures as JSON (``write_report`` writes all three).

The templates are package data: ``templates/report.html.j2`` and ``templates/report.md.j2``. The
HTML page has no external resources: the style is inline and the loss plot is a base64 PNG
``data:`` URI. Every piece of text that comes from a sample, the corpus or the run (titles,
bodies, paths) goes through Jinja2's autoescaping, so a sample holding ``<script>`` shows as text.
The Markdown twin (for terminals) puts samples and copied spans in fenced code blocks and escapes
a post title quoted in its prose with ``common.post_file.escape_body`` (the ``md_escape`` filter);
``report.json`` holds the same figures for scripts (``bench/quality_e2e.py``).
"""
from __future__ import annotations

import base64
import dataclasses
import json
import math
import os
import re
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from common.fileio import atomic_write_text
from common.post_file import escape_body


# --------------------------------------------------------------------------- formatting
def fmt_int(value) -> str:
    return "–" if value is None else f"{int(value):,}"


def fmt_num(value, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not math.isfinite(value):
        return "∞" if value > 0 else "–"
    return f"{value:,.{digits}f}"


def fmt_rate(value) -> str:
    """A rate with as many decimals as it needs to be readable (0.3, 12.5, 1,234)."""
    if value is None:
        return "–"
    return fmt_num(value, 1 if value < 100 else 0)


def fmt_pct(value, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f} %"


def fmt_share(value) -> str:
    """A share (0.25) as a whole percentage ("25"); TypeError for anything but a number (the
    template never multiplies a value itself: ``100 * "x"`` would be a string 100 times as long)."""
    if value is None:
        return "–"
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TypeError(f"a share must be a number, not {type(value).__name__}")
    return f"{100 * value:.0f}"


def fmt_duration(seconds) -> str:
    if seconds is None:
        return "–"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def cap(text: str) -> str:
    """The first letter in upper case, the rest untouched (Jinja's ``capitalize`` lowers it)."""
    return text[:1].upper() + text[1:]


def fence(text: str) -> str:
    """``text`` in a Markdown code fence longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}text\n{text}\n{ticks}"


# --------------------------------------------------------------------------- rendering
@lru_cache(maxsize=1)
def _environment() -> Environment:
    """The templates of ``templates/`` (package data): ``*.html.j2`` autoescaped, ``*.md.j2`` not."""
    env = Environment(loader=PackageLoader("trainer.evaluation", "templates"),
                      autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters.update(int=fmt_int, num=fmt_num, rate=fmt_rate, pct=fmt_pct, share=fmt_share, duration=fmt_duration,
                       fence=fence, cap=cap, md_escape=escape_body)
    return env


def _render(template: str, report) -> str:
    png = base64.b64encode(report.loss_png).decode("ascii") if report.loss_png else None
    return _environment().get_template(template).render(
        r=report, t=report.training, p=report.perplexity, m=report.memorisation,
        ds=report.diversity_samples, dp=report.diversity_posts, loss_png_b64=png)


def render_html(report) -> str:
    """``report.html``: the page, every text from a sample, the corpus or the run escaped."""
    return _render("report.html.j2", report)


def render_markdown(report) -> str:
    """``report.md``: the same figures in Markdown."""
    return _render("report.md.j2", report)


def report_figures(report) -> dict:
    """The report's figures as plain JSON data (``report.json``), samples included."""
    data = dataclasses.asdict(report)
    data.pop("loss_png")
    return _finite(data)


def _finite(value):
    """NaN and infinities become None, so ``report.json`` is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def write_report(report, out: str | os.PathLike | None = None) -> tuple[Path, Path, Path]:
    """Write ``report.html`` (default: in the run folder), its Markdown twin ``.md`` and the
    figures as ``.json`` beside it. Returns the three paths: HTML, Markdown, JSON."""
    html_path = Path(out) if out else Path(report.run_dir) / "report.html"
    if html_path.is_dir():
        html_path = html_path / "report.html"
    md_path, json_path = html_path.with_suffix(".md"), html_path.with_suffix(".json")
    atomic_write_text(html_path, render_html(report))
    atomic_write_text(md_path, render_markdown(report))
    atomic_write_text(json_path, json.dumps(report_figures(report), indent=2, ensure_ascii=False,
                                            default=str) + "\n")
    return html_path, md_path, json_path
