/*
 * run_reports.h - internal: the report files one wsrun run was asked for
 * (--trace FILE, --stats-json FILE), opened before init so a bad path
 * stops the run before anything happens, and written after finish; and
 * the --stats table.
 * Messages go to stderr as one "wsrun: ..." line each.
 * Must never leave a half-written report where a finished one belongs.
 */
#ifndef WSRT_RUN_REPORTS_H
#define WSRT_RUN_REPORTS_H

#include "pool.h"
#include "report.h"
#include "run.h"

typedef struct wsrt_run_reports {
    wsrt_report_file trace, stats;
    int want_trace, want_stats;
} wsrt_run_reports;

/* Open the files whose path is not NULL; sets run->trace when a trace was
 * asked for.  Returns 0, or -1 after printing why (nothing is left open). */
int wsrt_run_reports_open(wsrt_run_reports *r, ws_run *run, const char *trace_path,
                        const char *stats_path);

/* After the pool ran: write and commit each file, then free
 * result->traces.  Returns 0, or -1 after printing which file failed. */
int wsrt_run_reports_write(wsrt_run_reports *r, const ws_run *run, wsrt_pool_result *result);

/* No run took place: remove what was opened, free result->traces if any. */
void wsrt_run_reports_abort(wsrt_run_reports *r, wsrt_pool_result *result);

/* --stats: the per-worker table of `r` on stderr, after the pool ran. */
void wsrt_stats_print(const ws_run *run, const wsrt_pool_result *r);

#endif
