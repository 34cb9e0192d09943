/*
 * pool.h - internal: the work-stealing pool, an object (runtime/sched/pool.c;
 * its scheduler is sched.c and sched_range.c).  Runs run_one for every
 * index of a run on worker threads, and carries the fork-join slow paths.
 * Several pools in one program are independent: each has its own
 * threads, stop flag and counters, and two may run at once on different
 * threads.  Never blocks the caller's signals, installs a signal handler
 * or keeps a process-wide pool pointer: the commands that install
 * handlers register their pool with runtime/cmd/pool_registry.h.
 */
#ifndef WSRT_POOL_H
#define WSRT_POOL_H

#include <stdint.h>

#include "run.h"

/* Bits of ws_ctx.attention: a thief asked for work; the run is stopping. */
enum { WSRT_ATTN_REQUEST = 1u, WSRT_ATTN_STOP = 2u };

/* Set a bit of ctx->attention and fire its fj_trigger, as a thief or a
 * stop does (any thread; async-signal-safe). */
void wsrt_attention_raise(ws_ctx *ctx, uint32_t bit);

typedef struct wsrt_worker_stats {
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
} wsrt_worker_stats;

/* Trace events, recorded per worker only when ws_run.trace is set. */
typedef enum wsrt_trace_kind {
    WSRT_TRACE_RANGE = 1, /* run_one over indices [a, b) in one frame */
    WSRT_TRACE_TASK = 2,  /* a stolen fork-join frame ran (a = victim worker) */
    WSRT_TRACE_STEAL = 3, /* instant: took a frame from worker a */
    WSRT_TRACE_PARK = 4,  /* asleep on the futex */
} wsrt_trace_kind;

typedef struct wsrt_trace_event {
    uint64_t t0_ns, t1_ns; /* since the pool started; t1 == t0 for instants */
    uint64_t a, b;
    uint32_t kind;
} wsrt_trace_event;

typedef struct wsrt_trace_log {
    wsrt_trace_event *events; /* free() */
    size_t n, cap;
} wsrt_trace_log;

typedef struct wsrt_pool_result {
    uint64_t indices_done;  /* indices whose run_one succeeded */
    uint64_t failed;        /* indices that failed */
    uint64_t wall_ns;
    unsigned jobs;
    wsrt_worker_stats *workers; /* jobs entries; free with free() */
    int stopped_early;      /* a failure or wsrt_pool_request_stop stopped it
                             * with indices not run */
    int stop_seen;          /* the run was asked to stop (a stop after its
                             * last index too): the request is used up */
    int worker_init_failed; /* a worker_init failed (printed); the run failed */
    wsrt_trace_log *traces;   /* jobs entries when run->trace; free each .events, then it */
    /* Set when wsrt_pool_run returned -1 because workers could not be set
     * up or their threads started (nothing printed: the caller words it,
     * with wsrt_pool_start_error and its own way out). */
    int start_failed;
    int start_errno;           /* the first failure's reason */
    unsigned workers_started;  /* workers that had a thread (or the caller's) */
    size_t reserved_per_worker; /* address space each worker reserves */
} wsrt_pool_result;

/* The pool object (its layout is internal to the pool's files). */
typedef struct wsrt_pool wsrt_pool;

/* A pool for runs of about `jobs` workers: maps worker 0's stack and
 * starts the other workers' threads, which wait (runtime/sched/standby.h), so a
 * run does not wait for threads to start: wsrun creates its pool with the
 * run's -j before it loads the plugin.  Threads that cannot start are not
 * a failure (the run starts its own).  NULL with errno set when the
 * object cannot be had.  Any thread; the pool then belongs to it (below). */
wsrt_pool *wsrt_pool_create(unsigned jobs);
/* The same, with each worker's C stack `stack_bytes` long (0: the
 * default, WSRT_WORKER_STACK_BYTES); its fork-join frame stack gets a
 * quarter of that (WSRT_FRAME_STACK_SHARE). */
wsrt_pool *wsrt_pool_create_stack(unsigned jobs, size_t stack_bytes);

/* One line (no "wsrun: ", no way out) for a run whose result has
 * start_failed: how many workers started, the reason, and the address
 * space the workers reserve against the process's limit (ulimit -v). */
void wsrt_pool_start_error(const wsrt_pool_result *r, char *buf, size_t size);

/* What a pool can be created with beyond its size.  thread_start, unless
 * NULL, is called first on every thread the pool starts (standby threads
 * included, and once more when such a thread is handed its worker), before
 * any plugin code runs there: the command layer gives its per-thread
 * crash set-up (runtime/cmd/crash.h); a library embedding the pool gives
 * none.  It must allow being called twice on one thread, must not fail
 * the thread and must not call into the pool. */
typedef struct wsrt_pool_options {
    unsigned jobs;              /* as wsrt_pool_create's */
    void (*thread_start)(void); /* NULL: nothing */
    size_t stack_bytes;         /* as wsrt_pool_create_stack's; 0: the default */
} wsrt_pool_options;

/* wsrt_pool_create with options; wsrt_pool_create(j) is
 * wsrt_pool_create_with(&(wsrt_pool_options){.jobs = j}). */
wsrt_pool *wsrt_pool_create_with(const wsrt_pool_options *options);

/* Run indices [0, run->count) with run->desc.run_one on run->jobs workers
 * (0 means 1, as before pools were objects).  run->jobs may differ from
 * the pool's `jobs`: that only sized the threads started ahead; workers
 * beyond them get threads started now, and waiting threads beyond the
 * run's workers end.  Worker 0 runs on the calling thread (on a deep
 * stack of its own, unless another pool's run has it: then on a thread),
 * the others on threads of their own.  Returns once every worker has
 * finished; their threads then end by themselves, and the next
 * wsrt_pool_run or wsrt_pool_reap joins them and frees what they used.
 * One run at a time per pool, from the thread the pool belongs to.
 * Per-index failures are printed (first 20 in full) and counted.
 * Returns 0, or -1 with a message printed if the threads could not start. */
int wsrt_pool_run(wsrt_pool *pool, ws_run *run, wsrt_pool_result *result);

/* Join the threads of ended runs and free their workers, and end and join
 * the threads started ahead that no run used: before a plugin whose code
 * they ran is unloaded.  The pool's thread, not during a run; NULL ok.
 * A later run starts threads of its own. */
void wsrt_pool_reap(wsrt_pool *pool);

/* wsrt_pool_reap, then free the pool.  No other thread may still use the
 * pool (a command unregisters it first: pool_registry.h).  NULL ok. */
void wsrt_pool_destroy(wsrt_pool *pool);

/* Ask the pool's run to stop handing out indices (any thread;
 * async-signal-safe).  Asked while the pool has no run, it makes the
 * next wsrt_pool_run of this pool start stopped (and is used up by it);
 * other pools are never affected.  NULL ok (does nothing). */
void wsrt_pool_request_stop(wsrt_pool *pool);

/* Forget a stop asked while the pool had no run, so that the next run
 * does not start stopped (libwsrun: ws_pool_stop stops the run in
 * progress only).  The pool's thread, between runs, once no
 * wsrt_pool_request_stop of it is still in progress.  NULL ok. */
void wsrt_pool_drop_stop(wsrt_pool *pool);

/* Indices done so far by the pool's running run, and its workers running
 * a task right now (not looking for work); 0 between runs (any thread,
 * while the pool exists; approximate).  A reader is counted while it
 * looks at a run's workers, and the run waits for it before retiring
 * them, so a reader never touches freed workers. */
uint64_t wsrt_pool_progress(wsrt_pool *pool);
/* 1 while a run of the pool is published and stopping (a failure, or
 * wsrt_pool_request_stop); any thread, also one that is not a worker (what
 * ws_stopping cannot answer there). */
int wsrt_pool_stopping(wsrt_pool *pool);
unsigned wsrt_pool_busy_workers(wsrt_pool *pool);

/* Where a worker is (async-signal-safe, for the crash handler): on a
 * thread running a worker of any pool (the caller's, during
 * wsrt_pool_run, runs worker 0), its id and the index its run_one is
 * running (or UINT64_MAX between indices).  Returns 0 elsewhere.  Asks
 * about the calling thread only (a thread-local). */
int wsrt_pool_where(unsigned *worker, uint64_t *index);

/* On a worker's thread while the plugin's worker_init or worker_fini runs
 * there: "worker_init" or "worker_fini"; NULL otherwise (async-signal-safe). */
const char *wsrt_pool_worker_callback(void);

/* A run_block hook (run.h; --isolate) waiting for its block on the
 * worker's thread: 1 when a thief asked this worker for work (and the run
 * is not stopping). */
int wsrt_block_steal_requested(ws_ctx *ctx);
/* The same hook, once its block's indices from `from` on are taken back
 * (never run by it: its *next stays at or below `from`): give a thief the
 * upper half of [from, the worker's range end), all of it when one index
 * is left, and answer the request.  1 if something was given. */
int wsrt_block_split_from(ws_ctx *ctx, uint64_t from);

/* The pool whose worker runs on the calling thread, or NULL
 * (async-signal-safe): lets a worker stop its own run. */
wsrt_pool *wsrt_pool_of_caller(void);

/* The default stack size of every worker (worker 0's own stack
 * included): the depth a task may recurse to before a stack overflow;
 * wsrun --stack SIZE sets another.  Address space, reserved, touched only
 * as deep as the program recurses; but reserved space counts against
 * `ulimit -v`, so it is sized to what the deepest shipped workloads touch
 * (docs/design.md, "Worker memory"), not generously: wsrun 1.4's 256 MiB
 * kept -j61 from starting under a 16 GB limit. */
#define WSRT_WORKER_STACK_BYTES ((size_t)64 << 20)
/* The frame stack is this share of the C stack (1/4: 64 B frames, 16 MiB
 * and 262144 frames for the default). */
#define WSRT_FRAME_STACK_SHARE 4
/* --stack's range. */
#define WSRT_WORKER_STACK_MIN ((size_t)256 << 10)
#define WSRT_WORKER_STACK_MAX ((size_t)64 << 30)

/* The C stack size of the workers of the pool whose worker runs on the
 * calling thread, or 0 off workers (async-signal-safe: the crash report). */
size_t wsrt_pool_stack_bytes_of_caller(void);

#endif
