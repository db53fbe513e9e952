"""What the "About the machine" page shows: the model's training summary (``train.json``, read by
``generate.training_summary``), its loss plot and a link to its ``trainer report`` page. Reads
JSON only: no torch. ``describe`` returns None when there is no model yet; ``section`` is the
HTML the page's content ends with, in any theme (classes ``tpdne-machine*``, every value escaped)."""
from __future__ import annotations

import logging
import posixpath
from html import escape
from pathlib import Path

from common.errors import RunFolderError
from common.fileio import atomic_write_bytes

from .generate import training_summary
from .settings import DailyPostSettings

logger = logging.getLogger(__name__)

SUMMARY_KEYS = ("base_model", "steps", "tokens_seen", "train_loss", "val_loss", "val_perplexity",
                "device", "time_s", "trained_at")


def describe(settings: DailyPostSettings) -> dict | None:
    folder = settings.model_path
    if not (folder / "config.json").is_file():
        return None
    summary: dict = {}
    if (folder / "train.json").is_file():
        try:
            summary = training_summary(folder)
        except RunFolderError as err:
            logger.warning("daily post: %s; the machine page shows no training summary", err)
    machine = {"name": folder.name, "path": settings.model}
    machine.update({key: summary.get(key) for key in SUMMARY_KEYS})
    machine["corpus_documents"] = summary.get("documents")
    for key, (name, where) in _machine_files(settings).items():
        machine[key] = where if where and (folder / name).is_file() else None
    return machine


def _machine_files(settings: DailyPostSettings) -> dict[str, tuple[str, str]]:
    """The model's files the machine page shows: its context key, the file's name in the model
    folder, and where it goes in the output (DAILY_POST_MACHINE_PLOT / _REPORT; "" for nowhere)."""
    return {"loss_plot": ("loss.png", settings.machine_plot),
            "report_url": ("report.html", settings.machine_report)}


def copy_machine_files(settings: DailyPostSettings, output_path: str | Path) -> list[Path]:
    """Copy the model's loss.png and report.html (from `trainer report`) into the output, at
    DAILY_POST_MACHINE_PLOT and DAILY_POST_MACHINE_REPORT, when they exist."""
    copied = []
    for name, where in _machine_files(settings).values():
        source = settings.model_path / name
        if not where or not source.is_file():
            continue
        target = Path(output_path) / where
        data = source.read_bytes()
        if not (target.is_file() and target.read_bytes() == data):
            atomic_write_bytes(target, data)
        copied.append(target)
    return copied


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


def _link(target: str, page_save_as: str) -> str:
    """A link to ``target`` (a path in the output, or a URL) from the page written at ``page_save_as``:
    relative, so it works under any SITEURL, RELATIVE_URLS or file://."""
    if target.startswith(("http://", "https://", "/")):
        return target
    return posixpath.relpath(target, posixpath.dirname(page_save_as) or ".")


NOT_TRAINED = """<div class="tpdne-not-trained">
<p><strong>No model has been trained for this site yet</strong>, so no post here was written by a machine.</p>
<p>To train one, build the corpus from the site's posts and fine-tune a model on it (in this project's
checkout: <code>make corpus</code>, then <code>make train</code>):</p>
<pre><code>corpus-builder -o data/corpus.txt
trainer fit --steps 1000</code></pre>
<p>Point <code>DAILY_POST_MODEL</code> at the run (<code>models/blog</code>): every build then publishes one
machine-written post a day.</p>
</div>"""


def section(machine: dict | None, page_save_as: str) -> str:
    """The machine page's section: the training summary, loss plot and report link of ``machine``
    (``describe``'s dict), or how to train a model when there is none."""
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
        src = escape(_link(str(machine["loss_plot"]), page_save_as))
        parts.append(f'<figure class="tpdne-loss-plot"><img src="{src}" alt="Training and validation loss of '
                     f'{name or "the model"}, by step" loading="lazy"><figcaption>Loss by training step: lower '
                     "means the model predicts this blog\u2019s text better. Validation loss is measured on "
                     "posts held out from training.</figcaption></figure>")
    if machine.get("report_url"):
        href = escape(_link(str(machine["report_url"]), page_save_as))
        parts.append(f'<p class="tpdne-report"><a href="{href}">The full training report</a></p>')
    return "\n".join(parts + ["</section>"])
