/*
 * report.h - internal: the machine-readable files wsrun writes about a run
 * (--trace, --stats-json).  Each is opened before the run, so a bad path is
 * a usage error before any index runs, and appears under its final name
 * only when complete ("-" writes to stdout instead).
 *
 * Functions that can fail write one line (no "wsrun: " prefix, no newline)
 * into err and return -1; they never print.
 */
#ifndef WSRT_REPORT_H
#define WSRT_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "wsrun.h"

typedef struct wsrt_report_file {
    const char *option; /* "--trace": names the file's origin in messages */
    ws_outfile out;     /* unused for stdout */
    FILE *fp;           /* NULL when not open */
    int to_stdout;
} wsrt_report_file;

/* Create the temporary file beside `path` (or select stdout for "-"). */
int wsrt_report_open(wsrt_report_file *f, const char *option, const char *path, char *err,
                   size_t err_size);
/* Flush, check for write errors and rename into place. */
int wsrt_report_commit(wsrt_report_file *f, char *err, size_t err_size);
/* Drop what was written; never fails.  Harmless on a zeroed struct and
 * after a failed open. */
void wsrt_report_abort(wsrt_report_file *f);

/* `s` as a JSON string, quotes included; NULL writes null. */
void wsrt_json_string(FILE *fp, const char *s);
/* A number of nanoseconds as microseconds with three decimals, exactly
 * ("1234567" -> "1234.567"): the unit of Chrome trace timestamps. */
void wsrt_json_us(FILE *fp, uint64_t ns);
/* A finite double; NaN and infinities (never expected) become 0. */
void wsrt_json_double(FILE *fp, double v);

#endif
