/*
 * term_text.c - escaping control bytes and shortening long messages in
 * the middle, for log.c (term_text.h says what callers get).  Must never
 * allocate or print, and never emit a byte a terminal would take as a
 * control: every such byte leaves as four printable characters.
 */
#include <stdio.h>
#include <string.h>

#include "term_text.h"

/* The byte length of the unit at p (1..4) and whether it must be escaped:
 * one valid UTF-8 character that is no control, or else one byte. */
static size_t unit_at(const unsigned char *p, size_t left, int *escape)
{
    unsigned c = p[0];
    *escape = 0;
    if (c < 0x20 || c == 0x7f) {
        *escape = 1;
        return 1;
    }
    if (c < 0x80)
        return 1;
    size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (n == 0 || n > left) {
        *escape = 1;
        return 1;
    }
    for (size_t k = 1; k < n; k++)
        if ((p[k] & 0xc0) != 0x80) {
            *escape = 1;
            return 1;
        }
    /* Overlong 3- and 4-byte forms, surrogates, and beyond U+10FFFF. */
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0) || (c == 0xf0 && p[1] < 0x90) ||
        (c == 0xf4 && p[1] >= 0x90)) {
        *escape = 1;
        return 1;
    }
    if (c == 0xc2 && p[1] <= 0x9f) /* U+0080..U+009F: C1 controls (CSI is U+009B) */
        *escape = 2;
    return n;
}

/* Width of a unit once written. */
static size_t unit_width(size_t n, int escape)
{
    return escape ? 4 * n : n;
}

static size_t put_unit(char *out, const unsigned char *p, size_t n, int escape)
{
    if (!escape) {
        memcpy(out, p, n);
        return n;
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t k = 0; k < n; k++) {
        out[4 * k] = '\\';
        out[4 * k + 1] = 'x';
        out[4 * k + 2] = hex[p[k] >> 4];
        out[4 * k + 3] = hex[p[k] & 15];
    }
    return 4 * n;
}

/* The shared walk: `escaping` 0 copies every byte as one unit. */
static size_t convert(char *out, size_t out_size, const char *in, size_t len, int escaping)
{
    const unsigned char *p = (const unsigned char *)in;
    int esc;
    size_t n, total = 0;
    if (out_size == 0)
        return 0;
    for (size_t i = 0; i < len; i += n) {
        n = escaping ? unit_at(p + i, len - i, &esc) : (esc = 0, 1);
        total += unit_width(n, esc);
    }
    size_t room = out_size - 1, o = 0;
    if (total <= room) {
        for (size_t i = 0; i < len; i += n) {
            n = escaping ? unit_at(p + i, len - i, &esc) : (esc = 0, 1);
            o += put_unit(out + o, p + i, n, esc);
        }
        out[o] = '\0';
        return o;
    }
    /* Too long: the first 2/5 of the room, a marker, the last units. */
    char marker[48];
    size_t head = (room - sizeof marker) * 2 / 5, tail = room - sizeof marker - head;
    size_t i = 0, head_w = 0;
    for (; i < len; i += n) {
        n = escaping ? unit_at(p + i, len - i, &esc) : (esc = 0, 1);
        if (head_w + unit_width(n, esc) > head)
            break;
        o += put_unit(out + o, p + i, n, esc);
        head_w += unit_width(n, esc);
    }
    /* The tail starts at the first unit after which no more than `tail`
     * written bytes remain. */
    size_t j = i, before = head_w;
    for (; j < len && total - before > tail; j += n) {
        n = escaping ? unit_at(p + j, len - j, &esc) : (esc = 0, 1);
        before += unit_width(n, esc);
    }
    int m = snprintf(marker, sizeof marker, "...(%zu bytes)...", j - i);
    if (m > 0) {
        memcpy(out + o, marker, (size_t)m);
        o += (size_t)m;
    }
    for (; j < len; j += n) {
        n = escaping ? unit_at(p + j, len - j, &esc) : (esc = 0, 1);
        o += put_unit(out + o, p + j, n, esc);
    }
    out[o] = '\0';
    return o;
}

size_t wsrt_term_text(char *out, size_t out_size, const char *in, size_t len)
{
    return convert(out, out_size, in, len, 1);
}

size_t wsrt_text_shorten(char *out, size_t out_size, const char *in, size_t len)
{
    return convert(out, out_size, in, len, 0);
}
