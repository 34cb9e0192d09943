/*
 * sched_internal.h - internal to the pool: the layout of a worker and of
 * the pool object, and the calls between the pool's files (pool.c: the
 * object, its runs and threads; sched.c: attention, publishing, stealing,
 * syncing; sched_range.c: the index loop and the worker's loop).
 * Never included outside those files: everything else goes through
 * pool.h, so the layout can change without touching a caller.
 */
#ifndef WSRT_SCHED_INTERNAL_H
#define WSRT_SCHED_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "deque.h"
#include "own_stack.h"
#include "placement.h"
#include "pool.h"
#include "standby.h"
#include "wsrt_assert.h"

#define ATTN_REQUEST WSRT_ATTN_REQUEST
#define ATTN_STOP WSRT_ATTN_STOP

/* Frames per worker: the pool's frame_frames (a share of its C stack,
 * pool.h), touched only as deep as the program nests (MAP_NORESERVE).  One
 * spare frame follows them: the spawn fast path writes a frame before its
 * one compare finds it past the end. */
#define FRAME_STACK_BYTES(p) (((p)->frame_frames + 1) * sizeof(ws_frame))
/* Split-off index ranges waiting for their sync (see push_split): each
 * nested range loop adds at most 64 (halving a 64-bit range). */
#define SPLIT_FRAMES ((size_t)1 << 16)
#define SPLIT_BYTES (SPLIT_FRAMES * sizeof(ws_frame))
#define MAX_FAILURES_PRINTED 20
#define STEAL_ROUNDS_BEFORE_YIELD 4
#define STEAL_ROUNDS_BEFORE_PARK 256
#define PARK_MIN_NS 100000L
#define PARK_MAX_NS 1000000L

/* The innermost index loop's frame-stack top (wsrt_worker.range_top),
 * with a flag in bit 0 (frames are aligned): set by ws__attend_at when
 * _at frames of the running run_one above the top were published, so the
 * loop's one compare after run_one (range_top_is) fails and top_moved
 * checks they were synced.  A struct so that no reader can compare or
 * follow the word without the accessors below, which apply the mask. */
#define RANGE_TOP_AT_PUBLISHED ((uintptr_t)1)
typedef struct wsrt_range_top {
    uintptr_t bits; /* a ws_frame *, | RANGE_TOP_AT_PUBLISHED */
} wsrt_range_top;

typedef struct wsrt_worker {
    wsrt_ctx_base base; /* first: ws_ctx * converts to wsrt_worker * */
    wsrt_pool *pool;
    wsrt_deque deque;
    ws_frame *frames;
    ws_frame *splits; /* split-off ranges, off the fork-join stack */
    size_t n_splits;
    int (*run_one)(void *, uint64_t, ws_ctx *);
    void *state;
    uint64_t victim_rng;
    unsigned nesting; /* stolen frames run on top of a waiting frame */
    wsrt_worker_stats stats;
    wsrt_trace_log trace;  /* filled only when run->trace */
    uint64_t t_origin;   /* the pool's start, for trace times */
    /* The index run_one is running, for the crash report: written before
     * each call (a plain store), read only by this thread's signal handler. */
    volatile uint64_t current_index;
    /* The index whose fork-join task this worker runs for a victim (a
     * stolen frame, run_stolen), UINT64_MAX when none: the crash report
     * names it, not current_index (the index this worker waits in).  Same
     * access rules as current_index. */
    volatile uint64_t task_index;
    /* frame_index[k]: the index frames[k] belongs to, written by the
     * owner when it publishes the frame (before the push that releases
     * it), read by the thief that took it.  Mapped as the frames are. */
    uint64_t *frame_index;
    /* "worker_init" / "worker_fini" while the plugin's runs on this
     * worker, else NULL: for the crash report and the exit guard. */
    const char *volatile callback;
    /* The innermost index loop running on this worker: the frame-stack top
     * it gives run_one, and its current end.  Lets a ws_poll inside a long
     * run_one hand the rest of the range to a thief (owner-only fields);
     * the loop sees range_end shrink and stops there. */
    wsrt_range_top range_top; /* range_top_frame(), range_top_is(), ... */
    uint64_t range_end;
    _Alignas(64) _Atomic uint64_t progress; /* indices done; read by the main thread */
    _Atomic int busy; /* running a frame (not looking for work); for the progress line */
    pthread_t thread;
    int thread_started;
    int placed; /* its thread already placed itself (a standby thread) */
} wsrt_worker;

/* The pool object (pool.h).  The first part is one run's: set up by
 * wsrt_pool_run before it publishes the run (`running`), read by that
 * run's workers, and left as it was when the run ended.  The rest is the
 * object's own and outlives its runs. */
struct wsrt_pool {
    ws_run *run;
    unsigned jobs;
    wsrt_worker **workers;
    _Atomic int done;
    _Atomic int stopping;
    _Atomic int cut_short; /* a range loop stopped with indices left (sched_range.c) */
    _Atomic int sleepers;
    _Atomic uint32_t wake_seq; /* futex word */
    pthread_mutex_t fail_lock;
    uint64_t failed;          /* under fail_lock */
    uint64_t interrupted;     /* failed after wsrun's interrupt: not done, not failed */
    int worker_init_failed;   /* under fail_lock */
    int hooked;               /* skip bits or a completion hook: use the hooked loop */
    /* Where the worker threads start (placement.h); its mask is also what
     * the caller's thread gets back after running worker 0. */
    wsrt_placement place;
    int start_failed;   /* a worker thread could not be started (under fail_lock) */
    /* --keep-going: the failures of the lowest indices, kept in index order
     * and printed when the run ends (under fail_lock). */
    struct kept_failure {
        uint64_t index;
        unsigned worker;
        char message[256];
    } kept[MAX_FAILURES_PRINTED];
    unsigned n_kept;
    /* The object's own, from here on.  On a line of their own: the run's
     * workers read the fields above in their loops. */
    _Alignas(64) unsigned prepared_jobs; /* wsrt_pool_create's: the standby set's size */
    void (*thread_start)(void); /* wsrt_pool_options' (pool.h); NULL: none */
    size_t stack_bytes;  /* each worker's C stack (wsrt_pool_options) */
    size_t frame_frames; /* each worker's fork-join frames */
    int start_errno;     /* the first thread start's failure (under fail_lock) */
    wsrt_own_stack own_stack; /* worker 0's deep stack on the caller's thread */
    /* A run's workers are published (1) or not (0): the Dekker pair with
     * wsrt_pool_request_stop and the readers (pool.c, run_enter). */
    _Atomic int running;
    _Atomic int readers;      /* threads and handlers inside run_enter/run_leave */
    _Atomic int stop_pending; /* a stop asked before the next run published */
    /* Threads of the current run that have not left it yet (a futex word):
     * wsrt_pool_run returns once it is 0, without waiting for the threads
     * to end.  A leaving thread may still pass this word to futex_wake
     * after the count reached 0 and the run returned: safe because the
     * word lives as long as the pool, and the pool is only freed by
     * wsrt_pool_destroy after it joined every thread of every run
     * (retired workers) and every standby thread. */
    _Atomic uint32_t threads_in_run;
    /* The workers of ended runs, whose threads wsrt_pool_reap joins and
     * whose memory it frees (the thread that runs the pool only).  Kept
     * out of the run: an munmap while another thread of the process is
     * alive costs a TLB shootdown (docs/design.md, "Costs measured on the
     * project's VM"). */
    wsrt_worker **retired;
    unsigned n_retired, cap_retired;
    wsrt_standby standby; /* threads started ahead (standby.h) */
};

/* The worker running on this thread, for wsrt_pool_where, the crash
 * report and the owner-only checks; NULL off workers. */
extern _Thread_local wsrt_worker *wsrt_this_worker;

/* The frame-stack top of the worker's innermost index loop (NULL: none),
 * with or without the flag. */
static inline ws_frame *range_top_frame(const wsrt_worker *w)
{
    return (ws_frame *)(w->range_top.bits & ~RANGE_TOP_AT_PUBLISHED);
}

/* The top is exactly f, flag clear: one compare, the index loop's. */
static inline int range_top_is(const wsrt_worker *w, const ws_frame *f)
{
    return w->range_top.bits == (uintptr_t)f;
}

/* The top is f, flag clear. */
static inline void range_top_set(wsrt_worker *w, ws_frame *f)
{
    WSRT_ASSERT(((uintptr_t)f & RANGE_TOP_AT_PUBLISHED) == 0); /* frames are aligned */
    w->range_top.bits = (uintptr_t)f;
}

/* Flag the top: run_one's _at frames above it were published. */
static inline void range_top_mark_published(wsrt_worker *w)
{
    w->range_top.bits |= RANGE_TOP_AT_PUBLISHED;
}

static inline wsrt_worker *worker_of(ws_ctx *ctx)
{
    return (wsrt_worker *)(void *)ctx;
}

/* sched.c */
void wsrt_trace_add(wsrt_worker *w, wsrt_trace_kind kind, uint64_t t0, uint64_t t1, uint64_t a,
                      uint64_t b);
void wsrt_wake_all(wsrt_pool *p);
void wsrt_clear_attention(ws_ctx *ctx, uint32_t bit);
size_t wsrt_publish_half(wsrt_worker *w);
void wsrt_push_split(wsrt_worker *w, uint64_t begin, uint64_t end);
uint32_t wsrt_next_victim(wsrt_worker *w);
int wsrt_try_steal_from(wsrt_worker *w, wsrt_worker *victim, _Atomic uint32_t *waited_state);
void wsrt_sync_splits(wsrt_worker *w, size_t base);

/* sched_range.c */
int wsrt_range_task(ws_ctx *ctx, ws_frame *self);
void wsrt_worker_run(wsrt_worker *w);

/* pool.c */
int wsrt_start_worker_thread(wsrt_pool *p, unsigned i);
size_t wsrt_pool_reserved_per_worker(const wsrt_pool *p); /* stack, guard, frames, splits */

#endif
