/*
 * pool.h - internal: the work-stealing pool (runtime/sched.c).  Runs run_one for every index
 * of a run on `jobs` worker threads, and carries the fork-join slow paths.
 * Never blocks the caller's signals or changes process-wide state.
 */
#ifndef WSRUN_POOL_H
#define WSRUN_POOL_H

#include <stdint.h>

#include "run.h"

/* Bits of ws_ctx.attention: a thief asked for work; the run is stopping. */
enum { WS_ATTN_REQUEST = 1u, WS_ATTN_STOP = 2u };

/* Set a bit of ctx->attention and fire its fj_trigger, as a thief or a
 * stop does (any thread; async-signal-safe). */
void ws_attention_raise(ws_ctx *ctx, uint32_t bit);

typedef struct ws_worker_stats {
    uint64_t indices;       /* run_one calls that returned */
    uint64_t tasks;         /* frames run (ranges and fork-join children) */
    uint64_t steal_tries;   /* steal attempts on other workers' deques */
    uint64_t steals;        /* successful steals */
    uint64_t publishes;     /* frames handed from private to stealable */
    uint64_t splits;        /* index ranges split in half for a thief */
    uint64_t failed;        /* indices that failed after retries */
    uint64_t retried;       /* extra attempts made */
    uint64_t skipped;       /* indices skipped as already done (resume) */
    uint64_t busy_ns;       /* running frames */
    uint64_t idle_ns;       /* looking for work, spinning or yielding */
    uint64_t parked_ns;     /* asleep on the futex */
} ws_worker_stats;

/* Trace events, recorded per worker only when ws_run.trace is set. */
typedef enum ws_trace_kind {
    WS_TRACE_RANGE = 1, /* run_one over indices [a, b) in one frame */
    WS_TRACE_TASK = 2,  /* a stolen fork-join frame ran (a = victim worker) */
    WS_TRACE_STEAL = 3, /* instant: took a frame from worker a */
    WS_TRACE_PARK = 4,  /* asleep on the futex */
} ws_trace_kind;

typedef struct ws_trace_event {
    uint64_t t0_ns, t1_ns; /* since the pool started; t1 == t0 for instants */
    uint64_t a, b;
    uint32_t kind;
} ws_trace_event;

typedef struct ws_trace_log {
    ws_trace_event *events; /* free() */
    size_t n, cap;
} ws_trace_log;

typedef struct ws_pool_result {
    uint64_t indices_done;  /* indices whose run_one succeeded */
    uint64_t failed;        /* indices that failed */
    uint64_t wall_ns;
    unsigned jobs;
    ws_worker_stats *workers; /* jobs entries; free with free() */
    int stopped_early;      /* a failure or ws_pool_request_stop stopped it */
    int worker_init_failed; /* a worker_init failed (printed); the run failed */
    ws_trace_log *traces;   /* jobs entries when run->trace; free each .events, then it */
} ws_pool_result;

/* Run indices [0, run->count) with run->desc.run_one on run->jobs workers.
 * Worker 0 runs on the calling thread (on a deep stack of its own), the
 * others on threads of their own.  Returns once every worker has finished;
 * their threads then end by themselves, and the next ws_pool_run or
 * ws_pool_reap joins them and frees what they used.  One call at a time,
 * from one thread.
 * Per-index failures are printed (first 20 in full) and counted.
 * Returns 0, or -1 with a message printed if the threads could not start. */
int ws_pool_run(ws_run *run, ws_pool_result *result);

/* Get ready for a run of `jobs` workers before its plugin is even loaded:
 * map worker 0's stack and start the other workers' threads, which wait
 * (runtime/standby.h).  The next ws_pool_run hands its workers to them, so
 * the run does not wait for threads to start.  Optional; the thread that
 * calls ws_pool_run, once. */
void ws_pool_prepare(unsigned jobs);

/* Join the threads of ended runs and free their workers, and end and join
 * any thread ws_pool_prepare started that no run used (the thread that
 * calls ws_pool_run; before a plugin whose code they ran is unloaded, and
 * before exit). */
void ws_pool_reap(void);

/* Where a worker is (async-signal-safe, for the crash handler): on a
 * thread running a worker (the caller's, during ws_pool_run, runs worker
 * 0), its id and the index its run_one is running (or UINT64_MAX between
 * indices).  Returns 0 elsewhere. */
int ws_pool_where(unsigned *worker, uint64_t *index);

/* On a worker's thread while the plugin's worker_init or worker_fini runs
 * there: "worker_init" or "worker_fini"; NULL otherwise (async-signal-safe). */
const char *ws_pool_worker_callback(void);

/* The stack size of every worker (worker 0's own stack included): the
 * depth a task may recurse to before a stack overflow. */
#define WS_WORKER_STACK_BYTES ((size_t)256 << 20)

/* Ask the running pool to stop handing out indices (async-signal-safe).
 * Called while no pool runs, it makes the next ws_pool_run start stopped. */
void ws_pool_request_stop(void);

/* Indices done so far by the running pool (any thread; approximate). */
uint64_t ws_pool_progress(void);

/* Workers running a task right now, not looking for work (approximate). */
unsigned ws_pool_busy_workers(void);

#endif
