"""Whether bytes are a PNG image, decided by parsing them (PNG specification, 2nd ed.), with the
standard library only: an imaging library is not a dependency of the plugin. ``checked_png``
returns the image the site may publish, or raises ``ValueError`` with the reason.

Checked: the signature; every chunk's length, type and CRC-32; IHDR first, with a valid size,
bit depth and colour type; PLTE where the colour type needs it and before the image data; one run
of IDAT chunks; IEND last, with nothing after it; no critical chunk this parser does not know. The
image data is inflated (never more than the image can hold: no decompression bomb) and must be
exactly the scanlines the header promises, each with a valid filter type.

The image published is rebuilt from the chunks that make the picture (IHDR, PLTE, tRNS, IDAT,
IEND): text, time, colour-profile and private chunks are left out, so nothing but pixels goes out
(a tEXt chunk can hold anything, a path or a secret).
"""
from __future__ import annotations

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEPT = (b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND")
MAX_SIDE = 1 << 14  # 16,384 pixels: far more than a loss plot needs
MAX_RAW_BYTES = 64 << 20  # the inflated image data; a 4000 x 3000 RGBA plot is 48 MB
# Bit depths allowed for each colour type, and its samples per pixel.
_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
_SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# Adam7: (first column, first row, column step, row step) of each of the seven passes.
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def _chunks(data: bytes):
    """(type, body) of each chunk, CRC checked; ValueError at the first broken one."""
    pos = len(SIGNATURE)
    while pos < len(data):
        if pos + 12 > len(data):
            raise ValueError("it ends inside a chunk header")
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if length > 0x7FFFFFFF or not kind.isalpha() or not kind.isascii():
            raise ValueError(f"a chunk at byte {pos} has a bad length or type")
        end = pos + 8 + length
        if end + 4 > len(data):
            raise ValueError(f"its {kind.decode()} chunk is cut short")
        body = data[pos + 8:end]
        if struct.unpack(">I", data[end:end + 4])[0] != zlib.crc32(kind + body):
            raise ValueError(f"its {kind.decode()} chunk fails its CRC check")
        yield kind, body
        pos = end + 4
        if kind == b"IEND" and pos < len(data):
            raise ValueError("it has data after its IEND chunk")


def _scanlines(width: int, height: int, interlace: int, bits_per_pixel: int) -> list[tuple[int, int]]:
    """(rows, bytes per row without the filter byte) of each (sub-)image the data holds."""
    if not interlace:
        return [(height, (width * bits_per_pixel + 7) // 8)]
    passes = []
    for x0, y0, dx, dy in _ADAM7:
        columns, rows = (width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy
        if columns > 0 and rows > 0:
            passes.append((rows, (columns * bits_per_pixel + 7) // 8))
    return passes


def _check_pixels(idat: bytes, lines: list[tuple[int, int]]) -> None:
    expected = sum(rows * (1 + size) for rows, size in lines)
    if expected > MAX_RAW_BYTES:
        raise ValueError(f"its image is too large ({expected:,} bytes of pixels)")
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(idat, expected + 1)
    except zlib.error as err:
        raise ValueError(f"its image data is not valid zlib data ({err})") from None
    if len(raw) != expected or not inflater.eof or inflater.unused_data:
        raise ValueError(f"its image data holds {'more' if len(raw) > expected else 'other'} than the "
                         f"{expected:,} bytes its header promises")
    pos = 0
    for rows, size in lines:
        for _ in range(rows):
            if raw[pos] > 4:
                raise ValueError(f"a scanline has filter type {raw[pos]} (0-4 exist)")
            pos += 1 + size


def checked_png(data: bytes) -> bytes:
    """``data`` as the PNG the site publishes (the picture's chunks only), or ``ValueError`` saying
    why it is not a PNG image."""
    if not data.startswith(SIGNATURE):
        raise ValueError("it does not start with the PNG signature")
    chunks = list(_chunks(data))
    if not chunks or chunks[0][0] != b"IHDR" or len(chunks[0][1]) != 13:
        raise ValueError("it does not start with an IHDR chunk of 13 bytes")
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise ValueError(f"its size {width} x {height} is not between 1 and {MAX_SIDE} pixels a side")
    if depth not in _DEPTHS.get(colour, ()) or compression or filtering or interlace > 1:
        raise ValueError("its IHDR chunk has an invalid colour type, bit depth or method")
    kinds = [kind for kind, _ in chunks]
    if kinds[-1] != b"IEND" or chunks[-1][1] or kinds.count(b"IEND") != 1 or kinds.count(b"IHDR") != 1:
        raise ValueError("it does not end with one empty IEND chunk")
    unknown = {kind for kind in kinds if kind[:1].isupper() and kind not in KEPT}
    if unknown:
        raise ValueError(f"it has a critical chunk this check does not know ({b', '.join(sorted(unknown)).decode()})")
    first = kinds.index(b"IDAT") if b"IDAT" in kinds else -1
    run = [i for i, kind in enumerate(kinds) if kind == b"IDAT"]
    if first < 0 or run != list(range(first, first + len(run))):
        raise ValueError("its IDAT chunks are missing or not consecutive")
    palette = kinds.count(b"PLTE")
    if (palette > 1 or b"PLTE" in kinds[first:] or (colour == 3 and not palette)
            or (colour in (0, 4) and palette)):
        raise ValueError("its palette (PLTE) is missing, misplaced or not allowed for its colour type")
    for kind, body in chunks:
        if kind == b"PLTE" and (not body or len(body) % 3 or len(body) > 3 * 256):
            raise ValueError("its palette (PLTE) has a bad length")
    idat = b"".join(body for kind, body in chunks if kind == b"IDAT")
    _check_pixels(idat, _scanlines(width, height, interlace, depth * _SAMPLES[colour]))
    kept = [(kind, body) for kind, body in chunks
            if kind in KEPT and not (kind == b"tRNS" and colour in (4, 6))]  # alpha images have no tRNS
    return SIGNATURE + b"".join(struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
                                for kind, body in kept)
