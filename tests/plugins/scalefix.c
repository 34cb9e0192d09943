/*
 * scalefix.c - test fixture for `wsrun --scaling` (tests/cli/scaling.sh):
 * keeps its state in static variables, so a second init in the same
 * process would show in its output ("init calls 2"), and prints the sum of
 * the indices it ran.  Options:
 *   print_jobs=on  the output also names -j (it then depends on -j, which
 *                  the study's determinism check must flag)
 *   fail_jobs=N    index 0 fails when the run has -j N
 *   exit_jobs=N    index 0 ends the process with _exit(0) at -j N, before
 *                  finish (the run then never reports its span)
 * Never used as an example: it exists to be compared and to fail.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>

#include "wsrun.h"

static unsigned init_calls;          /* static on purpose: see the top */
static _Atomic uint64_t index_sum;
static int print_jobs;
static int64_t fail_jobs, exit_jobs;

static const ws_option scalefix_options[] = {
    {.name = "print_jobs", .type = WS_OPT_BOOL, .default_value = "off",
     .help = "name -j in the output"},
    {.name = "fail_jobs", .type = WS_OPT_INT, .default_value = "0", .min = 0, .max = 4096,
     .help = "index 0 fails at this -j (0: never)"},
    {.name = "exit_jobs", .type = WS_OPT_INT, .default_value = "0", .min = 0, .max = 4096,
     .help = "index 0 calls _exit(0), which wsrun cannot catch, at this -j (0: never)"},
    {NULL}};

static int scalefix_init(ws_ctx *ctx, void **state)
{
    (void)state;
    init_calls++;
    print_jobs = ws_opt_bool(ctx, "print_jobs");
    fail_jobs = ws_opt_int(ctx, "fail_jobs");
    exit_jobs = ws_opt_int(ctx, "exit_jobs");
    return WS_OK;
}

static int scalefix_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    (void)state;
    if (index == 0 && fail_jobs == (int64_t)ws_run_jobs(ctx))
        return ws_fail(ctx, "fails at -j %u on purpose (fail_jobs)", ws_run_jobs(ctx));
    if (index == 0 && exit_jobs == (int64_t)ws_run_jobs(ctx))
        _exit(0); /* exit() would be caught: status 3 */
    /* relaxed: only the total matters, read after the pool has joined */
    atomic_fetch_add_explicit(&index_sum, index, memory_order_relaxed);
    return WS_OK;
}

static int scalefix_finish(void *state, int run_status, ws_ctx *ctx)
{
    (void)state;
    if (run_status != 0)
        return WS_OK;
    printf("init calls %u, sum of indices %llu\n", init_calls,
           (unsigned long long)atomic_load_explicit(&index_sum, memory_order_relaxed));
    if (print_jobs)
        printf("run at -j %u\n", ws_run_jobs(ctx));
    return WS_OK;
}

static const ws_plugin scalefix_plugin = {
    WS_PLUGIN_HEADER,
    .name = "scalefix",
    .version = "1.0",
    .description = "test fixture: static state, output that may name -j, failure at a -j",
    .options = scalefix_options,
    .init = scalefix_init,
    .run_one = scalefix_run_one,
    .finish = scalefix_finish,
};
WS_PLUGIN_DEFINE(scalefix_plugin)
