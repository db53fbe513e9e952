"""The one script a built site may hold: the plugin's own "show me another" script.

Tests that check a built site runs no script (hostile model output, a site that needs nothing from
the network) use ``foreign_scripts``: every ``<script>`` element of a page except the plugin's own
tag, which is exactly ``<script src="<relative path>/another.js" defer></script>``, empty, whose
path from the page leads to a file in the output that is byte for byte the plugin's script.
"""
from __future__ import annotations

import posixpath
from importlib import resources
from pathlib import Path

SCRIPT = resources.files("pelican.plugins.this_post_does_not_exist").joinpath("static", "another.js").read_bytes()


def is_plugin_script(tag, page: Path, output: Path) -> bool:
    src = tag.get("src") or ""
    if set(tag.attrs) != {"src", "defer"} or tag.get_text() != "" or ":" in src or src.startswith("/"):
        return False
    if not src.endswith("/another.js") and src != "another.js":
        return False
    target = posixpath.normpath(posixpath.join(page.parent.relative_to(output).as_posix(), src))
    if target.startswith(".."):
        return False
    path = output / target
    return path.is_file() and path.read_bytes() == SCRIPT


def foreign_scripts(soup, page: Path, output: Path) -> list:
    """The ``<script>`` elements of ``soup`` (the page at ``page`` in ``output``) that are not the plugin's."""
    return [tag for tag in soup.find_all("script") if not is_plugin_script(tag, page, output)]
