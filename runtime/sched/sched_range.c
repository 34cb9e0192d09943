/*
 * sched_range.c - a worker's part in a run: the index loop (a range frame
 * that splits its upper half off for a thief that asked), failures and
 * retries of indices, the idle worker's loop of stealing and parking, and
 * the root of the run on worker 0 (layout: sched_internal.h).
 *
 * Must never add work to the index loop's per-index path beyond one
 * relaxed load of attention, the indirect call and the progress store,
 * and never let an idle worker spin without bound (it parks on a futex).
 */
#include "sched_internal.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "futex.h"
#include "wake.h"

_Thread_local wsrt_worker *wsrt_this_worker;

/* ------------------------------------------------------- index ranges */

/* Keep a failure among the MAX_FAILURES_PRINTED lowest indices (so the
 * report at the end is the same for any -j).  Under fail_lock. */
static void keep_failure(wsrt_pool *p, uint64_t index, unsigned worker, const char *msg)
{
    /* fail_lock is held (by someone: a default mutex has no owner to ask;
     * trylock has no effect when the check passes). */
    WSRT_ASSERT(pthread_mutex_trylock(&p->fail_lock) == EBUSY);
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

static void report_failure(wsrt_worker *w, uint64_t index)
{
    wsrt_pool *p = w->pool;
    const char *msg = w->base.errbuf[0] ? w->base.errbuf : "failed " WSRT_NO_MESSAGE;
    pthread_mutex_lock(&p->fail_lock);
    if (wsrt_interrupt_noted()) {
        /* After Ctrl-C: an index cut short by it (ws_on_interrupt, or a
         * call that saw EINTR) is what the user asked for, not a failure.
         * Not done: --resume runs it again. */
        p->interrupted++;
        pthread_mutex_unlock(&p->fail_lock);
        w->base.errbuf[0] = '\0';
        return;
    }
    p->failed++;
    if (p->run->policy.keep_going)
        keep_failure(p, index, w->base.ctx.worker_id, msg);
    else if (p->failed <= MAX_FAILURES_PRINTED)
        wsrt_err("%s: index %llu failed (worker %u): %s", p->run->desc.name,
               (unsigned long long)index, w->base.ctx.worker_id, msg);
    pthread_mutex_unlock(&p->fail_lock);
    w->stats.failed++;
    w->base.errbuf[0] = '\0';
    if (!p->run->policy.keep_going)
        wsrt_pool_request_stop(p);
}

/* Retry a failed index as the policy says; returns 1 if it failed for
 * good (reported), 0 if a retry succeeded. */
static int index_failed(wsrt_worker *w, uint64_t index)
{
    ws_ctx *ctx = &w->base.ctx;
    for (unsigned attempt = 0; attempt < w->pool->run->policy.retries; attempt++) {
        /* A stopping run starts nothing more, retries included (issue 23
         * item 8).  relaxed: a flag, as in the index loop. */
        if (atomic_load_explicit(&w->pool->stopping, memory_order_relaxed))
            break;
        w->stats.retried++;
        w->base.errbuf[0] = '\0';
        if (w->run_one(w->state, index, ctx) == WS_OK)
            return 0;
    }
    report_failure(w, index);
    return 1;
}

/* Split the rest of [i, *end) for a thief that asked: the upper half
 * becomes a range frame, published at once (wsrt_push_split).  With one index
 * left, publish other frames if any (not ws__attend, which could give
 * away index i that this loop runs next). */
static void split_for_thief(wsrt_worker *w, uint64_t i, uint64_t *end)
{
    ws_ctx *ctx = &w->base.ctx;
    if (*end - i >= 2) {
        wsrt_push_split(w, i + (*end - i) / 2, *end);
        *end = w->range_end;
        wsrt_clear_attention(ctx, ATTN_REQUEST);
    } else if (wsrt_publish_half(w) > 0) {
        wsrt_clear_attention(ctx, ATTN_REQUEST);
    }
}

/* run_one returned with frames it spawned and never synced (a plugin bug:
 * their work would be lost, or caught only when the frame stack is full a
 * million indices later).  Named at this index, then abort, as the other
 * fork-join misuse. */
__attribute__((noinline, cold)) static void frames_left_unsynced(wsrt_worker *w, ptrdiff_t n)
{
    wsrt_err("%s: run_one returned at index %llu with %td spawned task%s never synced (each "
           "ws_spawn or ws_spawn_at needs its ws_sync, or ws_pop and ws_join, before run_one "
           "returns)",
           w->pool->run->desc.name, (unsigned long long)w->current_index, n, n == 1 ? "" : "s");
    abort();
}

/* After run_one, when the frame stack top moved or range_top was marked by
 * ws__attend_at.  Split-off ranges never go on the frame stack (wsrt_push_split),
 * so a moved top means frames run_one left unsynced; with the mark, _at
 * frames published above the record and never synced (a sync brings fj_pub
 * back down to the frame synced). */
__attribute__((noinline)) static void top_moved(wsrt_worker *w)
{
    ws_ctx *ctx = &w->base.ctx;
    ws_frame *top = range_top_frame(w);
    ptrdiff_t left = ctx->fj_head - top;
    if (left == 0 && ctx->fj_pub > ctx->fj_head)
        left = ctx->fj_pub - ctx->fj_head;
    if (left != 0)
        frames_left_unsynced(w, left);
    range_top_set(w, top);
}

/* After run_one: check that it left no frame behind, and take the new end
 * if it gave part of the range away (split_running_range). */
static inline void pick_up_split(wsrt_worker *w, uint64_t *end)
{
    if (WS_UNLIKELY(!range_top_is(w, w->base.ctx.fj_head)))
        top_moved(w);
    if (WS_UNLIKELY(w->range_end != *end))
        *end = w->range_end;
}

/* The loop left indices not run because the run is stopping: the run
 * stopped early (a stop after the last index leaves a complete run).
 * Marked where the loop breaks, so no exit path keeps the range's end
 * live for a test after the loop (that cost the plain loop 2 instructions
 * an index).  relaxed: read after every worker left the run
 * (wsrt_pool_run's acquire). */
static inline void mark_cut_short(wsrt_worker *w)
{
    atomic_store_explicit(&w->pool->cut_short, 1, memory_order_relaxed);
}

/* How range_loop runs its indices: one at a time through run_one
 * (plain); the same with a journal or a resume set in use (hooked:
 * pool->hooked), which adds a skip test and a completion call per index;
 * or, under --isolate (run->hooks.run_block), runs of indices handed to
 * run_block whole, one round trip to a worker process each, with the same
 * skip test and completion calls. */
enum { LOOP_PLAIN, LOOP_HOOKED, LOOP_BLOCKS };

/* LOOP_BLOCKS: one run of indices from i (up to the next skipped index, at
 * most 2^16 of them when some are skipped).  *next is the index after the
 * run, or i itself when the worker process stopped (the run is stopping);
 * returns how many indices it ended (for progress). */
static uint64_t run_block_from(wsrt_worker *w, const wsrt_run_hooks *h, uint64_t i, uint64_t end,
                               uint64_t *next)
{
    ws_ctx *ctx = &w->base.ctx;
    uint64_t limit = end;
    if (h->skip_bits) { /* a run ends before the next skipped index */
        limit = i + 1;
        while (limit < end && limit - i < (1u << 16) &&
               !((h->skip_bits[limit / 64] >> (limit % 64)) & 1))
            limit++;
    }
    *next = i;
    int rc = h->run_block(h->block_run_arg, ctx, i, limit, next);
    for (uint64_t k = i; h->index_done && k < *next; k++)
        h->index_done(h->done_arg, ctx->worker_id, k);
    uint64_t ended = *next - i;
    if (rc != WS_OK) { /* index *next failed; the run stopped there */
        if (!index_failed(w, *next) && h->index_done)
            h->index_done(h->done_arg, ctx->worker_id, *next);
        ++*next;
        ended++;
    }
    return ended;
}

/* The index loop over [i, *end), written once: the stop test, the split
 * for a thief, picking up a split and progress are the same for every
 * kind.  `kind` is a constant at each call, so the compiler makes one loop
 * per kind and the plain one carries nothing of the others.  Returns the
 * index it stopped at; *done counts indices for progress. */
WS__ALWAYS_INLINE static inline uint64_t range_loop(wsrt_worker *w, uint64_t i, uint64_t *end,
                                                     uint64_t *done, const int kind)
{
    ws_ctx *ctx = &w->base.ctx;
    int (*run_one)(void *, uint64_t, ws_ctx *) = w->run_one;
    void *state = w->state;
    const wsrt_run_hooks *h = &w->pool->run->hooks;
    uint64_t d = *done; /* a local no call sees: kept in a register */
    while (i < *end) {
        /* relaxed: see ws_poll. */
        uint32_t attn = atomic_load_explicit(&ctx->attention, memory_order_relaxed);
        if (WS_UNLIKELY(attn)) {
            if (attn & ATTN_STOP) {
                mark_cut_short(w);
                break;
            }
            split_for_thief(w, i, end);
        }
        if (kind != LOOP_PLAIN && h->skip_bits && (h->skip_bits[i / 64] >> (i % 64)) & 1) {
            w->stats.skipped++;
            i++;
            continue;
        }
        w->current_index = i;
        if (kind == LOOP_BLOCKS) {
            uint64_t next;
            d += run_block_from(w, h, i, *end, &next);
            if (next == i) {
                mark_cut_short(w);
                break;
            }
            i = next;
        } else {
            /* failed: for good, after the retries (a retry may succeed). */
            int failed = WS_UNLIKELY(run_one(state, i, ctx) != WS_OK) && index_failed(w, i);
            if (kind == LOOP_HOOKED && !failed && h->index_done)
                h->index_done(h->done_arg, ctx->worker_id, i);
            i++;
            ++d;
        }
        pick_up_split(w, end);
        /* relaxed: a progress counter read by the main thread. */
        atomic_store_explicit(&w->progress, d, memory_order_relaxed);
    }
    *done = d;
    return i;
}

/* The hooked and the blocks kinds in functions of their own: inlined into
 * wsrt_range_task beside the plain loop they took registers from it (the
 * plain loop then reloaded run_one and its state from the stack: 2
 * instructions more an index, empty 10^8 1.2x slower). */
__attribute__((noinline)) static uint64_t range_loop_hooked(wsrt_worker *w, uint64_t i,
                                                            uint64_t *end, uint64_t *done)
{
    return range_loop(w, i, end, done, LOOP_HOOKED);
}

__attribute__((noinline)) static uint64_t range_loop_blocks(wsrt_worker *w, uint64_t i,
                                                            uint64_t *end, uint64_t *done)
{
    return range_loop(w, i, end, done, LOOP_BLOCKS);
}

/* A frame that runs run_one over [arg0, arg1).  When a thief asks for work
 * the upper half of what is left becomes a new frame, published at once. */
int wsrt_range_task(ws_ctx *ctx, ws_frame *self)
{
    wsrt_worker *w = worker_of(ctx);
    uint64_t i = self->arg[0].u, end = self->arg[1].u;
    size_t split_base = w->n_splits;
    uint64_t done = atomic_load_explicit(&w->progress, memory_order_relaxed);
    uint64_t start = i;
    uint64_t t0 = w->pool->run->trace ? wsrt_now_ns() : 0;
    wsrt_range_top outer_top = w->range_top; /* as it is, flag and all */
    uint64_t outer_end = w->range_end;
    range_top_set(w, ctx->fj_head);
    w->range_end = end;

    if (WS_UNLIKELY(w->pool->run->hooks.run_block != NULL)) /* --isolate */
        i = range_loop_blocks(w, i, &end, &done);
    else if (w->pool->hooked)
        i = range_loop_hooked(w, i, &end, &done);
    else
        i = range_loop(w, i, &end, &done, LOOP_PLAIN);
    w->current_index = UINT64_MAX;
    /* Every frame run_one pushed was synced (pick_up_split, each index). */
    WSRT_ASSERT(range_top_is(w, ctx->fj_head));
    w->range_top = outer_top;
    w->range_end = outer_end;
    w->stats.indices += i - start;
    if (w->pool->run->trace && i > start)
        wsrt_trace_add(w, WSRT_TRACE_RANGE, t0, wsrt_now_ns(), start, i);
    wsrt_sync_splits(w, split_base);
    return WS_OK;
}

/* ------------------------------------------------------------ workers */

/* The sleeper's last look (wake.h, s3): a frame published before its
 * count went up is seen here. */
static int anything_published(wsrt_pool *p)
{
    for (unsigned k = 0; k < p->jobs; k++)
        if (wsrt_deque_size_hint(&p->workers[k]->deque) > 0)
            return 1;
    return 0;
}

static void worker_loop(wsrt_worker *w)
{
    wsrt_pool *p = w->pool;
    unsigned rounds = 0;
    long park_ns = PARK_MIN_NS;
    const unsigned park_after =
        wsrt_wake_park_rounds(STEAL_ROUNDS_BEFORE_PARK, STEAL_ROUNDS_BEFORE_YIELD);
    uint64_t t_busy = 0, t_parked = 0;

    /* acquire: pairs with the release store of done by worker 0. */
    while (!atomic_load_explicit(&p->done, memory_order_acquire)) {
        /* Between frames a worker holds nothing: its frame stack, split
         * stack and nesting are back at their base. */
        WSRT_ASSERT(w->base.ctx.fj_head == w->frames && w->base.ctx.fj_pub == w->frames &&
                  w->n_splits == 0 && w->nesting == 0);
        int got = 0;
        if (p->jobs > 1) {
            for (unsigned k = 0; k < p->jobs && !got; k++) {
                wsrt_worker *victim = p->workers[wsrt_next_victim(w)];
                uint64_t t0 = wsrt_now_ns();
                /* relaxed: a display-only flag. */
                atomic_store_explicit(&w->busy, 1, memory_order_relaxed);
                got = wsrt_try_steal_from(w, victim, NULL);
                atomic_store_explicit(&w->busy, 0, memory_order_relaxed);
                if (got)
                    t_busy += wsrt_now_ns() - t0;
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
        if (rounds < park_after) {
            sched_yield();
            continue;
        }
        /* Park.  The timeout bounds a missed wake-up; it grows while
         * nothing turns up so an idle worker costs next to no CPU. */
        uint64_t t0 = wsrt_now_ns();
        /* The sleeper's half of wake.h's handshake with wsrt_publish_half: a
         * frame published before the count went up is seen by the last
         * look; one published after it comes with a wake-up. */
        uint32_t seq = wsrt_wake_prepare_park(&p->sleepers, &p->wake_seq);
        if (!atomic_load_explicit(&p->done, memory_order_acquire) && !anything_published(p))
            wsrt_futex_wait(&p->wake_seq, seq, wsrt_wake_park_timeout(park_ns));
        atomic_fetch_sub_explicit(&p->sleepers, 1, memory_order_relaxed);
        uint64_t t1 = wsrt_now_ns();
        t_parked += t1 - t0;
        if (p->run->trace)
            wsrt_trace_add(w, WSRT_TRACE_PARK, t0, t1, 0, 0);
        if (park_ns < PARK_MAX_NS)
            park_ns *= 2;
        rounds = park_after - 1; /* one round of steals, then park again */
    }
    w->stats.busy_ns += t_busy;
    w->stats.parked_ns += t_parked;
}

static void run_range_as_root(wsrt_worker *w, uint64_t begin, uint64_t end)
{
    ws_ctx *ctx = &w->base.ctx;
    ws_frame *root = ctx->fj_head;
    root->arg[0].u = begin;
    root->arg[1].u = end;
    root->fn = NULL; /* running: never published */
    ctx->fj_head = root + 1;
    uint64_t t0 = wsrt_now_ns();
    w->stats.tasks++;
    /* relaxed: a display-only flag. */
    atomic_store_explicit(&w->busy, 1, memory_order_relaxed);
    wsrt_range_task(ctx, root);
    atomic_store_explicit(&w->busy, 0, memory_order_relaxed);
    w->stats.busy_ns += wsrt_now_ns() - t0;
    ctx->fj_head = root;
    ctx->fj_pub = root;
}

static void run_root(wsrt_worker *w)
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

/* One worker's whole part in the run, on whatever thread runs it. */
void wsrt_worker_run(wsrt_worker *w)
{
    wsrt_pool *p = w->pool;
    const ws_plugin *d = &p->run->desc;
    uint64_t t_start = wsrt_now_ns();
    int ready = 1;
    wsrt_this_worker = w;
    /* Worker 0 starts worker 1 (which starts the rest, see worker_thread)
     * only now, once it is on its own stack and about to take the root:
     * a thread that is handed its worker sooner finds no work, and after
     * its spins and yields it would go to sleep just before the work
     * arrived. */
    if (w->base.ctx.worker_id == 0 && p->jobs > 1)
        wsrt_start_worker_thread(p, 1);
    /* ws_outfile may keep this worker's output folder open for the run
     * (runtime/base/dir_cache.h); it is closed below, when the run ends. */
    w->base.dirs.on = 1;
    w->callback = "worker_init";
    int init_status = d->worker_init ? d->worker_init(p->run->state, &w->base.ctx) : WS_OK;
    w->callback = NULL;
    if (init_status != WS_OK) {
        pthread_mutex_lock(&p->fail_lock);
        p->worker_init_failed = 1;
        if (!wsrt_interrupt_noted()) /* after Ctrl-C: cut short by it (ws_on_interrupt) */
            wsrt_err("%s: worker_init failed on worker %u: %s", d->name, w->base.ctx.worker_id,
                   w->base.errbuf[0] ? w->base.errbuf : WSRT_NO_MESSAGE);
        pthread_mutex_unlock(&p->fail_lock);
        wsrt_pool_request_stop(p);
        ready = 0;
    }
    if (w->base.ctx.worker_id == 0) {
        if (ready)
            run_root(w);
        /* release: everything the run did happens before the others stop. */
        atomic_store_explicit(&p->done, 1, memory_order_release);
        wsrt_wake_all(p);
    } else if (ready) {
        worker_loop(w);
    }
    if (ready && d->worker_fini) {
        w->callback = "worker_fini";
        d->worker_fini(p->run->state, &w->base.ctx);
        w->callback = NULL;
    }
    wsrt_dir_cache_drop(&w->base.dirs);
    w->base.dirs.on = 0;
    uint64_t total = wsrt_now_ns() - t_start;
    uint64_t accounted = w->stats.busy_ns + w->stats.parked_ns;
    w->stats.idle_ns = total > accounted ? total - accounted : 0;
    wsrt_this_worker = NULL;
}

