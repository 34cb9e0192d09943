/*
 * manifest.c - buffered text output to a descriptor for the read plugin's
 * manifest, with the quoting each format needs (manifest.h).  Used from
 * finish on the main thread.  Must never use stdio on the descriptor (the
 * runtime owns stdout's FILE) and never lose a write error: the first one
 * is kept and reported by the caller.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "wsrun.h"
#include "manifest.h"
#include "../../runtime/base/json_escape.h"

void wstask_textout_flush(wstask_textout *t)
{
    size_t done = 0;
    while (!t->err && done < t->len) {
        ssize_t n = write(t->fd, t->buf + done, t->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            t->err = n < 0 ? errno : EIO;
            break;
        }
        done += (size_t)n;
    }
    t->len = 0;
}

static void wstask_textout_put(wstask_textout *t, const char *s, size_t n)
{
    while (n) {
        if (t->len == sizeof t->buf)
            wstask_textout_flush(t);
        size_t room = sizeof t->buf - t->len;
        size_t k = n < room ? n : room;
        memcpy(t->buf + t->len, s, k);
        t->len += k;
        s += k;
        n -= k;
    }
}

void wstask_textout_str(wstask_textout *t, const char *s)
{
    wstask_textout_put(t, s, strlen(s));
}

void wstask_textout_char(wstask_textout *t, char c)
{
    if (t->len == sizeof t->buf)
        wstask_textout_flush(t);
    t->buf[t->len++] = c;
}

/* Numbers without printf: a 2000-row manifest is formatted in finish,
 * which runs alone, so its cost is not shared by the workers. */
void wstask_textout_u64(wstask_textout *t, uint64_t v)
{
    char digits[20];
    int n = 0;
    do {
        digits[sizeof digits - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    wstask_textout_put(t, digits + sizeof digits - n, (size_t)n);
}

/* 16 lowercase hex digits. */
void wstask_textout_hex64(wstask_textout *t, uint64_t v)
{
    static const char hex[] = "0123456789abcdef";
    char out[16];
    for (int k = 15; k >= 0; k--, v >>= 4)
        out[k] = hex[v & 15];
    wstask_textout_put(t, out, sizeof out);
}

void wstask_textout_printf(wstask_textout *t, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0)
        wstask_textout_put(t, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* A CSV field: quoted (with "" for a quote) only when it has to be. */
static int wstask_is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* One byte of a field, as \xHH when it is a control and t shows them. */
static void wstask_textout_field_byte(wstask_textout *t, const char *c)
{
    if (t->escape_controls && wstask_is_control((unsigned char)*c)) {
        static const char hex[] = "0123456789abcdef";
        char e[4] = {'\\', 'x', hex[(unsigned char)*c >> 4], hex[*c & 15]};
        wstask_textout_put(t, e, 4);
        return;
    }
    wstask_textout_put(t, c, 1);
}

static int wstask_has_control(const char *s)
{
    for (; *s; s++)
        if (wstask_is_control((unsigned char)*s))
            return 1;
    return 0;
}

void wstask_textout_csv_field(wstask_textout *t, const char *s)
{
    if (t->escape_controls && wstask_has_control(s)) {
        int quote = strpbrk(s, ",\"") != NULL;
        if (quote)
            wstask_textout_put(t, "\"", 1);
        for (; *s; s++) {
            if (*s == '"')
                wstask_textout_put(t, "\"", 1);
            wstask_textout_field_byte(t, s);
        }
        if (quote)
            wstask_textout_put(t, "\"", 1);
        return;
    }
    if (!strpbrk(s, ",\"\r\n")) {
        wstask_textout_str(t, s);
        return;
    }
    wstask_textout_put(t, "\"", 1);
    for (; *s; s++) {
        if (*s == '"')
            wstask_textout_put(t, "\"", 1);
        wstask_textout_put(t, s, 1);
    }
    wstask_textout_put(t, "\"", 1);
}

/* A TSV field: tab, newline, return and backslash become \t \n \r \\. */
void wstask_textout_tsv_field(wstask_textout *t, const char *s)
{
    if (!strpbrk(s, "\t\n\r\\") && !(t->escape_controls && wstask_has_control(s))) {
        wstask_textout_str(t, s);
        return;
    }
    for (; *s; s++) {
        switch (*s) {
        case '\t': wstask_textout_put(t, "\\t", 2); break;
        case '\n': wstask_textout_put(t, "\\n", 2); break;
        case '\r': wstask_textout_put(t, "\\r", 2); break;
        case '\\': wstask_textout_put(t, "\\\\", 2); break;
        default: wstask_textout_field_byte(t, s);
        }
    }
}

/* A JSON string with its quotes.  Bytes >= 0x80 pass through: file names
 * are UTF-8 on any sane system, and JSON allows raw UTF-8. */
void wstask_textout_json_string(wstask_textout *t, const char *s)
{
    char room[WSRT_JSON_ESCAPE_MAX];
    wstask_textout_put(t, "\"", 1);
    for (; *s; s++) {
        const char *escape = wsrt_json_escape((unsigned char)*s, room);
        if (escape)
            wstask_textout_str(t, escape);
        else
            wstask_textout_put(t, s, 1);
    }
    wstask_textout_put(t, "\"", 1);
}
