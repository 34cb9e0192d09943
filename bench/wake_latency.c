/*
 * wake_latency.c - microbenchmark of the wake-up of a parked worker: the
 * time from "work published" to "a parked worker runs it".  One index at
 * -j2; its run_one waits GAP microseconds (long enough for the other
 * worker to fail its steals and park, its timeout grown to the 1 ms
 * maximum), spawns one child (published at once: the thief's request is
 * pending) and polls until the other worker has run it.  The child notes
 * when it started.  Prints the median, 99th percentile and maximum of
 * ROUNDS such hand-offs.  Measuring only: it checks that every child ran
 * on the other worker, and nothing else.
 *
 *   wake_latency [ROUNDS [GAP_US]]        (default 300 3000)
 *
 * Build (make bench does): cc -O2 -Iinclude -Iruntime bench/wake_latency.c
 *   build/libwsrt.a -ldl -lm -pthread
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pool.h"
#include "run.h"
#include "wsrun.h"

typedef struct bench {
    unsigned rounds;
    long gap_ns;
    _Atomic unsigned ran;
    _Atomic uint64_t started_ns; /* when the last child began */
    uint32_t owner;
    unsigned on_owner;
    double *latency_us;
} bench;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int child(ws_ctx *ctx, ws_frame *self)
{
    bench *b = self->arg[0].p;
    self->ret.u = ctx->worker_id;
    /* relaxed, then release: the owner acquires `ran` before reading it. */
    atomic_store_explicit(&b->started_ns, now_ns(), memory_order_relaxed);
    atomic_fetch_add_explicit(&b->ran, 1, memory_order_release);
    return WS_OK;
}

static int run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    bench *b = state;
    (void)index;
    b->owner = ctx->worker_id;
    for (unsigned r = 0; r < b->rounds; r++) {
        uint64_t until = now_ns() + (uint64_t)b->gap_ns;
        while (now_ns() < until)
            ; /* no polling: the thief parks meanwhile, its request pending */
        ws_frame *f = ws_frame_new(ctx, child);
        f->arg[0].p = b;
        uint64_t published = now_ns();
        ws_spawn(ctx, f); /* publishes: a thief asked */
        while (atomic_load_explicit(&b->ran, memory_order_acquire) <= r)
            ws_poll(ctx);
        uint64_t started = atomic_load_explicit(&b->started_ns, memory_order_relaxed);
        b->latency_us[r] = started > published ? (double)(started - published) / 1e3 : 0.0;
        int rc = ws_sync(ctx, f);
        if (rc != WS_OK)
            return rc;
        if (f->ret.u == b->owner)
            b->on_owner++;
    }
    return WS_OK;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    bench b = {0};
    b.rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 300;
    b.gap_ns = (argc > 2 ? strtol(argv[2], NULL, 10) : 3000) * 1000L;
    if (b.rounds == 0 || b.gap_ns < 0) {
        fprintf(stderr, "usage: wake_latency [ROUNDS [GAP_US]]\n");
        return 2;
    }
    b.latency_us = calloc(b.rounds, sizeof *b.latency_us);
    ws_run run;
    memset(&run, 0, sizeof run);
    run.desc.abi_major = WS_ABI_MAJOR;
    run.desc.abi_minor = WS_ABI_MINOR;
    run.desc.struct_size = sizeof(ws_plugin);
    run.desc.name = "wake_latency";
    run.desc.run_one = run_one;
    run.plugin = &run.desc;
    run.count = 1;
    run.jobs = 2;
    run.seed = 1;
    run.quiet = 1;
    run.state = &b;
    wsrt_pool_result res;
    wsrt_pool *pool = wsrt_pool_create(run.jobs);
    if (!b.latency_us || !pool || wsrt_pool_run(pool, &run, &res) != 0 || res.failed) {
        fprintf(stderr, "wake_latency: the run failed\n");
        return 1;
    }
    free(res.workers);
    wsrt_pool_destroy(pool);
    if (b.on_owner) {
        fprintf(stderr, "wake_latency: %u of %u children ran on the owner\n", b.on_owner, b.rounds);
        return 1;
    }
    qsort(b.latency_us, b.rounds, sizeof *b.latency_us, by_value);
    unsigned p99 = (unsigned)((b.rounds - 1) * 0.99 + 0.5);
    printf("wake_latency: %u hand-offs after %ld us idle, published -> running on the parked "
           "worker: median %.1f us, p99 %.1f us, max %.1f us\n",
           b.rounds, b.gap_ns / 1000, b.latency_us[b.rounds / 2], b.latency_us[p99],
           b.latency_us[b.rounds - 1]);
    free(b.latency_us);
    return 0;
}
