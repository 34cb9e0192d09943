/*
 * mpi_report.c - the lines rank 0 of wsrun-mpi prints from every rank's
 * row: which ranks failed and how, the combined summary (per rank:
 * indices, blocks, time) and the --stats balance table.  Plain stdio on
 * stderr, no MPI; must never be called on more than one rank, and never
 * print a rank's own failure details (each rank prints those itself).
 */
#include "mpi_report.h"

#include <stdio.h>
#include <string.h>

#include "term_text.h"

/* Tables longer than this are shown only with --stats. */
#define MAX_SUMMARY_RANKS 32
/* Ranks named one by one in a failure line before "..." */
#define MAX_NAMED_RANKS 8

static const uint64_t *row(const wsrt_mpi_summary *s, int rank)
{
    return s->rows + (size_t)rank * ROW_FIELDS;
}

static uint64_t column_sum(const wsrt_mpi_summary *s, int field)
{
    uint64_t sum = 0;
    for (int r = 0; r < s->ranks; r++)
        sum += row(s, r)[field];
    return sum;
}

int wsrt_mpi_rows_status(const wsrt_mpi_summary *s)
{
    for (int r = 0; r < s->ranks; r++) {
        const uint64_t *x = row(s, r);
        if (x[ROW_FAILED] || x[ROW_SIGNAL] || x[ROW_POOL_ERR] || x[ROW_INIT_FAILED])
            return 1;
    }
    return column_sum(s, ROW_DONE) + column_sum(s, ROW_SKIPPED) != s->expected;
}

/* "rank 1 (3), rank 4 (1)" for the ranks where `field` is non-zero. */
static void name_ranks(const wsrt_mpi_summary *s, int field, int with_value, char *buf,
                       size_t size)
{
    size_t used = 0;
    int named = 0;
    buf[0] = '\0';
    for (int r = 0; r < s->ranks && used < size; r++) {
        uint64_t v = row(s, r)[field];
        if (!v)
            continue;
        int n;
        if (named == MAX_NAMED_RANKS)
            n = snprintf(buf + used, size - used, ", ...");
        else if (with_value)
            n = snprintf(buf + used, size - used, "%srank %d (%llu)", named ? ", " : "", r,
                         (unsigned long long)v);
        else
            n = snprintf(buf + used, size - used, "%srank %d", named ? ", " : "", r);
        if (n < 0)
            break;
        used += (size_t)n;
        if (++named > MAX_NAMED_RANKS)
            break;
    }
}

/* The plugin's name as a terminal shows it: it equals the file's name,
 * which may hold control bytes (issue 23 item 4). */
static const char *plugin_shown(const wsrt_mpi_summary *s, char *buf, size_t size)
{
    wsrt_term_text(buf, size, s->plugin, strlen(s->plugin));
    return buf;
}

void wsrt_mpi_report_failures(const wsrt_mpi_summary *s)
{
    char who[512], plugin[256];
    plugin_shown(s, plugin, sizeof plugin);
    uint64_t failed = column_sum(s, ROW_FAILED);
    uint64_t done = column_sum(s, ROW_DONE) + column_sum(s, ROW_SKIPPED);
    uint64_t not_run = s->expected > done + failed ? s->expected - done - failed : 0;
    int reported = 0;
    if (failed) {
        name_ranks(s, ROW_FAILED, 1, who, sizeof who);
        if (not_run && column_sum(s, ROW_STOPPED))
            fprintf(stderr,
                    "wsrun: %s: %llu of %llu tasks failed, on %s (stopped early: %llu not run; "
                    "--keep-going runs them all)\n",
                    plugin, (unsigned long long)failed, (unsigned long long)s->expected, who,
                    (unsigned long long)not_run);
        else
            fprintf(stderr, "wsrun: %s: %llu of %llu tasks failed, on %s\n", plugin,
                    (unsigned long long)failed, (unsigned long long)s->expected, who);
        reported = 1;
    }
    if (column_sum(s, ROW_SIGNAL)) {
        name_ranks(s, ROW_SIGNAL, 0, who, sizeof who);
        fprintf(stderr, "wsrun: %s: interrupted by a signal on %s: %llu of %llu indices done\n",
                plugin, who, (unsigned long long)done, (unsigned long long)s->expected);
        reported = 1;
    }
    if (column_sum(s, ROW_POOL_ERR)) {
        name_ranks(s, ROW_POOL_ERR, 0, who, sizeof who);
        fprintf(stderr, "wsrun: %s: could not start the workers on %s\n", plugin, who);
        reported = 1;
    }
    if (column_sum(s, ROW_INIT_FAILED)) {
        name_ranks(s, ROW_INIT_FAILED, 0, who, sizeof who);
        fprintf(stderr, "wsrun: %s: worker_init failed on %s\n", plugin, who);
        reported = 1;
    }
    if (!reported && done != s->expected)
        fprintf(stderr, "wsrun: %s: only %llu of %llu indices ran\n", plugin,
                (unsigned long long)done, (unsigned long long)s->expected);
}

static double seconds(uint64_t ns)
{
    return (double)ns / 1e9;
}

static void print_balance(const wsrt_mpi_summary *s)
{
    uint64_t min_i = UINT64_MAX, max_i = 0, min_w = UINT64_MAX, max_w = 0, wait = 0;
    for (int r = 0; r < s->ranks; r++) {
        const uint64_t *x = row(s, r);
        uint64_t n = x[ROW_DONE] + x[ROW_FAILED];
        min_i = n < min_i ? n : min_i;
        max_i = n > max_i ? n : max_i;
        min_w = x[ROW_WALL_NS] < min_w ? x[ROW_WALL_NS] : min_w;
        max_w = x[ROW_WALL_NS] > max_w ? x[ROW_WALL_NS] : max_w;
        wait += x[ROW_END_WAIT_NS];
    }
    double mean = (double)(column_sum(s, ROW_DONE) + column_sum(s, ROW_FAILED)) / s->ranks;
    double run_total = s->run_s * s->ranks;
    fprintf(stderr,
            "  balance: indices per rank %llu..%llu (max/mean %.3f), pool time %.3f..%.3f s, "
            "ranks idle at the end %.2f%% of the run\n",
            (unsigned long long)min_i, (unsigned long long)max_i,
            mean > 0 ? (double)max_i / mean : 1.0, seconds(min_w), seconds(max_w),
            run_total > 0 ? 100.0 * seconds(wait) / run_total : 0.0);
}

void wsrt_mpi_report_summary(const wsrt_mpi_summary *s)
{
    char plugin[256];
    plugin_shown(s, plugin, sizeof plugin);
    uint64_t done = column_sum(s, ROW_DONE);
    uint64_t workers = column_sum(s, ROW_JOBS);
    fprintf(stderr,
            "wsrun: %s: %d rank%s, %llu worker%s: %llu of %llu indices in %.3f s, %llu blocks\n",
            plugin, s->ranks, s->ranks == 1 ? "" : "s", (unsigned long long)workers,
            workers == 1 ? "" : "s", (unsigned long long)done, (unsigned long long)s->expected,
            s->run_s, (unsigned long long)column_sum(s, ROW_BLOCKS));
    if (!s->stats) {
        if (s->ranks > MAX_SUMMARY_RANKS) {
            print_balance(s);
            return;
        }
        fprintf(stderr, "  %6s %12s %8s %9s\n", "rank", "indices", "blocks", "pool_s");
        for (int r = 0; r < s->ranks; r++) {
            const uint64_t *x = row(s, r);
            fprintf(stderr, "  %6d %12llu %8llu %9.3f\n", r,
                    (unsigned long long)(x[ROW_DONE] + x[ROW_FAILED]),
                    (unsigned long long)x[ROW_BLOCKS], seconds(x[ROW_WALL_NS]));
        }
        return;
    }
    fprintf(stderr, "  %6s %12s %7s %8s %11s %9s %12s %6s %8s %8s\n", "rank", "indices", "failed",
            "blocks", "counter_ms", "pool_s", "end_wait_ms", "busy%", "workers", "steals");
    for (int r = 0; r < s->ranks; r++) {
        const uint64_t *x = row(s, r);
        double capacity = (double)x[ROW_JOBS] * (double)x[ROW_WALL_NS];
        fprintf(stderr, "  %6d %12llu %7llu %8llu %11.2f %9.3f %12.2f %6.1f %8llu %8llu\n", r,
                (unsigned long long)(x[ROW_DONE] + x[ROW_FAILED]),
                (unsigned long long)x[ROW_FAILED], (unsigned long long)x[ROW_BLOCKS],
                (double)x[ROW_COUNTER_NS] / 1e6, seconds(x[ROW_WALL_NS]),
                (double)x[ROW_END_WAIT_NS] / 1e6,
                capacity > 0 ? 100.0 * (double)x[ROW_BUSY_NS] / capacity : 0.0,
                (unsigned long long)x[ROW_JOBS], (unsigned long long)x[ROW_STEALS]);
    }
    print_balance(s);
}
