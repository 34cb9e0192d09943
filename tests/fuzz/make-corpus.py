#!/usr/bin/python3
"""make-corpus.py - writes the seed corpora of the fuzz targets into
tests/fuzz/corpus/<target>/ (run once; the outputs are committed).  PNG
seeds cover each colour type, bit depth, interlacing, tRNS and a damaged
file; each starts with one byte choosing the conversion (keep, gray, rgb).
Never writes anywhere else."""
import os
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png(width, height, depth, color, rows, extra=b""):
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    raw = b"".join(b"\x00" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def adam7(width, height, pixels):
    """Rows of an 8-bit gray image as the interlaced IDAT expects them:
    each of the 7 passes' sub-image, each row with filter byte 0."""
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
              (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    raw = b""
    for x0, y0, dx, dy in passes:
        for y in range(y0, height, dy):
            row = bytes(pixels[y][x] for x in range(x0, width, dx))
            if row:
                raw += b"\x00" + row
    return raw


def png_interlaced(width, height, pixels):
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 1)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
            chunk(b"IDAT", zlib.compress(adam7(width, height, pixels))) + chunk(b"IEND", b""))


def write(target, name, data):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def pngs():
    w, h = 7, 5
    gray8 = [bytes((x * 37 + y * 11) & 255 for x in range(w)) for y in range(h)]
    rgb8 = [bytes((x * 3 + c * 50 + y) & 255 for x in range(w) for c in range(3)) for y in range(h)]
    rgba16 = [bytes((x + c + y * 7) & 255 for x in range(w) for c in range(8)) for y in range(h)]
    gray1 = [bytes([0b10110010]) for _ in range(h)]
    pal = [bytes(x % 3 for x in range(w)) for _ in range(h)]
    plte = chunk(b"PLTE", bytes([255, 0, 0, 0, 255, 0, 0, 0, 255]))
    trns = chunk(b"tRNS", bytes([0, 128, 255]))
    gray_alpha8 = [bytes((x * 9 + c) & 255 for x in range(w) for c in range(2)) for _ in range(h)]
    seeds = {
        "gray8.png": png(w, h, 8, 0, gray8),
        "rgb8.png": png(w, h, 8, 2, rgb8),
        "rgba16.png": png(w, h, 16, 6, rgba16),
        "gray1.png": png(8, h, 1, 0, gray1),
        "palette-trns.png": png(w, h, 8, 3, pal, extra=plte + trns),
        "gray-alpha8.png": png(w, h, 8, 4, gray_alpha8),
        "interlaced.png": png_interlaced(w, h, gray8),
    }
    damaged = bytearray(seeds["rgb8.png"])
    damaged[-20] ^= 0xFF
    seeds["damaged-idat.png"] = bytes(damaged)
    seeds["truncated.png"] = seeds["gray8.png"][:40]
    for convert in range(3):
        for name, data in seeds.items():
            write("png", "%d-%s" % (convert, name), bytes([convert]) + data)


def mix64(z):
    m = (1 << 64) - 1
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
    return z ^ (z >> 31)


def journals(header_line, key_id):
    """Journals for the fuzz target's fixed command (fuzz_journal.c): pass
    the header line and id that wsrt_journal_key_build("noise", 200, 7,
    "width=100,prefix=img_", &key) makes, as arguments 1 and 2 (hex)."""
    def rec(i):
        return struct.pack("<QQ", i, mix64(i ^ key_id))
    write("journal", "empty", b"")
    write("journal", "header-only", header_line)
    write("journal", "records", header_line + b"".join(rec(i) for i in (0, 5, 63, 64, 199)))
    write("journal", "torn-tail", header_line + rec(1) + rec(2)[:9])
    write("journal", "bad-check", header_line + rec(3)[:8] + b"\0" * 8 + rec(4))
    write("journal", "out-of-range", header_line + rec(200) + rec(3))
    write("journal", "torn-header", header_line[:20])
    write("journal", "other-count", header_line.replace(b"count=200", b"count=201"))
    write("journal", "not-a-journal", b"\x89PNG\r\n\x1a\n")


def options():
    write("options", "valid", b"gray|rgb\nn=5\nratio=0.25\nfast=yes\nmode=cmyk\nlabel=a b\nfuzzed=rgb\n")
    write("options", "bad", b"\nn=0\nn=101\nn=5x\nratio=nan\nfast=maybe\nmode=\nnosuch=1\nn\n=\n")
    write("options", "numbers", b"3\n18446744073709551615\n18446744073709551616\n-1\n+5\n 5\n")
    write("options", "choices", b"a||b|\nfuzzed=\nfuzzed=b\nfuzzed_int=9\n")


if __name__ == "__main__":
    pngs()
    options()
    if len(sys.argv) == 3:
        journals(sys.argv[1].encode() + b"\n", int(sys.argv[2], 16))
