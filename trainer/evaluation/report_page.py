"""Render a ``trainer.evaluation.report.Report`` as one self-contained HTML page and its Markdown twin.

The HTML page has no external resources: the style is inline and the loss plot is a base64 PNG
``data:`` URI. Every piece of text that comes from a sample, the corpus or the run (titles,
bodies, paths) goes through Jinja2's autoescaping, so a sample holding ``<script>`` shows as text.
The Markdown twin (for terminals) puts samples and copied spans in fenced code blocks;
``report.json`` holds the same figures for scripts (``bench/quality_e2e.py``).
"""
from __future__ import annotations

import base64
import dataclasses
import json
import math
import os
import re
from pathlib import Path

from jinja2 import Environment, StrictUndefined

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


def _environment(autoescape: bool) -> Environment:
    env = Environment(autoescape=autoescape, undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(int=fmt_int, num=fmt_num, rate=fmt_rate, pct=fmt_pct, duration=fmt_duration, fence=fence,
                       cap=cap, md_escape=escape_body)
    return env


def _context(report) -> dict:
    png = base64.b64encode(report.loss_png).decode("ascii") if report.loss_png else None
    return {"r": report, "t": report.training, "p": report.perplexity, "m": report.memorisation,
            "ds": report.diversity_samples, "dp": report.diversity_posts, "loss_png_b64": png}


# --------------------------------------------------------------------------- templates
HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Training report: {{ r.run_name }}</title>
<style>
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; max-width: 56rem;
       margin: 2rem auto; padding: 0 1rem; }
h1, h2, h3 { line-height: 1.2; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 1rem 0; } th { white-space: nowrap; } td, th { padding: .25rem .75rem; text-align: left;
       border-bottom: 1px solid #eee; vertical-align: top; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { font-size: 1.15rem; padding: .75rem 1rem; background: #f4f7fb; border-left: 4px solid #4a78b5; }
.warnings li { margin: .4rem 0; } .warnings { background: #fff8e6; border-left: 4px solid #d9a400;
       padding: .5rem 1rem .5rem 2rem; }
.sample { border: 1px solid #ddd; border-radius: 6px; padding: .5rem 1rem; margin: 1rem 0; }
.sample .body, pre { white-space: pre-wrap; overflow-wrap: anywhere; }
.sample h3 { margin: .5rem 0; } .pass { color: #1b7f3b; } .reject { color: #b3261e; }
.sample ul { font-size: .9rem; color: #555; } pre { background: #f6f6f6; padding: .75rem; }
img { max-width: 100%; height: auto; } .muted { color: #666; font-size: .9rem; }
</style>
</head>
<body>
<h1>Training report: {{ r.run_name }}</h1>
<p class="muted">{{ r.run_dir }} · weights sha256 {{ r.model_identity.get("weights_sha256", "")[:12] }} · written {{ r.generated_at }}</p>

<p class="verdict">{% if p %}{{ p.verdict | cap }}.{% endif %}
 {{ m.gate_passed }} of {{ m.samples }} samples pass the quality gate;
 {{ m.copied }} copy {{ m.threshold }} or more tokens from the corpus.</p>

{% if r.warnings %}
<h2>Warnings</h2>
<ul class="warnings">
{% for w in r.warnings %}
  <li>{{ w }}</li>
{% endfor %}
</ul>
{% else %}
<p>No warnings: no sign of overfitting, the corpus is large enough and the run long enough.</p>
{% endif %}

<h2>Training</h2>
{% if loss_png_b64 %}
<img alt="Training and validation loss per step" src="data:image/png;base64,{{ loss_png_b64 }}">
{% else %}
<p>No loss curve: the run folder has neither metrics.jsonl nor loss.png.</p>
{% endif %}
<table>
<tr><th>base model</th><td>{{ "trained from scratch (" ~ (t.size or "?") ~ ")" if t.from_scratch else t.base_model }}</td></tr>
<tr><th>steps</th><td class="n">{{ t.steps | int }}</td></tr>
<tr><th>tokens seen</th><td class="n">{{ t.tokens_seen | int }}</td></tr>
<tr><th>time</th><td class="n">{{ t.time_s | duration }}</td></tr>
<tr><th>device, precision</th><td>{{ t.device }}, {{ t.precision }}</td></tr>
<tr><th>throughput</th><td class="n">{{ t.step_tokens_per_s | rate }} tokens/s while training, {{ t.tokens_per_s | rate }} tokens/s overall</td></tr>
<tr><th>batch × block</th><td class="n">{{ t.batch_size }} × {{ t.block_size }}{% if t.grad_accum and t.grad_accum > 1 %} × {{ t.grad_accum }} accumulated{% endif %}</td></tr>
<tr><th>final training loss</th><td class="n">{{ t.train_loss | num(3) }}</td></tr>
<tr><th>final validation loss</th><td class="n">{{ t.val_loss | num(3) }}</td></tr>
<tr><th>best validation loss</th><td class="n">{{ t.best_val_loss | num(3) }}{% if t.best_step is not none %} (step {{ t.best_step }}){% endif %}</td></tr>
<tr><th>corpus</th><td>{{ r.corpus_posts }} posts, {{ r.corpus_tokens | int }} tokens ({{ t.train_documents }} trained on, {{ t.val_documents }} held out) · {{ r.corpus_path }}</td></tr>
</table>

<h2>Held-out perplexity</h2>
{% if p %}
<p>Perplexity on the {{ p.documents }} post{{ 's' if p.documents != 1 }} held out from training ({{ p.tokens | int }} tokens): lower is better.</p>
<table>
<tr><th>fine-tuned model</th><td class="n">{{ p.fine_tuned | num }}</td></tr>
<tr><th>base model{% if p.base_model %} ({{ p.base_model }}){% endif %}</th><td class="n">{{ p.base | num }}</td></tr>
<tr><th>change</th><td class="n">{{ p.change_pct | pct }}</td></tr>
</table>
<p><strong>{{ p.verdict | cap }}.</strong>{% if p.base_note and p.base is not none %} <span class="muted">{{ p.base_note }}</span>{% endif %}</p>
{% endif %}
{% if r.held_out_note %}<p class="muted">{{ r.held_out_note }}</p>{% endif %}

<h2>Samples</h2>
<p>{{ r.gallery | length }} of {{ m.samples }} unconditional samples (seed {{ r.options.seed }}, up to {{ r.options.length }} tokens, {{ r.options.precision }}), each with the quality gate's verdicts.</p>
{% for s in r.gallery %}
<div class="sample">
<h3>{{ loop.index }}. {{ s.title }} <span class="{{ 'pass' if s.passed else 'reject' }}">{{ "passes the gate" if s.passed else "rejected: " ~ (s.rejected_by | join(", ")) }}</span></h3>
<div class="body">{{ s.body }}</div>
<ul>
{% for v in s.verdicts %}
  <li>{{ v }}</li>
{% endfor %}
</ul>
</div>
{% endfor %}

<h2>Memorisation and diversity</h2>
<p>Over {{ m.samples }} samples: {{ m.gate_passed }} pass the whole gate{% if m.rejections %} (rejections: {% for rule, count in m.rejections | dictsort %}{{ rule }} {{ count }}{{ ", " if not loop.last }}{% endfor %}){% endif %}.
{{ m.copied }} ({{ (m.share * 100) | pct }}) share a verbatim run of {{ m.threshold }} or more tokens with a post of the corpus.</p>
{% if m.longest %}
<p>The longest verbatim run is {{ m.longest.tokens }} tokens, in sample {{ m.longest.sample + 1 }}, copied from the post “{{ m.longest.source_title }}”:</p>
<pre>{{ m.longest.text }}</pre>
{% else %}
<p>No sample shares a run of {{ m.window }} tokens or more with the corpus.</p>
{% endif %}
<table>
<tr><th></th><th>samples</th><th>real posts</th></tr>
<tr><th>distinct-1 (unique words / words)</th><td class="n">{{ ds.distinct1 | num(3) }}</td><td class="n">{{ dp.distinct1 | num(3) }}</td></tr>
<tr><th>distinct-2 (unique word pairs / pairs)</th><td class="n">{{ ds.distinct2 | num(3) }}</td><td class="n">{{ dp.distinct2 | num(3) }}</td></tr>
<tr><th>rep-{{ ds.rep_n }} (repeated word {{ ds.rep_n }}-grams)</th><td class="n">{{ ds.rep | num(3) }}</td><td class="n">{{ dp.rep | num(3) }}</td></tr>
<tr><th>texts, mean words compared</th><td class="n">{{ ds.texts }}, {{ ds.words | num(0) }}</td><td class="n">{{ dp.texts }}, {{ dp.words | num(0) }}</td></tr>
</table>
<p class="muted">Each text is cut to its first {{ r.options.words_compared or "all" }} words (the samples' median length) so that samples and posts compare fairly.</p>

<p class="muted">Written by <code>trainer report</code> (seed {{ r.options.seed }}, {{ r.options.batch }} samples, gallery of {{ r.options.samples }}).</p>
</body>
</html>
"""

MARKDOWN = """# Training report: {{ r.run_name }}

{{ r.run_dir }} · weights sha256 {{ r.model_identity.get("weights_sha256", "")[:12] }} · written {{ r.generated_at }}

{% if p %}**{{ p.verdict | cap }}.** {% endif %}{{ m.gate_passed }} of {{ m.samples }} samples pass the quality gate; {{ m.copied }} copy {{ m.threshold }} or more tokens from the corpus.

## Warnings

{% for w in r.warnings %}
- {{ w }}
{% else %}
No warnings.
{% endfor %}

## Training

| figure | value |
|---|---|
| base model | {{ "trained from scratch (" ~ (t.size or "?") ~ ")" if t.from_scratch else t.base_model }} |
| steps | {{ t.steps | int }} |
| tokens seen | {{ t.tokens_seen | int }} |
| time | {{ t.time_s | duration }} |
| device, precision | {{ t.device }}, {{ t.precision }} |
| throughput | {{ t.step_tokens_per_s | rate }} tokens/s while training, {{ t.tokens_per_s | rate }} tokens/s overall |
| final training loss | {{ t.train_loss | num(3) }} |
| final validation loss | {{ t.val_loss | num(3) }} |
| best validation loss | {{ t.best_val_loss | num(3) }}{% if t.best_step is not none %} (step {{ t.best_step }}){% endif %} |
| corpus | {{ r.corpus_posts }} posts, {{ r.corpus_tokens | int }} tokens ({{ t.train_documents }} trained on, {{ t.val_documents }} held out) |

The loss curves are in report.html (and loss.png).

## Held-out perplexity

{% if p %}
On the {{ p.documents }} held-out post{{ 's' if p.documents != 1 }} ({{ p.tokens | int }} tokens): fine-tuned {{ p.fine_tuned | num }}, base {{ p.base | num }}{% if p.base_model %} ({{ p.base_model }}){% endif %}, change {{ p.change_pct | pct }}.

**{{ p.verdict | cap }}.**{% if p.base_note and p.base is not none %} {{ p.base_note }}{% endif %}


{% endif %}
{% if r.held_out_note %}
{{ r.held_out_note }}

{% endif %}
## Samples

{{ r.gallery | length }} of {{ m.samples }} unconditional samples (seed {{ r.options.seed }}, up to {{ r.options.length }} tokens, {{ r.options.precision }}).

{% for s in r.gallery %}
### {{ loop.index }}. {{ "passes the gate" if s.passed else "rejected: " ~ (s.rejected_by | join(", ")) }}

{{ (s.title ~ "\n\n" ~ s.body) | fence }}

{% for v in s.verdicts %}
- {{ v }}
{% endfor %}

{% endfor %}
## Memorisation and diversity

Over {{ m.samples }} samples: {{ m.gate_passed }} pass the whole gate{% if m.rejections %} (rejections: {% for rule, count in m.rejections | dictsort %}{{ rule }} {{ count }}{{ ", " if not loop.last }}{% endfor %}){% endif %}; {{ m.copied }} ({{ (m.share * 100) | pct }}) share a verbatim run of {{ m.threshold }} or more tokens with a post of the corpus.

{% if m.longest %}
The longest verbatim run is {{ m.longest.tokens }} tokens, in sample {{ m.longest.sample + 1 }}, copied from the post "{{ m.longest.source_title | md_escape }}":

{{ m.longest.text | fence }}
{% else %}
No sample shares a run of {{ m.window }} tokens or more with the corpus.
{% endif %}

| | samples | real posts |
|---|---|---|
| distinct-1 | {{ ds.distinct1 | num(3) }} | {{ dp.distinct1 | num(3) }} |
| distinct-2 | {{ ds.distinct2 | num(3) }} | {{ dp.distinct2 | num(3) }} |
| rep-{{ ds.rep_n }} | {{ ds.rep | num(3) }} | {{ dp.rep | num(3) }} |
| texts, mean words compared | {{ ds.texts }}, {{ ds.words | num(0) }} | {{ dp.texts }}, {{ dp.words | num(0) }} |

Each text is cut to its first {{ r.options.words_compared or "all" }} words (the samples' median length).
"""


def render_html(report) -> str:
    return _environment(autoescape=True).from_string(HTML).render(**_context(report))


def render_markdown(report) -> str:
    return _environment(autoescape=False).from_string(MARKDOWN).render(**_context(report))


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
