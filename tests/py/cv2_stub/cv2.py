# cv2.py - a stand-in for OpenCV's imwrite/imread, for tests only: make
# test puts this folder on PYTHONPATH when /usr/bin/python3 has no cv2
# (python3-opencv pulls in Qt and VTK), so docs/python.md's examples run
# unchanged.  8-bit grayscale PNG only, values rounded and saturated as
# cv2.imwrite does; it must never be installed or imported outside tests.
import struct
import zlib

import numpy as np

IMREAD_GRAYSCALE = 0
IMREAD_UNCHANGED = -1


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def imwrite(filename, arr):
    a = np.asarray(arr)
    if a.ndim != 2:
        raise ValueError("cv2 stub: grayscale only")
    a = np.clip(np.rint(a), 0, 255).astype(np.uint8)
    raw = b"".join(b"\0" + row.tobytes() for row in a)
    head = struct.pack(">IIBBBBB", a.shape[1], a.shape[0], 8, 0, 0, 0, 0)
    with open(filename, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", head) + _chunk(b"IDAT", zlib.compress(raw, 1))
                + _chunk(b"IEND", b""))
    return True


def imread(filename, flags=IMREAD_GRAYSCALE):
    try:
        with open(filename, "rb") as f:
            data = f.read()
    except OSError:
        return None
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
            if body[8:13] != b"\x08\x00\x00\x00\x00":
                raise ValueError("cv2 stub: 8-bit grayscale, unfiltered PNGs only")
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, width + 1)
    if rows[:, 0].any():
        raise ValueError("cv2 stub: unfiltered rows only")
    return rows[:, 1:].copy()
