"""The training report a site publishes ("About the machine" links it): ``report.html``
regenerated from the run's ``report.json`` with the project's own template, never the run
folder's ``report.html`` as it is. Torch-free (the plugin calls it on every build).

Why regenerate rather than sanitise: a run folder is untrusted input, and its ``report.html`` is
whatever someone put there (one with a live ``<script>`` was published verbatim). Sanitising that
HTML with an allowlist would keep the attacker's markup and trust a parser (``html.parser``) to
read it as a browser does, with ``<style>`` sheets and ``url()`` to police as well. Regenerating
keeps nothing of it: ``report.json`` is parsed as JSON, each value is checked against the type the
``Report`` dataclasses declare (``report_from_figures``; a string where a number belongs is no
report), and the page is rendered by ``report_page.render_html``: ``templates/report.html.j2``,
autoescaped, with an inline style and no external resource. The loss plot it embeds is the run's
``loss.png`` after ``common.png_check``. The cost: a ``report.html`` without its ``report.json``
(a report written elsewhere with ``--out``, or by an older ``trainer report``) is not published.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import types
import typing

from jinja2 import TemplateError

from common.errors import RunFolderError, first_line
from common.text_rules import remove_unsafe
from trainer.evaluation.report import Report
from trainer.evaluation.report_page import render_html


class _Mismatch(ValueError):
    """A value of report.json that is not of the type its Report field declares."""


def published_page(figures: bytes, loss_png: bytes | None, source: str | os.PathLike) -> str:
    """The page, from ``report.json``'s bytes (read from ``source``) and the checked loss plot;
    RunFolderError, one line naming ``source`` and what to do, when they are no ``trainer report``'s."""
    redo = "run `trainer report` again to rewrite it"
    try:
        data = json.loads(figures.decode("utf-8"))
    except (ValueError, RecursionError) as err:
        raise RunFolderError(f"{source} is not JSON ({first_line(err, 120)}): {redo}") from None
    try:
        report = report_from_figures(data, loss_png)
    except RecursionError:
        raise RunFolderError(f"{source} is nested too deeply for a `trainer report`'s figures: {redo}") from None
    except _Mismatch as err:
        raise RunFolderError(f"{source} is not a `trainer report`'s figures ({err}): {redo}") from None
    try:
        return render_html(report)
    except (TemplateError, TypeError, ValueError, AttributeError, LookupError, ArithmeticError,
            RecursionError) as err:
        raise RunFolderError(f"{source} has figures the report cannot show ({first_line(err, 120)}): {redo}") from None


def report_from_figures(data: object, loss_png: bytes | None = None) -> Report:
    """The ``Report`` that ``report_page.report_figures`` turned into ``data`` (all but its plot,
    which is ``loss_png``): _Mismatch (a ValueError) at the first value of the wrong type."""
    return _dataclass(Report, data, "report", given={"loss_png": loss_png})


def _dataclass(cls, value, where: str, given: dict | None = None):
    if not isinstance(value, dict):
        raise _Mismatch(f"{where} is not an object")
    hints = typing.get_type_hints(cls)
    values = dict(given or {})
    for field in dataclasses.fields(cls):
        if field.name in values:
            continue
        if field.name not in value:
            if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                raise _Mismatch(f"{where}.{field.name} is missing")
            continue
        values[field.name] = _typed(hints[field.name], value[field.name], f"{where}.{field.name}")
    return cls(**values)


def _typed(kind, value, where: str):
    """``value`` (decoded JSON) as ``kind`` (a field's type), its texts cleaned of what no
    published text may hold; _Mismatch when it is not of that type."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        [kind] = [arg for arg in args if arg is not type(None)]
        return _typed(kind, value, where)
    if dataclasses.is_dataclass(kind):
        return _dataclass(kind, value, where)
    if origin is list or kind is list:
        if not isinstance(value, list):
            raise _Mismatch(f"{where} is not a list")
        item = args[0] if args else typing.Any
        return [_typed(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict or kind is dict:
        if not isinstance(value, dict):
            raise _Mismatch(f"{where} is not an object")
        item = args[1] if args else typing.Any
        return {remove_unsafe(k): _typed(item, v, f"{where}.{k[:40]}") for k, v in value.items()}
    if kind is typing.Any:  # a free-form figure (training, options): any JSON, its texts cleaned
        if isinstance(value, (list, dict)):
            return _typed(type(value), value, where)
        return remove_unsafe(value) if isinstance(value, str) else value
    if kind is float:
        if value is None:  # report_figures wrote NaN and infinities as null
            return math.nan
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                return float(value)
            except OverflowError:
                raise _Mismatch(f"{where} is too large a number") from None
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind is str:
        if isinstance(value, str):
            return remove_unsafe(value)
    elif kind is bool:
        if isinstance(value, bool):
            return value
    raise _Mismatch(f"{where} is not {getattr(kind, '__name__', kind)}")
