/*
 * sched.c - the work-stealing pool: worker threads, stealing, parking, the
 * lazily split index range, and the fork-join slow paths of wsrun.h.
 *
 * Every task is a ws_frame on its owner's frame stack.  Frames are private
 * (owner-only, no atomics) until a thief asks for work; then the owner
 * publishes its oldest private frames by pushing pointers to them on its
 * Chase-Lev deque.  A thief runs a stolen frame in place and marks it done;
 * the owner, syncing a frame a thief took, helps that thief (leapfrogging)
 * until it is done.  An index range is such a frame: its loop splits off
 * the upper half only when a thief asked, so thieves always get large
 * pieces and the owner's loop costs one indirect call and a counter.
 *
 * Must never: block the owner's fast path, let a frame run twice, let an
 * idle worker spin without bound (it parks on a futex), or run a stolen
 * frame that is not a descendant of the frame a waiting worker syncs (that
 * bounds the stack by the program's own recursion depth).
 */
#include "pool.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "deque.h"
#include "futex.h"
#include "wake.h"
#include "own_stack.h"
#include "placement.h"
#include "standby.h"
#include "test_hooks.h"

#define ATTN_REQUEST WS_ATTN_REQUEST
#define ATTN_STOP WS_ATTN_STOP

/* Frames per worker: 64 MiB of address space, touched only as deep as the
 * program nests (MAP_NORESERVE).  One spare frame follows them: the spawn
 * fast path writes a frame before its one compare finds it past the end. */
#define FRAME_STACK_FRAMES ((size_t)1 << 20)
#define FRAME_STACK_BYTES ((FRAME_STACK_FRAMES + 1) * sizeof(ws_frame))
/* Split-off index ranges waiting for their sync (see push_split): each
 * nested range loop adds at most 64 (halving a 64-bit range). */
#define SPLIT_FRAMES ((size_t)1 << 16)
#define SPLIT_BYTES (SPLIT_FRAMES * sizeof(ws_frame))
#define WORKER_STACK_BYTES WS_WORKER_STACK_BYTES
#define MAX_FAILURES_PRINTED 20
#define STEAL_ROUNDS_BEFORE_YIELD 4
#define STEAL_ROUNDS_BEFORE_PARK 256
#define PARK_MIN_NS 100000L
#define PARK_MAX_NS 1000000L

typedef struct ws_pool ws_pool;

typedef struct ws_worker {
    ws_ctx_base base; /* first: ws_ctx * converts to ws_worker * */
    ws_pool *pool;
    ws_deque deque;
    ws_frame *frames;
    ws_frame *splits; /* split-off ranges, off the fork-join stack */
    size_t n_splits;
    int (*run_one)(void *, uint64_t, ws_ctx *);
    void *state;
    uint64_t victim_rng;
    unsigned nesting; /* stolen frames run on top of a waiting frame */
    ws_worker_stats stats;
    ws_trace_log trace;  /* filled only when run->trace */
    uint64_t t_origin;   /* the pool's start, for trace times */
    /* The index run_one is running, for the crash report: written before
     * each call (a plain store), read only by this thread's signal handler. */
    volatile uint64_t current_index;
    /* "worker_init" / "worker_fini" while the plugin's runs on this
     * worker, else NULL: for the crash report and the exit guard. */
    const char *volatile callback;
    /* The innermost index loop running on this worker: the frame-stack top
     * it gives run_one, and its current end.  Lets a ws_poll inside a long
     * run_one hand the rest of the range to a thief (owner-only fields);
     * the loop sees range_end shrink and stops there. */
    ws_frame *range_top;
    uint64_t range_end;
    _Alignas(64) _Atomic uint64_t progress; /* indices done; read by the main thread */
    _Atomic int busy; /* running a frame (not looking for work); for the progress line */
    pthread_t thread;
    int thread_started;
    int placed; /* its thread already placed itself (a standby thread) */
} ws_worker;

struct ws_pool {
    ws_run *run;
    unsigned jobs;
    ws_worker **workers;
    _Atomic int done;
    _Atomic int stopping;
    _Atomic int sleepers;
    _Atomic uint32_t wake_seq; /* futex word */
    pthread_mutex_t fail_lock;
    uint64_t failed;          /* under fail_lock */
    int worker_init_failed;   /* under fail_lock */
    int hooked;               /* skip bits or a completion hook: use the hooked loop */
    /* Where the worker threads start (placement.h); its mask is also what
     * the caller's thread gets back after running worker 0. */
    ws_placement place;
    int start_failed;   /* a worker thread could not be started (under fail_lock) */
    /* --keep-going: the failures of the lowest indices, kept in index order
     * and printed when the run ends (under fail_lock). */
    struct kept_failure {
        uint64_t index;
        unsigned worker;
        char message[256];
    } kept[MAX_FAILURES_PRINTED];
    unsigned n_kept;
};

/* The pool being run, for the signal-safe stop and the progress query.
 * Readers from other threads and signal handlers bracket their use with
 * pool_enter/pool_leave, and ws_pool_run waits for them before freeing. */
static ws_pool *_Atomic current_pool;
static _Atomic int pool_readers;

static ws_pool *pool_enter(void)
{
    /* seq_cst (both): Dekker-style with the teardown in ws_pool_run: either
     * it sees our count, or we see the NULL it stored first. */
    atomic_fetch_add(&pool_readers, 1);
    ws_pool *p = atomic_load(&current_pool);
    if (!p)
        atomic_fetch_sub(&pool_readers, 1);
    return p;
}

static void pool_leave(void)
{
    atomic_fetch_sub(&pool_readers, 1); /* seq_cst: see pool_enter */
}
/* Threads of the current run that have not left it yet (a futex word):
 * ws_pool_run returns once it is 0, without waiting for the threads to
 * end.  Static rather than in the pool, whose memory is gone by then: a
 * thread that has just left may still pass this word to futex_wake. */
static _Atomic uint32_t threads_in_run;

/* The workers of ended runs, whose threads ws_pool_reap joins and whose
 * memory it frees (the caller's thread only, like ws_pool_run).  Kept out
 * of the run: on this project's VM an munmap while another thread of the
 * process is alive costs tens of microseconds (TLB shootdown). */
static struct ws_worker **retired;
static unsigned n_retired, cap_retired;

/* The worker running on this thread, for ws_pool_where. */
static _Thread_local ws_worker *this_worker;

/* Set up per-thread crash reporting (runtime/crash.c), if linked in. */
extern void ws_crash_thread_init(void) __attribute__((weak, visibility("hidden")));

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline ws_worker *worker_of(ws_ctx *ctx)
{
    return (ws_worker *)(void *)ctx;
}

static void trace_event(ws_worker *w, ws_trace_kind kind, uint64_t t0, uint64_t t1, uint64_t a,
                        uint64_t b)
{
    ws_trace_log *log = &w->trace;
    if (log->n == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 1024;
        ws_trace_event *ev = realloc(log->events, cap * sizeof *ev);
        if (!ev)
            return; /* a trace with a gap beats a failed run */
        log->events = ev;
        log->cap = cap;
    }
    log->events[log->n++] = (ws_trace_event){t0 - w->t_origin, t1 - w->t_origin, a, b, kind};
}

/* ------------------------------------------------------------ parking */

/* Wake one parked worker, if any: called when a steal succeeded (so there
 * may be more to steal) and wake-ups cascade from thief to thief. */
static void wake_one(ws_pool *p)
{
    /* relaxed: a missed sleeper wakes by its timeout (at most 1 ms). */
    if (atomic_load_explicit(&p->sleepers, memory_order_relaxed) > 0) {
        /* release: orders nothing the sleeper needs beyond the deques,
         * which carry their own synchronisation; it changes the futex word
         * so a sleeper about to wait returns at once. */
        atomic_fetch_add_explicit(&p->wake_seq, 1, memory_order_release);
        ws_futex_wake(&p->wake_seq, 1);
    }
}

static void wake_all(ws_pool *p)
{
    atomic_fetch_add_explicit(&p->wake_seq, 1, memory_order_release);
    ws_futex_wake(&p->wake_seq, 1 << 30);
}

/* ---------------------------------------------------------- attention */

/* ws_ctx.attention says why a worker must call the runtime (a thief asked
 * for work, the run is stopping); fj_trigger mirrors it for the spawn fast
 * path, which tests both that and the depth limit with one compare: it is
 * 0 while attention may be non-zero, else fj_limit.
 *
 * Invariant: once a bit is set in attention and every call below has
 * returned, fj_trigger is 0 unless the owner has cleared the bit since.
 * Argument: ws_attention_raise sets the bit then stores 0; clear_attention
 * stores the limit then reads attention, and stores 0 again if a bit is
 * there.  All four are seq_cst, so in their single total order either the
 * owner's read comes after the thief's RMW (it sees the bit and stores 0
 * itself) or before it, and then the thief's store of 0 comes after the
 * owner's store of the limit and wins.  The relaxed stores of 0 below can
 * only make the trigger fire sooner, which is always safe. */
void ws_attention_raise(ws_ctx *ctx, uint32_t bit)
{
    atomic_fetch_or_explicit(&ctx->attention, bit, memory_order_seq_cst);
    atomic_store_explicit(&ctx->fj_trigger, 0, memory_order_seq_cst);
}

/* Owner only: clear `bit` and point the trigger back at the limit unless
 * some bit is still set. */
static void clear_attention(ws_ctx *ctx, uint32_t bit)
{
    /* seq_cst: the argument above needs this RMW in the total order S too.
     * Relaxed, C11 (7.17.3p3) lets our seq_cst load below read this RMW's
     * value even when the thief's fetch_or comes later in attention's
     * modification order and earlier in S (a non-seq_cst write that does
     * not happen before it): the load misses the bit although the thief's
     * store of 0 came before our store of the limit, so the trigger stays
     * at the limit with a request set and _at spawns stop publishing.  As
     * a seq_cst RMW it is in S: either before the fetch_or (then the load,
     * later in S, reads the fetch_or or a later value) or after it (then it
     * read the bit and left it).  On x86 both compile to the same lock'ed
     * instruction, so no test can tell them apart: argued here instead. */
    atomic_fetch_and_explicit(&ctx->attention, ~bit, memory_order_seq_cst);
    atomic_store_explicit(&ctx->fj_trigger, (uintptr_t)ctx->fj_limit, memory_order_seq_cst);
    if (atomic_load_explicit(&ctx->attention, memory_order_seq_cst))
        atomic_store_explicit(&ctx->fj_trigger, 0, memory_order_relaxed);
}

/* --------------------------------------------------------- publishing */

/* Hand the oldest half of this worker's private, not running frames to
 * thieves.  Frames below the new boundary are then published or running;
 * running frames (fn == NULL) are stepped over, never published. */
static size_t publish_half(ws_worker *w)
{
    ws_ctx *ctx = &w->base.ctx;
    ws_frame *f, *head = ctx->fj_head;
    size_t pending = 0;
    for (f = ctx->fj_pub; f < head; f++)
        pending += f->fn != NULL;
    if (pending == 0)
        return 0;
    size_t give = (pending + 1) / 2, given = give;
    for (f = ctx->fj_pub; give > 0; f++) {
        if (f->fn == NULL)
            continue;
        /* relaxed: published by the release store of bottom in push. */
        atomic_store_explicit(&f->state, WS_FRAME_PENDING, memory_order_relaxed);
        atomic_store_explicit(&f->thief, 0, memory_order_relaxed);
        if (ws_deque_push(&w->deque, (uintptr_t)f) != 0) {
            ws_err("out of memory growing the deque of worker %u", ctx->worker_id);
            abort();
        }
        w->stats.publishes++;
        give--;
    }
    ctx->fj_pub = f;
    ws_wake_after_publish(&w->pool->sleepers, &w->pool->wake_seq); /* a parked thief: wake.h */
    return given;
}

static int range_task(ws_ctx *ctx, ws_frame *self);

/* Set in a worker's range_top by ws__attend_at: see top_moved. */
#define RANGE_TOP_AT_PUBLISHED ((uintptr_t)1)

/* Publish [begin, end) as a new range frame for thieves.  It goes on the
 * worker's split stack, never on the fork-join frame stack: run_one (and
 * plugins built for 1.0-1.2, whose inline code cannot change) may hold a
 * top it read before a ws_poll and spawn there with the _at calls, which
 * would overwrite a frame put at that top.  The deque still holds it in
 * sync order: the range loop syncs it (sync_splits) after everything
 * pushed later, i.e. run_one's own children, was synced. */
static void push_split(ws_worker *w, uint64_t begin, uint64_t end)
{
    if (w->n_splits == SPLIT_FRAMES) {
        ws_err("index ranges nested deeper than %zu splits on worker %u", SPLIT_FRAMES,
               w->base.ctx.worker_id);
        abort();
    }
    ws_frame *half = &w->splits[w->n_splits++];
    half->fn = range_task;
    half->arg[0].u = begin;
    half->arg[1].u = end;
    /* relaxed: published by the release store of bottom in push. */
    atomic_store_explicit(&half->state, WS_FRAME_PENDING, memory_order_relaxed);
    atomic_store_explicit(&half->thief, 0, memory_order_relaxed);
    if (ws_deque_push(&w->deque, (uintptr_t)half) != 0) {
        ws_err("out of memory growing the deque of worker %u", w->base.ctx.worker_id);
        abort();
    }
    w->stats.publishes++;
    w->stats.splits++;
    w->range_end = begin;
    ws_wake_after_publish(&w->pool->sleepers, &w->pool->wake_seq); /* as publish_half */
}

/* Inside run_one, with nothing of its own to publish: give a thief the
 * upper half of the indices after the running one (all of them when one is
 * left).  Only when run_one has no frames of its own published (fj_pub)
 * or recorded (fj_head), so the split sits below anything it publishes
 * later in the deque and the LIFO order of syncs holds.  The index loop
 * sees range_end shrink when run_one returns. */
static int split_running_range(ws_worker *w)
{
    ws_ctx *ctx = &w->base.ctx;
    if (!w->range_top || ctx->fj_head != w->range_top || ctx->fj_pub > w->range_top ||
        w->current_index == UINT64_MAX)
        return 0;
    uint64_t next = w->current_index + 1, end = w->range_end;
    if (next >= end)
        return 0;
    push_split(w, next + (end - next) / 2, end);
    return 1;
}

void ws__attend(ws_ctx *ctx)
{
    ws_worker *w = worker_of(ctx);
    /* relaxed: the bit is a request, not a carrier of data. */
    uint32_t a = atomic_load_explicit(&ctx->attention, memory_order_relaxed);
    /* Clear the request only when something was published: otherwise it
     * stays set until an index loop can split its range.  A request that
     * arrives between the publishing and the clearing is not lost: the
     * thief finds the published frames, or asks again. */
    if ((a & ATTN_REQUEST) && !(a & ATTN_STOP) &&
        (publish_half(w) > 0 || split_running_range(w)))
        clear_attention(ctx, ATTN_REQUEST);
}

/* The spawn fast path's call (and ws_poll_at's): `top` is the caller's
 * top of the frame stack, one past the frame just spawned.  ctx's own
 * record (fj_head) is set to it while publishing and restored after,
 * since _at code does not keep that record and implicit code above it
 * relies on it.  Never splits a running range: the caller has frames of
 * its own outstanding (the one just spawned), which must be synced before
 * a split-off range. */
void ws__attend_at(ws_ctx *ctx, ws_frame *top)
{
    if (WS_UNLIKELY(top > ctx->fj_limit))
        ws__frames_exhausted(ctx); /* the spare frame was spawned */
    /* relaxed: as in ws__attend. */
    uint32_t a = atomic_load_explicit(&ctx->attention, memory_order_relaxed);
    if (!a) {
        /* A stale trigger (the owner cleared the bit in between). */
        clear_attention(ctx, 0);
        return;
    }
    if (!(a & ATTN_REQUEST) || (a & ATTN_STOP))
        return;
    ws_frame *saved = ctx->fj_head;
    ws_worker *w = worker_of(ctx);
    ctx->fj_head = top;
    size_t given = publish_half(w);
    ctx->fj_head = saved;
    if (given > 0)
        clear_attention(ctx, ATTN_REQUEST);
    /* _at frames of the running run_one itself (above the record, which
     * is still its range_top) are now published: mark range_top so that
     * the index loop's one compare after run_one sends it to top_moved,
     * which checks that they were synced (frames are aligned: bit 0 is
     * free). */
    if (ctx->fj_pub > saved && w->range_top == saved && w->current_index != UINT64_MAX)
        w->range_top = (ws_frame *)((uintptr_t)saved | RANGE_TOP_AT_PUBLISHED);
}

int ws__join_at(ws_ctx *ctx, ws_frame *f)
{
    if (WS_UNLIKELY(ctx->worker_id == UINT32_MAX))
        ws__frames_exhausted(ctx); /* no fork-join off worker threads */
    /* While waiting, stolen frames run above f (run_stolen puts them at
     * fj_head), so the record must say f + 1; put back after. */
    ws_frame *saved = ctx->fj_head;
    ctx->fj_head = f + 1;
    int status = ws__sync_slow(ctx, f);
    ctx->fj_head = saved;
    return status;
}

void ws__frames_exhausted(ws_ctx *ctx)
{
    if (ctx->worker_id == UINT32_MAX)
        ws_err("%s: fork-join (ws_spawn) is only possible in run_one and its tasks, not in "
               "init or finish",
               ws_plugin_name(ctx));
    else
        ws_err("%s: fork-join nesting deeper than %zu frames on worker %u", ws_plugin_name(ctx),
               FRAME_STACK_FRAMES, ctx->worker_id);
    abort();
}

int ws_stopping(const ws_ctx *ctx)
{
    /* The calling worker's pool (it outlives every run_one); off worker
     * threads (init, finish) there is no run to stop. */
    (void)ctx;
    ws_worker *w = this_worker;
    /* relaxed: a hint for long tasks to return early. */
    return w && atomic_load_explicit(&w->pool->stopping, memory_order_relaxed) != 0;
}

/* ----------------------------------------------------------- stealing */

static void ask_for_work(ws_worker *victim)
{
    /* relaxed: a request carries no data; test first so idle thieves do not
     * keep the victim's cache line bouncing. */
    if (!(atomic_load_explicit(&victim->base.ctx.attention, memory_order_relaxed) & ATTN_REQUEST))
        ws_attention_raise(&victim->base.ctx, ATTN_REQUEST);
}

/* Run a frame taken from another worker's deque, then mark it done for its
 * owner.  It runs as a copy on top of this worker's frame stack, so that
 * its children go at copy + 1 here (the rule "a task's free space starts at
 * self + 1" holds wherever it runs); its results are copied back. */
static void run_stolen(ws_worker *w, ws_frame *f, unsigned victim)
{
    ws_ctx *ctx = &w->base.ctx;
    /* relaxed: only read by the owner to pick whom to help while waiting. */
    atomic_store_explicit(&f->thief, ctx->worker_id + 1, memory_order_relaxed);
    w->stats.steals++;
    w->stats.tasks++;
    w->nesting++;
    /* The stolen frame runs in the middle of a task of ours that waits (a
     * sync), and that task may have recorded a message already (ws_fail,
     * then a sync before it returns): keep it aside, give the stolen frame
     * an empty buffer, and put the message back after.  A worker with
     * nothing running (worker_loop) has an empty buffer: no copy then. */
    char kept_msg[WS_ERRBUF];
    int kept = w->base.errbuf[0] != '\0';
    if (kept)
        memcpy(kept_msg, w->base.errbuf, WS_ERRBUF);
    w->base.errbuf[0] = '\0';
    ws_frame *copy = ctx->fj_head;
    if (WS_UNLIKELY(copy >= ctx->fj_limit))
        ws__frames_exhausted(ctx);
    ws_task_fn fn = f->fn;
    copy->ret = f->ret;
    memcpy(copy->arg, f->arg, sizeof copy->arg);
    copy->fn = NULL; /* running: never published */
    ctx->fj_head = copy + 1;
    uint64_t t0 = w->pool->run->trace ? now_ns() : 0;
    int status = fn(ctx, copy);
    if (w->pool->run->trace && fn != range_task)
        trace_event(w, WS_TRACE_TASK, t0, now_ns(), victim, 0);
    ctx->fj_head = copy;
    if (ctx->fj_pub > copy)
        ctx->fj_pub = copy;
    w->nesting--;
    f->ret = copy->ret;
    memcpy(f->arg, copy->arg, sizeof f->arg);
    f->status = status;
    if (status != WS_OK)
        f->stolen_err = strdup(w->base.errbuf[0] ? w->base.errbuf : "child task failed");
    if (kept)
        memcpy(w->base.errbuf, kept_msg, WS_ERRBUF);
    else
        w->base.errbuf[0] = '\0';
    /* release: the owner that acquires DONE sees status, ret and the
     * frame's side effects. */
    atomic_store_explicit(&f->state, WS_FRAME_DONE, memory_order_release);
}

static uint32_t next_victim(ws_worker *w)
{
    w->victim_rng = w->victim_rng * 6364136223846793005u + 1442695040888963407u;
    uint32_t others = w->pool->jobs - 1;
    uint32_t v = (uint32_t)((w->victim_rng >> 33) % others);
    return v >= w->base.ctx.worker_id ? v + 1 : v;
}

/* One steal attempt on `victim`; runs the frame if one was taken.  With
 * `waited_state` (the state of a frame this worker waits for), gives up if
 * that frame is done before the item is claimed (leapfrogging). */
static int try_steal_from(ws_worker *w, ws_worker *victim, _Atomic uint32_t *waited_state)
{
    uintptr_t item;
    w->stats.steal_tries++;
    int r = ws_deque_steal_unless(&victim->deque, &item, waited_state);
    if (r == WS_DEQUE_GOT) {
        wake_one(w->pool);
        if (w->pool->run->trace) {
            uint64_t t = now_ns();
            trace_event(w, WS_TRACE_STEAL, t, t, victim->base.ctx.worker_id, 0);
        }
        run_stolen(w, (ws_frame *)item, victim->base.ctx.worker_id);
        return 1;
    }
    if (r == WS_DEQUE_EMPTY)
        ask_for_work(victim);
    return 0;
}

/* ------------------------------------------------------------ syncing */

static int finish_sync(ws_ctx *ctx, ws_frame *f)
{
    int status = f->status;
    if (f->stolen_err) {
        snprintf(((ws_ctx_base *)ctx)->errbuf, WS_ERRBUF, "%s", f->stolen_err);
        free(f->stolen_err);
        f->stolen_err = NULL;
    }
    return status;
}

/* Until the thief of f (published, then stolen) marks it done: help that
 * thief with frames from its deque, which can only be f's descendants (it
 * took f from our deque while its own was empty, and thieves always take
 * the oldest frame first). */
static void wait_for_thief(ws_worker *w, ws_frame *f)
{
    unsigned fails = 0;
    /* acquire: pairs with the release store of DONE in run_stolen. */
    while (atomic_load_explicit(&f->state, memory_order_acquire) != WS_FRAME_DONE) {
        /* relaxed: a stale 0 only delays helping by one round. */
        uint32_t thief = atomic_load_explicit(&f->thief, memory_order_relaxed);
        WS_HOOK("sync.before_help");
        /* The thief may finish f between the load of state above and its
         * steal, then take unrelated work and publish part of it: the
         * steal re-checks f's state before it claims an item (deque.c),
         * so this worker runs only f's descendants, as the header says. */
        int helped = thief && try_steal_from(w, w->pool->workers[thief - 1], &f->state);
        WS_HOOK("sync.after_help");
        if (helped) {
            fails = 0;
            continue;
        }
        if (++fails < 64)
            continue;
        if (fails < 256)
            sched_yield();
        else {
            struct timespec ts = {0, fails < 1024 ? 20000 : 200000};
            nanosleep(&ts, NULL);
        }
    }
}

int ws__sync_slow(ws_ctx *ctx, ws_frame *f)
{
    ws_worker *w = worker_of(ctx);
    uintptr_t item;
    if (ws_deque_take(&w->deque, &item) == WS_DEQUE_GOT) {
        /* Not stolen: f was the newest published frame.  It is private
         * again; run it as the inline path does. */
        if ((ws_frame *)item != f) {
            ws_err("internal error: fork-join frames synced out of order on worker %u",
                   ctx->worker_id);
            abort();
        }
        ctx->fj_pub = f;
        return ws_sync(ctx, f);
    }
    /* Stolen.  f stays reserved (fj_head = f + 1) while its thief writes
     * into it. */
    wait_for_thief(w, f);
    ctx->fj_head = f;
    ctx->fj_pub = f;
    return finish_sync(ctx, f);
}

/* Sync the ranges this worker split off since its split stack held `base`
 * frames, newest first: run one here if no thief took it, else wait. */
static void sync_splits(ws_worker *w, size_t base)
{
    while (w->n_splits > base) {
        ws_frame *half = &w->splits[w->n_splits - 1];
        uintptr_t item;
        if (ws_deque_take(&w->deque, &item) == WS_DEQUE_GOT) {
            if ((ws_frame *)item != half) {
                ws_err("internal error: split ranges synced out of order on worker %u",
                       w->base.ctx.worker_id);
                abort();
            }
            range_task(&w->base.ctx, half); /* its own splits go above it */
        } else {
            wait_for_thief(w, half);
        }
        w->n_splits--;
    }
}

/* ------------------------------------------------------- index ranges */

/* Keep a failure among the MAX_FAILURES_PRINTED lowest indices (so the
 * report at the end is the same for any -j).  Under fail_lock. */
static void keep_failure(ws_pool *p, uint64_t index, unsigned worker, const char *msg)
{
    unsigned n = p->n_kept;
    if (n == MAX_FAILURES_PRINTED) {
        if (index > p->kept[n - 1].index)
            return;
        n--; /* drop the highest */
    }
    unsigned at = n;
    while (at > 0 && p->kept[at - 1].index > index) {
        p->kept[at] = p->kept[at - 1];
        at--;
    }
    p->kept[at].index = index;
    p->kept[at].worker = worker;
    size_t len = strnlen(msg, sizeof p->kept[at].message - 1);
    memcpy(p->kept[at].message, msg, len);
    p->kept[at].message[len] = '\0';
    p->n_kept = n + 1;
}

static void report_failure(ws_worker *w, uint64_t index)
{
    ws_pool *p = w->pool;
    const char *msg = w->base.errbuf[0] ? w->base.errbuf : "failed " WS_NO_MESSAGE;
    pthread_mutex_lock(&p->fail_lock);
    p->failed++;
    if (p->run->policy.keep_going)
        keep_failure(p, index, w->base.ctx.worker_id, msg);
    else if (p->failed <= MAX_FAILURES_PRINTED)
        ws_err("%s: index %llu failed (worker %u): %s", p->run->desc.name,
               (unsigned long long)index, w->base.ctx.worker_id, msg);
    pthread_mutex_unlock(&p->fail_lock);
    w->stats.failed++;
    w->base.errbuf[0] = '\0';
    if (!p->run->policy.keep_going)
        ws_pool_request_stop();
}

/* Retry a failed index as the policy says; returns 1 if it failed for
 * good (reported), 0 if a retry succeeded. */
static int index_failed(ws_worker *w, uint64_t index)
{
    ws_ctx *ctx = &w->base.ctx;
    for (unsigned attempt = 0; attempt < w->pool->run->policy.retries; attempt++) {
        w->stats.retried++;
        w->base.errbuf[0] = '\0';
        if (w->run_one(w->state, index, ctx) == WS_OK)
            return 0;
    }
    report_failure(w, index);
    return 1;
}

/* Split the rest of [i, *end) for a thief that asked: the upper half
 * becomes a range frame, published at once (push_split).  With one index
 * left, publish other frames if any (not ws__attend, which could give
 * away index i that this loop runs next). */
static void split_for_thief(ws_worker *w, uint64_t i, uint64_t *end)
{
    ws_ctx *ctx = &w->base.ctx;
    if (*end - i >= 2) {
        push_split(w, i + (*end - i) / 2, *end);
        *end = w->range_end;
        clear_attention(ctx, ATTN_REQUEST);
    } else if (publish_half(w) > 0) {
        clear_attention(ctx, ATTN_REQUEST);
    }
}

/* run_one returned with frames it spawned and never synced (a plugin bug:
 * their work would be lost, or caught only when the frame stack is full a
 * million indices later).  Named at this index, then abort, as the other
 * fork-join misuse. */
__attribute__((noinline, cold)) static void frames_left_unsynced(ws_worker *w, ptrdiff_t n)
{
    ws_err("%s: run_one returned at index %llu with %td spawned task%s never synced (each "
           "ws_spawn or ws_spawn_at needs its ws_sync, or ws_pop and ws_join, before run_one "
           "returns)",
           w->pool->run->desc.name, (unsigned long long)w->current_index, n, n == 1 ? "" : "s");
    abort();
}

/* After run_one, when the frame stack top moved or range_top was marked by
 * ws__attend_at.  Split-off ranges never go on the frame stack (push_split),
 * so a moved top means frames run_one left unsynced; with the mark, _at
 * frames published above the record and never synced (a sync brings fj_pub
 * back down to the frame synced). */
__attribute__((noinline)) static void top_moved(ws_worker *w)
{
    ws_ctx *ctx = &w->base.ctx;
    ws_frame *top = (ws_frame *)((uintptr_t)w->range_top & ~RANGE_TOP_AT_PUBLISHED);
    ptrdiff_t left = ctx->fj_head - top;
    if (left == 0 && ctx->fj_pub > ctx->fj_head)
        left = ctx->fj_pub - ctx->fj_head;
    if (left != 0)
        frames_left_unsynced(w, left);
    w->range_top = top;
}

/* After run_one: check that it left no frame behind, and take the new end
 * if it gave part of the range away (split_running_range). */
static inline void pick_up_split(ws_worker *w, uint64_t *end)
{
    if (WS_UNLIKELY(w->base.ctx.fj_head != w->range_top))
        top_moved(w);
    if (WS_UNLIKELY(w->range_end != *end))
        *end = w->range_end;
}

/* The index loop when a journal or a resume set is in use: the same
 * splitting, plus a skip test and a completion call per index. */
static uint64_t range_loop_hooked(ws_worker *w, uint64_t i, uint64_t *end, uint64_t *done)
{
    ws_ctx *ctx = &w->base.ctx;
    const ws_run_hooks *h = &w->pool->run->hooks;
    for (; i < *end; i++) {
        /* relaxed: see ws_poll. */
        uint32_t attn = atomic_load_explicit(&ctx->attention, memory_order_relaxed);
        if (WS_UNLIKELY(attn)) {
            if (attn & ATTN_STOP)
                break;
            split_for_thief(w, i, end);
        }
        if (h->skip_bits && (h->skip_bits[i / 64] >> (i % 64)) & 1) {
            w->stats.skipped++;
            continue;
        }
        w->current_index = i;
        if (WS_UNLIKELY(w->run_one(w->state, i, ctx) != WS_OK)) {
            if (!index_failed(w, i) && h->index_done)
                h->index_done(h->done_arg, ctx->worker_id, i);
        } else if (h->index_done) {
            h->index_done(h->done_arg, ctx->worker_id, i);
        }
        pick_up_split(w, end);
        /* relaxed: a progress counter read by the main thread. */
        atomic_store_explicit(&w->progress, ++*done, memory_order_relaxed);
    }
    return i;
}

/* A frame that runs run_one over [arg0, arg1).  When a thief asks for work
 * the upper half of what is left becomes a new frame, published at once. */
static int range_task(ws_ctx *ctx, ws_frame *self)
{
    ws_worker *w = worker_of(ctx);
    uint64_t i = self->arg[0].u, end = self->arg[1].u;
    size_t split_base = w->n_splits;
    int (*run_one)(void *, uint64_t, ws_ctx *) = w->run_one;
    void *state = w->state;
    uint64_t done = atomic_load_explicit(&w->progress, memory_order_relaxed);
    uint64_t start = i;
    uint64_t t0 = w->pool->run->trace ? now_ns() : 0;
    ws_frame *outer_top = w->range_top;
    uint64_t outer_end = w->range_end;
    w->range_top = ctx->fj_head;
    w->range_end = end;

    if (w->pool->hooked) {
        i = range_loop_hooked(w, i, &end, &done);
    } else {
        for (; i < end; i++) {
            /* relaxed: see ws_poll. */
            uint32_t attn = atomic_load_explicit(&ctx->attention, memory_order_relaxed);
            if (WS_UNLIKELY(attn)) {
                if (attn & ATTN_STOP)
                    break;
                split_for_thief(w, i, &end);
            }
            w->current_index = i;
            if (WS_UNLIKELY(run_one(state, i, ctx) != WS_OK))
                index_failed(w, i);
            pick_up_split(w, &end);
            /* relaxed: a progress counter read by the main thread. */
            atomic_store_explicit(&w->progress, ++done, memory_order_relaxed);
        }
    }
    w->current_index = UINT64_MAX;
    w->range_top = outer_top;
    w->range_end = outer_end;
    w->stats.indices += i - start;
    if (w->pool->run->trace && i > start)
        trace_event(w, WS_TRACE_RANGE, t0, now_ns(), start, i);
    sync_splits(w, split_base);
    return WS_OK;
}

/* ------------------------------------------------------------ workers */

/* The sleeper's last look (wake.h, s3): a frame published before its
 * count went up is seen here. */
static int anything_published(ws_pool *p)
{
    for (unsigned k = 0; k < p->jobs; k++)
        if (ws_deque_size_hint(&p->workers[k]->deque) > 0)
            return 1;
    return 0;
}

static void worker_loop(ws_worker *w)
{
    ws_pool *p = w->pool;
    unsigned rounds = 0;
    long park_ns = PARK_MIN_NS;
    uint64_t t_busy = 0, t_parked = 0;

    /* acquire: pairs with the release store of done by worker 0. */
    while (!atomic_load_explicit(&p->done, memory_order_acquire)) {
        int got = 0;
        if (p->jobs > 1) {
            for (unsigned k = 0; k < p->jobs && !got; k++) {
                ws_worker *victim = p->workers[next_victim(w)];
                uint64_t t0 = now_ns();
                /* relaxed: a display-only flag. */
                atomic_store_explicit(&w->busy, 1, memory_order_relaxed);
                got = try_steal_from(w, victim, NULL);
                atomic_store_explicit(&w->busy, 0, memory_order_relaxed);
                if (got)
                    t_busy += now_ns() - t0;
            }
        }
        if (got) {
            rounds = 0;
            park_ns = PARK_MIN_NS;
            continue;
        }
        rounds++;
        if (rounds < STEAL_ROUNDS_BEFORE_YIELD)
            continue;
        if (rounds < STEAL_ROUNDS_BEFORE_PARK) {
            sched_yield();
            continue;
        }
        /* Park.  The timeout bounds a missed wake-up; it grows while
         * nothing turns up so an idle worker costs next to no CPU. */
        uint64_t t0 = now_ns();
        /* The sleeper's half of wake.h's handshake with publish_half: a
         * frame published before the count went up is seen by the last
         * look; one published after it comes with a wake-up. */
        uint32_t seq = ws_wake_prepare_park(&p->sleepers, &p->wake_seq);
        if (!atomic_load_explicit(&p->done, memory_order_acquire) && !anything_published(p))
            ws_futex_wait(&p->wake_seq, seq, ws_wake_park_timeout(park_ns));
        atomic_fetch_sub_explicit(&p->sleepers, 1, memory_order_relaxed);
        uint64_t t1 = now_ns();
        t_parked += t1 - t0;
        if (p->run->trace)
            trace_event(w, WS_TRACE_PARK, t0, t1, 0, 0);
        if (park_ns < PARK_MAX_NS)
            park_ns *= 2;
        rounds = STEAL_ROUNDS_BEFORE_PARK - 1; /* one round of steals, then park again */
    }
    w->stats.busy_ns += t_busy;
    w->stats.parked_ns += t_parked;
}

static void run_range_as_root(ws_worker *w, uint64_t begin, uint64_t end)
{
    ws_ctx *ctx = &w->base.ctx;
    ws_frame *root = ctx->fj_head;
    root->arg[0].u = begin;
    root->arg[1].u = end;
    root->fn = NULL; /* running: never published */
    ctx->fj_head = root + 1;
    uint64_t t0 = now_ns();
    w->stats.tasks++;
    /* relaxed: a display-only flag. */
    atomic_store_explicit(&w->busy, 1, memory_order_relaxed);
    range_task(ctx, root);
    atomic_store_explicit(&w->busy, 0, memory_order_relaxed);
    w->stats.busy_ns += now_ns() - t0;
    ctx->fj_head = root;
    ctx->fj_pub = root;
}

static void run_root(ws_worker *w)
{
    const ws_run *run = w->pool->run;
    if (run->hooks.next_block) {
        uint64_t begin, end;
        while (!atomic_load_explicit(&w->pool->stopping, memory_order_relaxed) &&
               run->hooks.next_block(run->hooks.block_arg, &begin, &end))
            run_range_as_root(w, begin, end);
        return;
    }
    uint64_t begin = run->ranged ? run->range_begin : 0;
    uint64_t end = run->ranged ? run->range_end : run->count;
    if (begin < end)
        run_range_as_root(w, begin, end);
}

static int start_worker_thread(ws_pool *p, unsigned i);

/* One worker's whole part in the run, on whatever thread runs it. */
static void worker_run(ws_worker *w)
{
    ws_pool *p = w->pool;
    const ws_plugin *d = &p->run->desc;
    uint64_t t_start = now_ns();
    int ready = 1;
    this_worker = w;
    /* Worker 0 starts worker 1 (which starts the rest, see worker_thread)
     * only now, once it is on its own stack and about to take the root:
     * a thread that is handed its worker sooner finds no work, and after
     * its spins and yields it would go to sleep just before the work
     * arrived. */
    if (w->base.ctx.worker_id == 0 && p->jobs > 1)
        start_worker_thread(p, 1);
    w->callback = "worker_init";
    int init_status = d->worker_init ? d->worker_init(p->run->state, &w->base.ctx) : WS_OK;
    w->callback = NULL;
    if (init_status != WS_OK) {
        pthread_mutex_lock(&p->fail_lock);
        p->worker_init_failed = 1;
        ws_err("%s: worker_init failed on worker %u: %s", d->name, w->base.ctx.worker_id,
               w->base.errbuf[0] ? w->base.errbuf : WS_NO_MESSAGE);
        pthread_mutex_unlock(&p->fail_lock);
        ws_pool_request_stop();
        ready = 0;
    }
    if (w->base.ctx.worker_id == 0) {
        if (ready)
            run_root(w);
        /* release: everything the run did happens before the others stop. */
        atomic_store_explicit(&p->done, 1, memory_order_release);
        wake_all(p);
    } else if (ready) {
        worker_loop(w);
    }
    if (ready && d->worker_fini) {
        w->callback = "worker_fini";
        d->worker_fini(p->run->state, &w->base.ctx);
        w->callback = NULL;
    }
    uint64_t total = now_ns() - t_start;
    uint64_t accounted = w->stats.busy_ns + w->stats.parked_ns;
    w->stats.idle_ns = total > accounted ? total - accounted : 0;
    this_worker = NULL;
}

static void *worker_thread(void *arg);

/* Worker i's thread could not be started: say why and stop the run. */
static void start_failed(ws_pool *p, unsigned i, const char *why)
{
    pthread_mutex_lock(&p->fail_lock);
    p->start_failed = 1;
    pthread_mutex_unlock(&p->fail_lock);
    ws_err("cannot start worker thread %u of %u: %s", i, p->jobs, why);
    ws_pool_request_stop();
}

/* Start worker i's thread: hand the worker to a thread ws_pool_prepare
 * started for it, or start one, on CPU number i counted from worker 0's
 * (placement.h).  On failure the run is stopped; returns 0 when the thread
 * started. */
static int start_worker_thread(ws_pool *p, unsigned i)
{
    ws_worker *w = p->workers[i];
    /* relaxed: the starter is itself counted (or is the thread that waits
     * for the count), so the count cannot reach 0 before this add; the
     * starter's own release decrement comes after it. */
    atomic_fetch_add_explicit(&threads_in_run, 1, memory_order_relaxed);
    /* i > 0: worker 0 gets a thread only when the caller cannot run it,
     * and no standby thread is kept for that. */
    w->placed = 1; /* before the hand-over, which publishes it */
    if (i > 0 && ws_standby_take(i, worker_thread, w, &w->thread) == 0) {
        w->thread_started = 1;
        return 0;
    }
    w->placed = 0;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WORKER_STACK_BYTES);
    ws_placement_start_on(&p->place, i, &attr);
    int e = pthread_create(&w->thread, &attr, worker_thread, w);
    pthread_attr_destroy(&attr);
    if (e != 0) {
        atomic_fetch_sub_explicit(&threads_in_run, 1, memory_order_relaxed); /* as the add */
        start_failed(p, i, strerror(e));
        return -1;
    }
    w->thread_started = 1;
    return 0;
}

/* A worker's own thread.  Threads start one another in a binary tree
 * (worker k starts 2k and 2k+1), so no thread spends long starting the
 * rest: at -j16 the last one starts after four thread starts, not fifteen. */
static void *worker_thread(void *arg)
{
    ws_worker *w = arg;
    ws_pool *p = w->pool;
    unsigned id = w->base.ctx.worker_id;
    if (!w->placed) /* started on one CPU (see start_worker_thread); now free to move */
        ws_placement_let_go(&p->place);
    for (unsigned child = 2 * id; id > 0 && child <= 2 * id + 1 && child < p->jobs; child++)
        if (start_worker_thread(p, child) != 0)
            break;
    if (ws_crash_thread_init)
        ws_crash_thread_init();
    worker_run(w);
    /* release: this worker's stats, trace, and the handles of the threads
     * it started happen before ws_pool_run, which acquires the count, reads
     * them.  After this the thread touches nothing of the run's. */
    if (atomic_fetch_sub_explicit(&threads_in_run, 1, memory_order_release) == 1)
        ws_futex_wake(&threads_in_run, INT_MAX);
    return NULL;
}

/* Worker 0 on the thread that called ws_pool_run (see own_stack.h).  That
 * thread gets back the CPU affinity it had if worker_init or run_one
 * changed it (plugins pin workers); its signal mask comes back with the
 * switch of stacks. */
static void worker0_on_caller(void *arg)
{
    ws_worker *w = arg;
    ws_pool *p = w->pool;
    worker_run(w);
    cpu_set_t now;
    if (p->place.have_allowed && pthread_getaffinity_np(pthread_self(), sizeof now, &now) == 0 &&
        !CPU_EQUAL(&p->place.allowed, &now))
        pthread_setaffinity_np(pthread_self(), sizeof p->place.allowed, &p->place.allowed);
}

/* Plugins built against ABI 1.2 or later know worker 0 runs on the main
 * thread (wsrun.h, "Threads"). */
static int worker0_may_run_on_caller(const ws_plugin *d)
{
    return d->abi_major > 1 || (d->abi_major == 1 && d->abi_minor >= 2);
}

/* Until every worker thread of the run has left it.  At the end of a run
 * they are awake and leave within microseconds; the futex covers a caller
 * that waits the whole run (worker 0 on a thread of its own). */
static void wait_for_worker_threads(void)
{
    for (unsigned round = 0;; round++) {
        /* acquire: pairs with each leaving thread's release decrement. */
        uint32_t left = atomic_load_explicit(&threads_in_run, memory_order_acquire);
        if (left == 0)
            return;
        if (round < STEAL_ROUNDS_BEFORE_PARK)
            sched_yield();
        else /* the last thread to leave wakes us; the timeout is a backstop */
            ws_futex_wait(&threads_in_run, left, PARK_MAX_NS);
    }
}

static ws_worker *worker_new(ws_pool *p, unsigned id)
{
    ws_worker *w;
    if (posix_memalign((void **)&w, 64, sizeof *w) != 0)
        return NULL;
    memset(w, 0, sizeof *w);
    w->pool = p;
    ws_ctx_base_init(&w->base, p->run, id);
    w->run_one = p->run->desc.run_one;
    w->state = p->run->state;
    w->victim_rng = ws_mix64(id + 1);
    w->frames = mmap(NULL, FRAME_STACK_BYTES, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (w->frames == MAP_FAILED) {
        free(w);
        return NULL;
    }
    w->splits = mmap(NULL, SPLIT_BYTES, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (w->splits == MAP_FAILED) {
        munmap(w->frames, FRAME_STACK_BYTES);
        free(w);
        return NULL;
    }
    if (ws_deque_init(&w->deque, 8) != 0) {
        munmap(w->splits, SPLIT_BYTES);
        munmap(w->frames, FRAME_STACK_BYTES);
        free(w);
        return NULL;
    }
    w->base.ctx.fj_head = w->frames;
    w->base.ctx.fj_pub = w->frames;
    w->base.ctx.fj_limit = w->frames + FRAME_STACK_FRAMES;
    atomic_init(&w->base.ctx.attention, 0);
    atomic_init(&w->base.ctx.fj_trigger, (uintptr_t)w->base.ctx.fj_limit);
    atomic_init(&w->progress, 0);
    atomic_init(&w->busy, 0);
    w->current_index = UINT64_MAX;
    return w;
}

static void worker_free(ws_worker *w)
{
    if (!w)
        return;
    ws_deque_destroy(&w->deque);
    free(w->trace.events);
    munmap(w->frames, FRAME_STACK_BYTES);
    munmap(w->splits, SPLIT_BYTES);
    free(w);
}

static void reap_retired(void)
{
    for (unsigned i = 0; i < n_retired; i++) {
        if (retired[i]->thread_started)
            pthread_join(retired[i]->thread, NULL);
        worker_free(retired[i]);
    }
    n_retired = 0;
}

void ws_pool_reap(void)
{
    reap_retired();
    ws_standby_release();
}

void ws_pool_prepare(unsigned jobs)
{
    /* First, while this may still be the only thread: mapping the stack
     * changes page protections, which with other threads alive costs a
     * TLB shootdown (an interrupt to every CPU they run on). */
    (void)ws_own_stack_reserve(WORKER_STACK_BYTES);
    if (jobs < 2)
        return;
    ws_placement place;
    ws_placement_read(&place, jobs);
    ws_standby_start(jobs, &place, WORKER_STACK_BYTES);
}

/* Hand the run's workers to ws_pool_reap (or reap them now, where no
 * memory is left to keep them in). */
static void retire_workers(ws_pool *p)
{
    for (unsigned i = 0; i < p->jobs; i++) {
        ws_worker *w = p->workers[i];
        p->workers[i] = NULL;
        if (!w)
            continue;
        if (n_retired == cap_retired) {
            unsigned cap = cap_retired ? 2 * cap_retired : 16;
            ws_worker **grown = realloc(retired, cap * sizeof *grown);
            if (!grown) {
                if (w->thread_started)
                    pthread_join(w->thread, NULL);
                worker_free(w);
                continue;
            }
            retired = grown;
            cap_retired = cap;
        }
        retired[n_retired++] = w;
    }
}

int ws_pool_where(unsigned *worker, uint64_t *index)
{
    ws_worker *w = this_worker;
    if (!w)
        return 0;
    *worker = w->base.ctx.worker_id;
    *index = w->current_index;
    return 1;
}

const char *ws_pool_worker_callback(void)
{
    ws_worker *w = this_worker;
    return w ? w->callback : NULL;
}

/* A stop asked for while no pool runs (an interrupt between the plugin's
 * init and the start of the pool): the next pool starts stopped. */
static _Atomic int stop_before_start;

void ws_pool_request_stop(void)
{
    /* seq_cst (this store, pool_enter's load of current_pool, and in
     * ws_pool_run the store of current_pool and the exchange): Dekker.
     * The flag goes up before we look for a pool and the pool is
     * published before the run looks at the flag, so in the total order
     * either we find the pool or the run finds the flag (or both; then
     * stopping twice is harmless).  Looking first and storing after, as
     * before, let a run start in between and miss the stop, which then
     * stopped the next run instead. */
    atomic_store(&stop_before_start, 1);
    WS_HOOK("request_stop.flag_stored");
    ws_pool *p = pool_enter();
    if (!p)
        return; /* the next pool to start reads the flag */
    /* seq_cst: consume the flag (it was meant for this pool) so that the
     * next run does not start stopped. */
    atomic_exchange(&stop_before_start, 0);
    /* relaxed: flags only; lock-free atomics keep this signal-safe. */
    atomic_store_explicit(&p->stopping, 1, memory_order_relaxed);
    for (unsigned i = 0; i < p->jobs; i++)
        if (p->workers[i])
            ws_attention_raise(&p->workers[i]->base.ctx, ATTN_STOP);
    pool_leave();
}

unsigned ws_pool_busy_workers(void)
{
    ws_pool *p = pool_enter();
    unsigned busy = 0;
    if (!p)
        return 0;
    for (unsigned i = 0; i < p->jobs; i++)
        busy += atomic_load_explicit(&p->workers[i]->busy, memory_order_relaxed) != 0;
    pool_leave();
    return busy;
}

uint64_t ws_pool_progress(void)
{
    ws_pool *p = pool_enter();
    uint64_t sum = 0;
    if (!p)
        return 0;
    for (unsigned i = 0; i < p->jobs; i++)
        sum += atomic_load_explicit(&p->workers[i]->progress, memory_order_relaxed);
    pool_leave();
    return sum;
}

int ws_pool_run(ws_run *run, ws_pool_result *result)
{
    reap_retired(); /* the threads of an earlier run */
    ws_pool pool;
    memset(&pool, 0, sizeof pool);
    memset(result, 0, sizeof *result);
    pool.run = run;
    pool.jobs = run->jobs ? run->jobs : 1;
    pool.hooked = run->hooks.skip_bits != NULL || run->hooks.index_done != NULL;
    pthread_mutex_init(&pool.fail_lock, NULL);
    pool.workers = calloc(pool.jobs, sizeof *pool.workers);
    int rc = -1;
    if (!pool.workers) {
        ws_err("out of memory creating %u workers", pool.jobs);
        goto out;
    }
    for (unsigned i = 0; i < pool.jobs; i++)
        if (!(pool.workers[i] = worker_new(&pool, i))) {
            ws_err("cannot set up worker %u: %s", i, strerror(errno));
            goto out;
        }

    ws_placement_read(&pool.place, pool.jobs);
    /* Threads ws_pool_prepare started beyond this run's workers end now. */
    ws_standby_drop_from(pool.jobs);
    /* seq_cst: the Dekker pair with ws_pool_request_stop (see there); it
     * also releases the workers' fields above to a signal handler or
     * progress reader that loads the pointer. */
    WS_HOOK("pool_run.before_publish");
    atomic_store(&current_pool, &pool);
    /* A stop that came before the pool existed applies to this run; one that
     * comes from now on finds the pool.  seq_cst: see above. */
    if (atomic_exchange(&stop_before_start, 0))
        ws_pool_request_stop();
    WS_HOOK("pool_run.stop_checked");
    uint64_t t0 = now_ns();
    for (unsigned i = 0; i < pool.jobs; i++)
        pool.workers[i]->t_origin = t0;
    /* Worker 0 runs here, on this thread, so the run begins at once and
     * ends without waiting for a thread to be scheduled or to exit: on this
     * project's VM each costs 0.1 to 0.5 ms (a wake-up of an idle CPU alone
     * ~90 us).  Where it cannot (a sanitizer build), and for plugins built
     * for ABI 1.0 and 1.1, whose workers all ran on threads of their own
     * (see wsrun.h), worker 0 gets a thread.  Worker 0 starts worker 1,
     * whose thread starts the others (worker_run, worker_thread), so if
     * worker 0's thread cannot start, no thread was started: the failure
     * is in start_failed, and there is nothing to wait for. */
    if (!worker0_may_run_on_caller(&run->desc) ||
        ws_run_on_own_stack(worker0_on_caller, pool.workers[0], WORKER_STACK_BYTES) != 0)
        start_worker_thread(&pool, 0);
    wait_for_worker_threads();
    /* every worker has left: nothing writes start_failed now */
    int all_started = !pool.start_failed;
    result->wall_ns = now_ns() - t0;
    /* seq_cst: see pool_enter.  Readers are brief (a loop over the workers'
     * counters, or a signal handler), so waiting for them is a spin. */
    atomic_store(&current_pool, NULL);
    while (atomic_load(&pool_readers) != 0)
        sched_yield();

    result->jobs = pool.jobs;
    result->workers = calloc(pool.jobs, sizeof *result->workers);
    for (unsigned i = 0; i < pool.jobs; i++) {
        if (result->workers)
            result->workers[i] = pool.workers[i]->stats;
        result->indices_done += pool.workers[i]->stats.indices - pool.workers[i]->stats.skipped;
    }
    if (run->trace && (result->traces = calloc(pool.jobs, sizeof *result->traces)))
        for (unsigned i = 0; i < pool.jobs; i++) {
            result->traces[i] = pool.workers[i]->trace;
            pool.workers[i]->trace.events = NULL;
        }
    for (unsigned k = 0; k < pool.n_kept; k++)
        ws_err("%s: index %llu failed (worker %u): %s", run->desc.name,
               (unsigned long long)pool.kept[k].index, pool.kept[k].worker, pool.kept[k].message);
    result->failed = pool.failed;
    result->indices_done -= pool.failed;
    result->worker_init_failed = pool.worker_init_failed;
    result->stopped_early = atomic_load_explicit(&pool.stopping, memory_order_relaxed);
    rc = all_started ? 0 : -1;
out:
    if (pool.workers)
        retire_workers(&pool); /* every started thread has left the run */
    free(pool.workers);
    pthread_mutex_destroy(&pool.fail_lock);
    return rc;
}
