/*
 * run_reports.c - opens, writes and commits the --trace and --stats-json
 * files of a run (report.h does the file handling, trace.c and
 * stats_json.c the contents), and prints the --stats table to stderr.
 *
 * Must never leave a temporary behind when the run ends in any way, and
 * never let a report that could not be written pass silently.
 */
#include "run_reports.h"

#include <stdio.h>
#include <string.h>

#include "stats_json.h"
#include "term_text.h"
#include "trace.h"

int wsrt_run_reports_open(wsrt_run_reports *r, ws_run *run, const char *trace_path,
                        const char *stats_path)
{
    char err[2048];
    memset(r, 0, sizeof *r);
    if (trace_path) {
        if (wsrt_report_open(&r->trace, "--trace", trace_path, err, sizeof err) != 0) {
            wsrt_err("%s", err);
            return -1;
        }
        r->want_trace = 1;
        run->trace = 1;
    }
    if (stats_path) {
        if (wsrt_report_open(&r->stats, "--stats-json", stats_path, err, sizeof err) != 0) {
            wsrt_err("%s", err);
            wsrt_report_abort(&r->trace);
            r->want_trace = 0;
            return -1;
        }
        r->want_stats = 1;
    }
    return 0;
}

int wsrt_run_reports_write(wsrt_run_reports *r, const ws_run *run, wsrt_pool_result *result)
{
    char err[2048];
    int rc = 0;
    if (r->want_trace) {
        wsrt_trace_write(r->trace.fp, run, result);
        if (wsrt_report_commit(&r->trace, err, sizeof err) != 0) {
            wsrt_err("%s", err);
            rc = -1;
        }
        r->want_trace = 0;
    }
    wsrt_trace_free(result);
    if (r->want_stats) {
        wsrt_stats_json_write(r->stats.fp, run, result);
        if (wsrt_report_commit(&r->stats, err, sizeof err) != 0) {
            wsrt_err("%s", err);
            rc = -1;
        }
        r->want_stats = 0;
    }
    return rc;
}

void wsrt_run_reports_abort(wsrt_run_reports *r, wsrt_pool_result *result)
{
    if (r->want_trace)
        wsrt_report_abort(&r->trace);
    if (r->want_stats)
        wsrt_report_abort(&r->stats);
    r->want_trace = r->want_stats = 0;
    if (result)
        wsrt_trace_free(result);
}

/* --------------------------------------------------------------- stats */

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

/* The indices this process ran: all, or its --shard. */
static uint64_t run_total(const ws_run *run)
{
    return run->ranged ? run->range_end - run->range_begin : run->count;
}

void wsrt_stats_print(const ws_run *run, const wsrt_pool_result *r)
{
    double wall = (double)r->wall_ns / 1e9;
    /* The name as a terminal shows it: it equals the file's name, which
     * may hold control bytes (issue 23 item 4). */
    char name[256];
    wsrt_term_text(name, sizeof name, run->desc.name, strlen(run->desc.name));
    fprintf(stderr, "wsrun stats: plugin %s, %llu indices (%llu ok, %llu failed), %u workers\n",
            name, (unsigned long long)run_total(run),
            (unsigned long long)r->indices_done, (unsigned long long)r->failed, r->jobs);
    wsrt_worker_stats total;
    memset(&total, 0, sizeof total);
    for (unsigned w = 0; r->workers && w < r->jobs; w++) {
        const wsrt_worker_stats *s = &r->workers[w];
        total.indices += s->indices;
        total.tasks += s->tasks;
        total.steals += s->steals;
        total.steal_tries += s->steal_tries;
        total.splits += s->splits;
        total.retried += s->retried;
        total.busy_ns += s->busy_ns;
        total.idle_ns += s->idle_ns;
        total.parked_ns += s->parked_ns;
    }
    fprintf(stderr, "  wall %.3f s, %.0f indices/s, %llu tasks, %llu retries\n", wall,
            wall > 0 ? (double)r->indices_done / wall : 0.0, (unsigned long long)total.tasks,
            (unsigned long long)total.retried);
    if (!r->workers || r->jobs == 0)
        return;
    fprintf(stderr, "  %6s %12s %12s %15s %8s %10s %10s %10s\n", "worker", "indices", "tasks",
            "steals/tried", "splits", "busy_ms", "idle_ms", "parked_ms");
    char steals[48];
    for (unsigned w = 0; w <= r->jobs; w++) {
        const wsrt_worker_stats *s = w < r->jobs ? &r->workers[w] : &total;
        snprintf(steals, sizeof steals, "%llu/%llu", (unsigned long long)s->steals,
                 (unsigned long long)s->steal_tries);
        char label[16];
        snprintf(label, sizeof label, w < r->jobs ? "%u" : "total", w);
        fprintf(stderr, "  %6s %12llu %12llu %15s %8llu %10.1f %10.1f %10.1f\n", label,
                (unsigned long long)s->indices, (unsigned long long)s->tasks, steals,
                (unsigned long long)s->splits, ms(s->busy_ns), ms(s->idle_ns),
                ms(s->parked_ns));
    }
}
