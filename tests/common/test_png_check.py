"""common.png_check: a PNG is published only when it parses, and then only its picture. Pillow (a
matplotlib dependency, not one of the plugin's) decodes what the check lets through, where installed."""
from __future__ import annotations

import io
import struct
import zlib

import pytest

from common.png_check import MAX_RAW_BYTES, SIGNATURE, checked_png


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def make_png(width=5, height=4, depth=8, colour=0, interlace=0, raw=None, before=(), after_idat=(), palette=None):
    """A PNG of grey 8-bit pixels (or ``raw`` image data), with ``before`` chunks ahead of IDAT."""
    if raw is None:
        if interlace:
            passes = [((width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy) for x0, y0, dx, dy in
                      ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))]
            raw = b"".join((b"\x00" + b"\x7f" * w) * h for w, h in passes if w and h)
        else:
            raw = (b"\x00" + b"\x7f" * width) * height
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    return (SIGNATURE + chunk(b"IHDR", header) + b"".join(chunk(k, d) for k, d in before)
            + (chunk(b"PLTE", palette) if palette else b"") + chunk(b"IDAT", zlib.compress(raw))
            + b"".join(chunk(k, d) for k, d in after_idat) + chunk(b"IEND", b""))


def pixels(data: bytes):
    image_module = pytest.importorskip("PIL.Image")
    with image_module.open(io.BytesIO(data)) as image:
        image.load()
        return image.mode, image.size, image.tobytes()


def test_a_matplotlib_plot_passes_with_its_pixels_and_without_its_text():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(3, 2))
    plt.plot([3.2, 2.9, 2.7, 2.6])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Comment": "secret"})
    plt.close(figure)
    original = buffer.getvalue()
    published = checked_png(original)
    assert b"secret" in original and b"secret" not in published and b"tEXt" not in published
    assert pixels(published) == pixels(original)


@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB", "RGBA", "LA", "I;16"])
def test_every_colour_type_and_bit_depth_pillow_writes_passes(mode):
    image_module = pytest.importorskip("PIL.Image")
    image = image_module.new(mode, (37, 23))
    image.putpixel((3, 4), 1)
    buffer = io.BytesIO()
    image.save(buffer, format="png", **({"transparency": 0} if mode in ("L", "P") else {"transparency": (0, 0, 0)} if mode == "RGB" else {}))
    assert pixels(checked_png(buffer.getvalue())) == pixels(buffer.getvalue())


@pytest.mark.parametrize("size", [(1, 1), (5, 4), (9, 9), (17, 3)])
def test_an_interlaced_png_passes(size):
    data = make_png(*size, interlace=1)
    assert checked_png(data) == data
    assert pixels(data)[1] == size


def test_only_the_picture_chunks_are_kept():
    data = make_png(before=[(b"tEXt", b"k\x00secret"), (b"iTXt", b"x"), (b"zTXt", b"y"), (b"eXIf", b"z"),
                            (b"tRNS", b"\x00\x00"), (b"prIv", b"private")], after_idat=[(b"tIME", b"1234567")])
    kept = checked_png(data)
    assert kept == make_png(before=[(b"tRNS", b"\x00\x00")])


def _bad(data: bytes) -> str:
    with pytest.raises(ValueError) as caught:
        checked_png(data)
    return str(caught.value)


@pytest.mark.parametrize("data, why", [
    (b"", "signature"),
    (b"GIF89a" + b"\0" * 40, "signature"),
    (SIGNATURE, "IHDR"),
    (make_png()[:-20], "cut short"),
    (make_png()[:30] + b"\xff" + make_png()[31:], "CRC"),
    (make_png(width=0), "size 0 x 4"),
    (make_png(width=1 << 15), "size"),
    (make_png(depth=3), "bit depth"),
    (make_png(colour=5), "colour type"),
    (make_png(colour=3), "palette"),
    (make_png(colour=0, palette=b"\0\0\0"), "palette"),
    (make_png(colour=2, palette=b"\0\0", raw=(b"\x00" + b"\x7f" * 15) * 4), "palette"),
    (make_png(raw=b"\x00" * 10), "holds other than"),
    (make_png(raw=(b"\x00" + b"\x7f" * 5) * 4 + b"extra"), "holds more than"),
    (make_png(raw=(b"\x05" + b"\x7f" * 5) * 4), "filter type 5"),
    (make_png(before=[(b"ABCD", b"")]), "critical chunk"),
    (make_png(before=[(b"IDAT", zlib.compress(b"x")), (b"tEXt", b"a\x00b")]), "not consecutive"),
    (make_png() + b"<script>", "after its IEND"),
    (make_png()[:-12], "does not end with one empty IEND"),
    (make_png(before=[(b"a1b2", b"")]), "bad length or type"),
], ids=["empty", "gif", "signature-only", "cut", "crc", "zero-width", "too-wide", "depth", "colour", "no-palette",
        "grey-palette", "short-palette", "short-data", "long-data", "filter", "unknown-critical", "split-idat",
        "after-iend", "no-iend", "bad-type"])
def test_what_is_not_a_png_says_why(data, why):
    assert why in _bad(data)


def test_a_decompression_bomb_is_refused_before_inflating():
    side = 16_000
    assert side * (1 + 8 * side) > MAX_RAW_BYTES
    header = struct.pack(">IIBBBBB", side, side, 16, 6, 0, 0, 0)
    bomb = (SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 1_000_000, 9))
            + chunk(b"IEND", b""))
    assert "too large" in _bad(bomb)
    # within the limit, but inflating to far more than the header promises: stops at the promise
    small = make_png(raw=b"\0" * 50_000_000)
    assert len(small) < 100_000 and "holds more than" in _bad(small)
