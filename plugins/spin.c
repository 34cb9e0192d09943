/*
 * spin.c - benchmark plugin: per-index busy work with a chosen imbalance,
 * to compare wsrun's load balancing with static and dynamic loop schedules.
 *
 *   wsrun --plugin spin --count 20000 -o mean-us=10 -o shape=heavy
 *
 * Index i burns spin_cost_us(i) microseconds of calibrated busy loop
 * (plugins/spin_work.h); shapes fixed, uniform, heavy (Pareto, big items
 * first), pareto (Pareto, independent) and giant (one index is half the
 * work).  Long tasks poll so the runtime can serve thieves.  With
 * timing=on it prints time_s, cpu_s and each worker thread's CPU seconds
 * (the idle-worker test of a single long task).  Must never sleep: the
 * work is CPU work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spin_work.h"
#include "bench_timing.h"
#include "wsrun.h"

#define SPIN_DEFAULT_COUNT 20000
#define SPIN_POLL_STEPS 4096 /* a few microseconds between polls */

typedef struct spin_worker {
    uint64_t ran;   /* indices this worker ran */
    uint64_t sink;  /* burn results, so the work is observable */
    double work_us; /* the planned cost of the indices it ran */
} spin_worker;

/* One cache line per worker, so counting never bounces lines. */
typedef struct spin_worker_slot {
    _Alignas(64) spin_worker w;
} spin_worker_slot;

typedef struct spin_state {
    spin_params params;
    int timing;
    unsigned jobs;
    bench_clock started;
    spin_worker_slot *workers;
    double *worker_cpu_s; /* CPU time of each worker thread, from worker_fini */
} spin_state;

static const ws_option spin_options[] = {
    {"mean-us", WS_OPT_DOUBLE, "10", "mean busy time per index, microseconds", NULL, 0, 1e8},
    {"shape", WS_OPT_ENUM, "uniform", "imbalance: fixed, uniform, heavy, pareto or giant",
     SPIN_SHAPE_NAMES, 0, 0},
    {"iters-per-us", WS_OPT_DOUBLE, "0", "busy-loop steps per microsecond (0: calibrate now)",
     NULL, 0, 1e6},
    {"timing", WS_OPT_BOOL, "off", "also print time_s, cpu_s and worker_cpu_s on stdout", NULL, 0, 0},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static int spin_init(ws_ctx *ctx, void **state)
{
    spin_state *st = calloc(1, sizeof *st);
    if (!st)
        return ws_fail(ctx, "out of memory");
    if (!ws_count_given(ctx))
        ws_set_count(ctx, SPIN_DEFAULT_COUNT);
    uint64_t count = ws_count_given(ctx) ? ws_run_count(ctx) : SPIN_DEFAULT_COUNT;
    st->params.shape = ws_opt_enum(ctx, "shape");
    st->params.mean_us = ws_opt_double(ctx, "mean-us");
    st->params.iters_per_us = ws_opt_double(ctx, "iters-per-us");
    if (st->params.iters_per_us <= 0)
        st->params.iters_per_us = spin_calibrate();
    st->params.count = count;
    st->params.seed = ws_run_seed(ctx);
    st->params.giant = spin_giant_index(st->params.seed, count);
    st->timing = ws_opt_bool(ctx, "timing");
    st->jobs = ws_run_jobs(ctx);
    st->workers = aligned_alloc(64, st->jobs * sizeof(spin_worker_slot));
    if (st->workers)
        memset(st->workers, 0, st->jobs * sizeof(spin_worker_slot));
    st->worker_cpu_s = calloc(st->jobs, sizeof *st->worker_cpu_s);
    if (!st->workers || !st->worker_cpu_s) {
        free(st->workers);
        free(st->worker_cpu_s);
        free(st);
        return ws_fail(ctx, "out of memory for %u workers", ws_run_jobs(ctx));
    }
    *state = st;
    bench_clock_start(&st->started);
    return WS_OK;
}

static int spin_worker_init(void *state, ws_ctx *ctx)
{
    spin_state *st = state;
    ctx->worker_data = &st->workers[ctx->worker_id].w;
    return WS_OK;
}

static void spin_worker_fini(void *state, ws_ctx *ctx)
{
    spin_state *st = state;
    struct timespec cpu;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0)
        st->worker_cpu_s[ctx->worker_id] = (double)cpu.tv_sec + 1e-9 * (double)cpu.tv_nsec;
}

static int spin_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    spin_state *st = state;
    spin_worker *w = ctx->worker_data;
    double cost_us = spin_cost_us(&st->params, index);
    uint64_t left = (uint64_t)(cost_us * st->params.iters_per_us + 0.5), x = index;
    while (left > 0) {
        uint64_t step = left < SPIN_POLL_STEPS ? left : SPIN_POLL_STEPS;
        x = spin_burn(step, x);
        left -= step;
        ws_poll(ctx);
    }
    w->sink += x;
    w->ran++;
    w->work_us += cost_us;
    return WS_OK;
}

static int spin_finish(void *state, int run_status, ws_ctx *ctx)
{
    spin_state *st = state;
    double wall_s, cpu_s;
    int rc = WS_OK;
    bench_clock_elapsed(&st->started, &wall_s, &cpu_s);
    if (run_status == 0) {
        /* The work of the indices that ran here, summed by the workers:
         * a loop over the whole count would take for ever for one small
         * --shard part of -n 2^63-1. */
        uint64_t ran = 0;
        double work_us = 0;
        for (unsigned k = 0; k < st->jobs; k++) {
            ran += st->workers[k].w.ran;
            work_us += st->workers[k].w.work_us;
        }
        static const char *const shapes[] = {"fixed", "uniform", "heavy", "pareto", "giant"};
        printf("spin(%s) = %llu tasks, %.3f s of work\n", shapes[st->params.shape],
               (unsigned long long)ran, work_us * 1e-6);
        if (st->timing) {
            bench_clock_print(wall_s, cpu_s);
            for (unsigned k = 0; k < st->jobs; k++)
                printf("worker_cpu_s %u %.6f\n", k, st->worker_cpu_s[k]);
        }
        fflush(stdout);
        /* Fewer when this process runs only part of the indices (--shard,
         * one rank of wsrun-mpi, --resume); never more. */
        if (ran > st->params.count)
            rc = ws_fail(ctx, "ran %llu tasks for %llu indices", (unsigned long long)ran,
                         (unsigned long long)st->params.count);
    }
    free(st->workers);
    free(st->worker_cpu_s);
    free(st);
    return rc;
}

static const ws_plugin spin_plugin = {
    /* Each index is independent busy work: any subset may run alone. */
    WS_PLUGIN_HEADER_FLAGS(WS_PLUGIN_RESUMABLE),
    .name = "spin",
    .version = "1.0",
    .description = "per-index busy work with a chosen imbalance (load-balancing benchmark)",
    .options = spin_options,
    .init = spin_init,
    .run_one = spin_run_one,
    .finish = spin_finish,
    .worker_init = spin_worker_init,
    .worker_fini = spin_worker_fini,
};

WS_PLUGIN_DEFINE(spin_plugin)
