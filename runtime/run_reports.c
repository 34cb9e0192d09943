/*
 * run_reports.c - opens, writes and commits the --trace and --stats-json
 * files of a run (report.h does the file handling, trace.c and
 * stats_json.c the contents).
 *
 * Must never leave a temporary behind when the run ends in any way, and
 * never let a report that could not be written pass silently.
 */
#include "run_reports.h"

#include <string.h>

#include "stats_json.h"
#include "trace.h"

int ws_run_reports_open(ws_run_reports *r, ws_run *run, const char *trace_path,
                        const char *stats_path)
{
    char err[2048];
    memset(r, 0, sizeof *r);
    if (trace_path) {
        if (ws_report_open(&r->trace, "--trace", trace_path, err, sizeof err) != 0) {
            ws_err("%s", err);
            return -1;
        }
        r->want_trace = 1;
        run->trace = 1;
    }
    if (stats_path) {
        if (ws_report_open(&r->stats, "--stats-json", stats_path, err, sizeof err) != 0) {
            ws_err("%s", err);
            ws_report_abort(&r->trace);
            r->want_trace = 0;
            return -1;
        }
        r->want_stats = 1;
    }
    return 0;
}

int ws_run_reports_write(ws_run_reports *r, const ws_run *run, ws_pool_result *result)
{
    char err[2048];
    int rc = 0;
    if (r->want_trace) {
        ws_trace_write(r->trace.fp, run, result);
        if (ws_report_commit(&r->trace, err, sizeof err) != 0) {
            ws_err("%s", err);
            rc = -1;
        }
        r->want_trace = 0;
    }
    ws_trace_free(result);
    if (r->want_stats) {
        ws_stats_json_write(r->stats.fp, run, result);
        if (ws_report_commit(&r->stats, err, sizeof err) != 0) {
            ws_err("%s", err);
            rc = -1;
        }
        r->want_stats = 0;
    }
    return rc;
}

void ws_run_reports_abort(ws_run_reports *r, ws_pool_result *result)
{
    if (r->want_trace)
        ws_report_abort(&r->trace);
    if (r->want_stats)
        ws_report_abort(&r->stats);
    r->want_trace = r->want_stats = 0;
    if (result)
        ws_trace_free(result);
}
