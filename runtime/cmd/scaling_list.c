/*
 * scaling_list.c - the study options of `wsrun --scaling` that need no run
 * (scaling.h): the -j list ("1,2,4", "1-16") and its default, and the
 * study options given without --scaling.
 *
 * Must never accept a list it would run differently from how it reads: a
 * value out of 1..4096, a range that goes down, a -j given twice or an
 * empty item is refused with a line naming it, never skipped or reordered
 * silently (the list is sorted ascending, which the table states).
 */
#include "scaling.h"

#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "run.h"

/* ------------------------------------------------------------ the list */

const char *wsrt_scaling_orphan_option(const wsrt_scaling_args *a)
{
    if (a->given)
        return NULL;
    return a->repeat        ? "--repeat"
           : a->csv_path    ? "--scaling-csv"
           : a->plot_path   ? "--scaling-plot"
           : a->keep_output ? "--scaling-keep-output"
           : a->allow_diff  ? "--scaling-allow-diff"
                            : NULL;
}

static int add_job(unsigned *jobs, size_t *n, unsigned j, const char *text, char *err,
                   size_t err_size)
{
    for (size_t k = 0; k < *n; k++)
        if (jobs[k] == j)
            return wsrt_errf(err, err_size, "--scaling: -j %u is given twice in '%s'", j, text);
    jobs[(*n)++] = j;
    return 0;
}

static int parse_one(const char *item, const char *text, unsigned *out, char *err,
                     size_t err_size)
{
    uint64_t v;
    if (wsrt_parse_u64(item, UINT64_MAX, &v) != 0)
        return wsrt_errf(err, err_size,
                       "--scaling: '%s' is not a number of jobs or a range A-B (in '%s')", item,
                       text);
    if (v < 1 || v > WSRT_SCALING_MAX_JOBS)
        return wsrt_errf(err, err_size, "--scaling: %s is out of range 1..%d (in '%s')", item,
                       WSRT_SCALING_MAX_JOBS, text);
    *out = (unsigned)v;
    return 0;
}

static int ascending(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return (x > y) - (x < y);
}

int wsrt_scaling_parse_list(const char *text, unsigned **jobs_out, size_t *n_out, char *err,
                          size_t err_size)
{
    unsigned *jobs = calloc(WSRT_SCALING_MAX_JOBS, sizeof *jobs);
    char *copy = strdup(text);
    size_t n = 0;
    int rc = -1;
    if (!jobs || !copy) {
        wsrt_errf(err, err_size, "out of memory");
        goto out;
    }
    if (!*text) {
        wsrt_errf(err, err_size, "--scaling: empty list (expected e.g. 1,2,4 or 1-16)");
        goto out;
    }
    char *item = copy;
    for (;;) {
        char *comma = strchr(item, ',');
        if (comma)
            *comma = '\0';
        if (!*item) {
            wsrt_errf(err, err_size, "--scaling: empty value in '%s' (expected e.g. 1,2,4 or 1-16)",
                    text);
            goto out;
        }
        char *dash = strchr(item, '-');
        unsigned lo, hi;
        if (dash) {
            *dash = '\0';
            if (parse_one(item, text, &lo, err, err_size) != 0 ||
                parse_one(dash + 1, text, &hi, err, err_size) != 0)
                goto out;
            if (lo > hi) {
                wsrt_errf(err, err_size, "--scaling: range '%u-%u' goes down (write it %u-%u)",
                        lo, hi, hi, lo);
                goto out;
            }
        } else if (parse_one(item, text, &lo, err, err_size) != 0) {
            goto out;
        } else {
            hi = lo;
        }
        for (unsigned j = lo; j <= hi; j++)
            if (add_job(jobs, &n, j, text, err, err_size) != 0)
                goto out;
        if (!comma)
            break;
        item = comma + 1;
    }
    qsort(jobs, n, sizeof *jobs, ascending);
    *jobs_out = jobs;
    *n_out = n;
    jobs = NULL;
    rc = 0;
out:
    free(jobs);
    free(copy);
    return rc;
}

int wsrt_scaling_default_list(unsigned cpus, unsigned **jobs_out, size_t *n_out)
{
    unsigned *jobs = calloc(32, sizeof *jobs);
    if (!jobs)
        return -1;
    size_t n = 0;
    if (cpus < 1)
        cpus = 1;
    for (unsigned j = 1; j < cpus; j *= 2)
        jobs[n++] = j;
    jobs[n++] = cpus;
    *jobs_out = jobs;
    *n_out = n;
    return 0;
}
