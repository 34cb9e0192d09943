/*
 * manifest.h - buffered text output to a descriptor for the read plugin's
 * manifest, with the quoting each format needs (CSV per RFC 4180, JSON
 * strings, TSV with backslash escapes).  Part of build/libwstasks.a
 * (manifest.c).  A write error is kept in `err` (the first one), never lost.
 */
#ifndef WSTASK_MANIFEST_H
#define WSTASK_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "wsrun.h"

typedef struct wstask_textout {
    int fd;
    int err; /* errno of the first failed write, 0 if none */
    size_t len;
    /* Set when fd is a terminal: CSV and TSV fields then show control
     * bytes as \xHH (a file name could clear the screen or set the
     * title); a file or pipe gets the names' bytes exactly. */
    int escape_controls;
    char buf[1 << 16];
} wstask_textout;

/* Write out what is buffered (on error: keep errno in t->err, drop it). */
void wstask_textout_flush(wstask_textout *t);
void wstask_textout_str(wstask_textout *t, const char *s);
void wstask_textout_char(wstask_textout *t, char c);
/* Decimal, without printf. */
void wstask_textout_u64(wstask_textout *t, uint64_t v);
/* 16 lowercase hex digits. */
void wstask_textout_hex64(wstask_textout *t, uint64_t v);
/* At most 511 bytes of formatted text. */
void wstask_textout_printf(wstask_textout *t, const char *fmt, ...) WS_PRINTF(2, 3);
/* A CSV field: quoted (with "" for a quote) only when it has to be. */
void wstask_textout_csv_field(wstask_textout *t, const char *s);
/* A TSV field: tab, newline, return and backslash become \t \n \r \\. */
void wstask_textout_tsv_field(wstask_textout *t, const char *s);
/* A JSON string with its quotes; bytes >= 0x80 pass through (UTF-8). */
void wstask_textout_json_string(wstask_textout *t, const char *s);

#endif
