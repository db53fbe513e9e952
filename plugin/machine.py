"""What the "About the machine" page shows: the model's training summary (``train.json``, read by
``generate.training_summary``), its loss plot and a link to its ``trainer report`` page. Reads
JSON only: no torch. ``describe`` returns None when there is no model yet; ``section`` is the
HTML the page's content ends with, in any theme (classes ``tpdne-machine*``, every value escaped).

A run folder is untrusted input (issue 14). Only regular files right in it are read, none larger
than its MAX_*_BYTES (``common.run_files``: no symbolic link, FIFO or folder). The loss plot is
published only when it parses as a PNG image, and then only its picture (``common.png_check``).
The report is never copied: the page published is regenerated from the run's ``report.json`` with
the project's autoescaped template (``trainer.evaluation.published_report`` says why). Each file
refused is one warning naming it and what to do; the page then goes without it.
"""
from __future__ import annotations

import logging
import posixpath
import re
from html import escape
from pathlib import Path

from common.errors import RunFolderError, one_line
from common.fileio import atomic_write_bytes
from common.png_check import checked_png
from common.run_files import read_run_file

from .generate import report_page, training_summary
from .settings import DailyPostSettings

logger = logging.getLogger(__name__)

SUMMARY_KEYS = ("base_model", "steps", "tokens_seen", "train_loss", "val_loss", "val_perplexity",
                "device", "time_s", "trained_at")
# The most the plugin reads of each run folder file (what `trainer` writes is far smaller: a
# train.json of a few KB, a loss plot of about 50 KB, a report.json of about 30 KB).
MAX_SUMMARY_BYTES = 1 << 20
MAX_PLOT_BYTES = 8 << 20
MAX_REPORT_BYTES = 8 << 20


def describe(settings: DailyPostSettings) -> dict | None:
    """The machine page's figures (``section`` prints them), or None when there is no model. A
    train.json that cannot be read is one warning (``copy_machine_files`` warns about the others:
    only a site that has the machine page hears about them)."""
    folder = settings.model_path
    if not (folder / "config.json").is_file():
        return None
    summary: dict = {}
    try:
        summary = training_summary(folder, MAX_SUMMARY_BYTES)
    except (RunFolderError, OSError) as err:
        logger.warning("daily post: %s; the machine page shows no training summary", one_line(err))
    machine = {"name": folder.name, "path": settings.model}
    machine.update({key: summary.get(key) for key in SUMMARY_KEYS})
    machine["corpus_documents"] = summary.get("documents")
    files = published_files(settings)
    machine["loss_plot"] = settings.machine_plot if settings.machine_plot in files else None
    machine["report_url"] = settings.machine_report if settings.machine_report in files else None
    return machine


def _loss_plot(folder: Path, warn: bool) -> bytes | None:
    """The run's loss.png as the site publishes it (``checked_png``), or None."""
    try:
        data = read_run_file(folder, "loss.png", MAX_PLOT_BYTES)
        return None if data is None else checked_png(data)
    except (RunFolderError, OSError) as err:
        why = one_line(err)
    except ValueError as err:
        why = (f"{folder / 'loss.png'} is not a valid PNG image ({err}): `trainer fit` draws it; "
               "replace or delete it")
    if warn:
        logger.warning("daily post: %s; the machine page shows no loss plot", why)
    return None


def _report(folder: Path, loss_png: bytes | None, warn: bool) -> bytes | None:
    """The report page the site publishes, regenerated from the run's report.json, or None."""
    why = None
    try:
        figures = read_run_file(folder, "report.json", MAX_REPORT_BYTES)
        if figures is not None:
            return report_page(figures, loss_png, folder / "report.json").encode("utf-8")
        if (folder / "report.html").exists():
            why = (f"{folder / 'report.html'} has no report.json beside it, and the site publishes the "
                   "report only as regenerated from it: run `trainer report` for this run again")
    except (RunFolderError, OSError, ValueError) as err:
        why = one_line(err)
    if why and warn:
        logger.warning("daily post: %s; the machine page links no training report", why)
    return None


def published_files(settings: DailyPostSettings, warn: bool = False) -> dict[str, bytes]:
    """What the machine page publishes from the run folder, by its place in the output
    (DAILY_POST_MACHINE_PLOT, DAILY_POST_MACHINE_REPORT; a setting of "" publishes nothing):
    the checked loss plot and the regenerated report. ``warn``: say why a file is left out."""
    folder = settings.model_path
    if not (settings.machine_plot or settings.machine_report):
        return {}
    plot = _loss_plot(folder, warn)
    files = {}
    if settings.machine_plot and plot is not None:
        files[settings.machine_plot] = plot
    report = _report(folder, plot, warn) if settings.machine_report else None
    if report is not None:
        files[settings.machine_report] = report
    return files


def copy_machine_files(settings: DailyPostSettings, output_path: str | Path) -> list[Path]:
    """Write the loss plot and the report page (``published_files``) into the output, atomically,
    where they are not there already; one warning for each file of the run folder left out."""
    written = []
    for where, data in published_files(settings, warn=True).items():
        target = Path(output_path) / where
        if not (target.is_file() and not target.is_symlink() and target.read_bytes() == data):
            atomic_write_bytes(target, data)
        written.append(target)
    return written


def _figure(value, fmt: str = "{}") -> str:
    if value is None or value == "":
        return "—"
    return fmt.format(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def _duration(seconds) -> str:
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        return _figure(seconds)
    for size, unit in ((3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.1f} s"


def _when(value) -> str:
    """"2026-11-20T21:04:00+00:00" -> "2026-11-20 21:04 UTC"; anything else as given."""
    if isinstance(value, str) and len(value) >= 16 and value[10] == "T":
        utc = value.endswith(("+00:00", "Z"))
        return f"{value[:10]} {value[11:16]}" + (" UTC" if utc else "")
    return _figure(value)


def link_from(target: str, page_save_as: str) -> str:
    """A link to ``target`` (a path in the output, or a URL) from the page written at ``page_save_as``:
    relative, so it works under any SITEURL, RELATIVE_URLS or file://."""
    if target.startswith(("http://", "https://", "/")):
        return target
    link = posixpath.relpath(target or ".", posixpath.dirname(page_save_as) or ".")
    return link + "/" if target.endswith("/") and not link.endswith("/") else link  # "{slug}/" URLs


NOT_TRAINED = """<div class="tpdne-not-trained">
<p><strong>No model has been trained for this site yet</strong>, so no post here was written by a machine.</p>
<p>To train one, build the corpus from the site's posts and fine-tune a model on it (in this project's
checkout: <code>make corpus</code>, then <code>make train</code>):</p>
<pre><code>corpus-builder -o data/corpus.txt
trainer fit --steps 1000</code></pre>
<p>Point <code>DAILY_POST_MODEL</code> at the run (<code>models/blog</code>): every build then publishes one
machine-written post a day.</p>
</div>"""


MACHINE_PAGE = "_daily_post_machine_page"  # set on each "About the machine" page object
BEST_OF_LINK = re.compile(r'\n?<p class="tpdne-best-of-link">.*?</p>', re.DOTALL)


def section(machine: dict | None, page_save_as: str, best_of: str = "") -> str:
    """The machine page's section: the training summary, loss plot and report link of ``machine``
    (``describe``'s dict), or how to train a model when there is none; with a model, a link to the
    "Best of the machine" page at ``best_of`` (a path in the output; "" for none)."""
    parts = ['<section class="tpdne-machine" aria-labelledby="tpdne-machine-heading">',
             '<h2 id="tpdne-machine-heading">The model behind the machine-written posts</h2>']
    if not machine:
        return "\n".join(parts + [NOT_TRAINED, "</section>"])
    name = escape(str(machine.get("name") or ""))
    rows = [("Model", _figure(machine.get("name"))),
            ("Fine-tuned from", _figure(machine.get("base_model"))),
            ("Training steps", _figure(machine.get("steps"), "{:,}")),
            ("Tokens seen", _figure(machine.get("tokens_seen"), "{:,}")),
            ("Posts in the corpus", _figure(machine.get("corpus_documents"), "{:,}")),
            ("Training loss", _figure(machine.get("train_loss"), "{:.3f}")),
            ("Validation loss", _figure(machine.get("val_loss"), "{:.3f}")),
            ("Validation perplexity", _figure(machine.get("val_perplexity"), "{:.1f}")),
            ("Trained on", _figure(machine.get("device"))),
            ("Training time", _duration(machine.get("time_s"))),
            ("Trained at", _when(machine.get("trained_at")))]
    caption = "Training summary" + (f" for <code>{name}</code>" if name else "")
    parts.append(f'<table class="tpdne-machine-table"><caption>{caption}</caption><tbody>')
    parts += [f'<tr><th scope="row">{label}</th><td>{escape(value)}</td></tr>' for label, value in rows]
    parts.append("</tbody></table>")
    if machine.get("loss_plot"):
        src = escape(link_from(str(machine["loss_plot"]), page_save_as))
        parts.append(f'<figure class="tpdne-loss-plot"><img src="{src}" alt="Training and validation loss of '
                     f'{name or "the model"}, by step" loading="lazy"><figcaption>Loss by training step: lower '
                     "means the model predicts this blog\u2019s text better. Validation loss is measured on "
                     "posts held out from training.</figcaption></figure>")
    if machine.get("report_url"):
        href = escape(link_from(str(machine["report_url"]), page_save_as))
        parts.append(f'<p class="tpdne-report"><a href="{href}">The full training report</a></p>')
    if best_of:
        href = escape(link_from(best_of, page_save_as))
        parts.append(f'<p class="tpdne-best-of-link"><a href="{href}">Best of the machine</a>: the posts the '
                     "site's owner starred</p>")
    return "\n".join(parts + ["</section>"])
