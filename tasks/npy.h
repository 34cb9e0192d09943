/*
 * npy.h - the header of a NumPy .npy file, format version 1.0: magic,
 * version, a little-endian 16-bit header length, then a Python dict literal
 * (descr, fortran_order, shape) padded with spaces and a newline so the
 * array data starts at a multiple of 64 bytes, as NumPy's format spec asks.
 * Header-only and pure: it must never do I/O or allocate.
 */
#ifndef WSTASK_NPY_H
#define WSTASK_NPY_H

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define WSTASK_NPY_ALIGN 64
#define WSTASK_NPY_MAX_DIMS 8
/* magic (6) + version (2) + header length (2) */
#define WSTASK_NPY_PREAMBLE 10
/* Room for the dict of any shape with WSTASK_NPY_MAX_DIMS 20-digit sides. */
#define WSTASK_NPY_HEADER_MAX 512

/* Write the whole header (preamble and padded dict) for a C-ordered array
 * into buf.  descr is NumPy's type string, e.g. "|u1" or "<u2".  Returns
 * its length (a multiple of 64), or 0 when it does not fit in buf. */
static inline size_t wstask_npy_header(unsigned char *buf, size_t cap, const char *descr,
                            const uint64_t *shape, int ndim)
{
    char dict[WSTASK_NPY_HEADER_MAX];
    if (ndim < 1 || ndim > WSTASK_NPY_MAX_DIMS)
        return 0;
    int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                       descr);
    for (int d = 0; d < ndim && len > 0 && (size_t)len < sizeof dict; d++)
        len += snprintf(dict + len, sizeof dict - (size_t)len, "%s%" PRIu64, d ? ", " : "",
                        shape[d]);
    if (len > 0 && (size_t)len < sizeof dict)
        len += snprintf(dict + len, sizeof dict - (size_t)len, "%s), }", ndim == 1 ? "," : "");
    if (len <= 0 || (size_t)len >= sizeof dict)
        return 0;

    /* The dict ends with '\n'; spaces before it pad to the alignment. */
    size_t unpadded = WSTASK_NPY_PREAMBLE + (size_t)len + 1;
    size_t total = (unpadded + WSTASK_NPY_ALIGN - 1) / WSTASK_NPY_ALIGN * WSTASK_NPY_ALIGN;
    size_t header_len = total - WSTASK_NPY_PREAMBLE;
    if (total > cap || header_len > 65535)
        return 0;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = 1; /* major version */
    buf[7] = 0; /* minor version */
    buf[8] = (unsigned char)(header_len & 0xff);
    buf[9] = (unsigned char)(header_len >> 8);
    memcpy(buf + WSTASK_NPY_PREAMBLE, dict, (size_t)len);
    memset(buf + WSTASK_NPY_PREAMBLE + len, ' ', total - unpadded);
    buf[total - 1] = '\n';
    return total;
}

#endif
