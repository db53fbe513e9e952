"""A small blog for the theme tests, and a function that builds it with the project's
pelicanconf.py, theme and plugin (writing no post: the generated post is a file of the blog)."""
from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from textwrap import dedent

from pelican import Pelican
from pelican.settings import read_settings

REPO = Path(__file__).resolve().parents[2]
PELICANCONF = REPO / "pelicanconf.py"

# A training run's train.json, as `trainer fit` writes it: the machine page shows these figures.
TRAIN_JSON = {
    "base_model": "gpt2",
    "steps": 1000,
    "tokens_seen": 4096000,
    "train_loss": 2.71828,
    "val_loss": 3.14159,
    "val_perplexity": 23.1407,
    "device": "NVIDIA H100 80GB HBM3",
    "time_s": 754.2,
    "trained_at": "2026-11-20T21:04:00+00:00",
    "documents": 16,
}

HUMAN_POSTS = 10  # more than DEFAULT_PAGINATION (8): the index needs a second page
GENERATED_TITLE = "The Barometer Dreams of Gulls"


def tiny_png(width: int = 4, height: int = 3) -> bytes:
    """A valid, grey RGB PNG, so the machine page has a real image to point at."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def model_folder(folder: Path, train: dict | None = TRAIN_JSON, plot: bool = True) -> Path:
    """A run folder as the plugin reads it for the machine page (config.json, train.json, loss.png);
    ``train=None``: no train.json yet."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text("{}", encoding="utf-8")
    if train is not None:
        (folder / "train.json").write_text(json.dumps(train), encoding="utf-8")
    if plot:
        (folder / "loss.png").write_bytes(tiny_png(320, 160))
    return folder


def human_post(n: int) -> str:
    category = "Station" if n % 2 else "Sky"
    return dedent(f"""\
        Title: Field note number {n}
        Date: 2025-{1 + n // 4:02d}-{1 + 2 * n:02d} 09:30
        Category: {category}
        Tags: wind, note-{n}
        Slug: field-note-{n}
        Summary: Short summary of field note {n}.

        The wind came from the sea again on day {n}.

        ## A table

        | Hour | Gust (m/s) |
        |------|-----------:|
        | 06   | {n + 3}.4  |
        | 12   | {n + 5}.1  |

        Some code:

            :::python
            def gust(speed):
                return max(speed)

        A claim that needs a source.[^src]

        [^src]: The roof, of course.
        """)


GENERATED_POST = dedent(f"""\
    Title: {GENERATED_TITLE}
    Date: 2025-06-01 06:00
    Category: Sky
    Tags: wind
    Slug: barometer-dreams
    Generated: true
    Model: demo
    Model_Sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    Seed: 42

    The pressure fell at four in the morning and the gulls were already awake.

    Nobody on the roof wrote this.
    """)

# Hidden posts are built but listed nowhere: their tag has no page, so nothing may link to it.
HIDDEN_POST = dedent("""\
    Title: A hidden note
    Date: 2024-07-01 12:00
    Category: Secrets
    Tags: only-here
    Slug: hidden-note
    Status: hidden

    Not in any list.
    """)

MACHINE_PAGE = dedent("""\
    Title: About the machine
    Template: machine
    Slug: machine

    A human-written introduction to the machine.
    """)


def build_site(content: Path, output: Path, **override) -> Path:
    """Build `content` with the project's pelicanconf.py, theme and plugin into `output`. The plugin
    writes no post (DAILY_POST_ENABLED = False), finds no model unless DAILY_POST_MODEL names one, and
    offers no "Write me a new post" unless DAILY_POST_BROWSER says so.
    `override` replaces settings."""
    settings = read_settings(
        str(PELICANCONF),
        override={
            "PATH": str(content),
            "OUTPUT_PATH": str(output),
            "CACHE_PATH": str(output.parent / (output.name + "-cache")),
            "DAILY_POST_ENABLED": False,
            "DAILY_POST_MODEL": str(output.parent / (output.name + "-no-model")),
            "DAILY_POST_BROWSER": False,  # test_write_browser.py turns it on, with an export
            "STATIC_PATHS": ["images"],
            "SITEURL": "",
            "RELATIVE_URLS": False,
            **override,
        },
    )
    Pelican(settings).run()
    return output
