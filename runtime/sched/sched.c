/*
 * sched.c - the work-stealing scheduler's slow paths: attention (a thief
 * asks, a run stops), publishing frames and splitting index ranges for
 * thieves, stealing, and the fork-join syncs of wsrun.h.  The pool object
 * that runs it is pool.c; the index loop and a worker's loop are
 * sched_range.c (layout: sched_internal.h).
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
#include "sched_internal.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "futex.h"
#include "test_hooks.h"
#include "wake.h"

void wsrt_trace_add(wsrt_worker *w, wsrt_trace_kind kind, uint64_t t0, uint64_t t1, uint64_t a,
                        uint64_t b)
{
    wsrt_trace_log *log = &w->trace;
    if (log->n == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 1024;
        wsrt_trace_event *ev = realloc(log->events, cap * sizeof *ev);
        if (!ev)
            return; /* a trace with a gap beats a failed run */
        log->events = ev;
        log->cap = cap;
    }
    log->events[log->n++] = (wsrt_trace_event){t0 - w->t_origin, t1 - w->t_origin, a, b, kind};
}

/* ------------------------------------------------------------ parking */

/* Wake one parked worker, if any: called when a steal succeeded (so there
 * may be more to steal) and wake-ups cascade from thief to thief. */
static void wake_one(wsrt_pool *p)
{
    /* relaxed: a missed sleeper wakes by its timeout (at most 1 ms). */
    if (atomic_load_explicit(&p->sleepers, memory_order_relaxed) > 0) {
        /* release: orders nothing the sleeper needs beyond the deques,
         * which carry their own synchronisation; it changes the futex word
         * so a sleeper about to wait returns at once. */
        atomic_fetch_add_explicit(&p->wake_seq, 1, memory_order_release);
        wsrt_futex_wake(&p->wake_seq, 1);
    }
}

void wsrt_wake_all(wsrt_pool *p)
{
    atomic_fetch_add_explicit(&p->wake_seq, 1, memory_order_release);
    wsrt_futex_wake(&p->wake_seq, 1 << 30);
}

/* ---------------------------------------------------------- attention */

/* ws_ctx.attention says why a worker must call the runtime (a thief asked
 * for work, the run is stopping); fj_trigger mirrors it for the spawn fast
 * path, which tests both that and the depth limit with one compare: it is
 * 0 while attention may be non-zero, else fj_limit.
 *
 * Invariant: once a bit is set in attention and every call below has
 * returned, fj_trigger is 0 unless the owner has cleared the bit since.
 * Argument: wsrt_attention_raise sets the bit then stores 0; wsrt_clear_attention
 * stores the limit then reads attention, and stores 0 again if a bit is
 * there.  All four are seq_cst, so in their single total order either the
 * owner's read comes after the thief's RMW (it sees the bit and stores 0
 * itself) or before it, and then the thief's store of 0 comes after the
 * owner's store of the limit and wins.  The relaxed stores of 0 below can
 * only make the trigger fire sooner, which is always safe.
 * x86 compiles a relaxed RMW or load to the same instruction as a seq_cst
 * one, so no test here can see one weakened: scripts/check-seqcst (run by
 * make test) checks that the five operations marked below stay seq_cst. */
void wsrt_attention_raise(ws_ctx *ctx, uint32_t bit)
{
    /* seq_cst, both: the argument above (check-seqcst). */
    atomic_fetch_or_explicit(&ctx->attention, bit, memory_order_seq_cst);
    atomic_store_explicit(&ctx->fj_trigger, 0, memory_order_seq_cst);
}

/* Owner only: clear `bit` and point the trigger back at the limit unless
 * some bit is still set. */
void wsrt_clear_attention(ws_ctx *ctx, uint32_t bit)
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
     * instruction, so no test can tell them apart: argued here instead,
     * and kept by check-seqcst (this and the next two). */
    atomic_fetch_and_explicit(&ctx->attention, ~bit, memory_order_seq_cst);
    atomic_store_explicit(&ctx->fj_trigger, (uintptr_t)ctx->fj_limit, memory_order_seq_cst);
    if (atomic_load_explicit(&ctx->attention, memory_order_seq_cst))
        atomic_store_explicit(&ctx->fj_trigger, 0, memory_order_relaxed);
}

/* --------------------------------------------------------- publishing */

/* Hand the oldest half of this worker's private, not running frames to
 * thieves.  Frames below the new boundary are then published or running;
 * running frames (fn == NULL) are stepped over, never published. */
size_t wsrt_publish_half(wsrt_worker *w)
{
    ws_ctx *ctx = &w->base.ctx;
    ws_frame *f, *head = ctx->fj_head;
    size_t pending = 0;
    WSRT_ASSERT(wsrt_this_worker == w); /* owner only: pushes on its deque */
    for (f = ctx->fj_pub; f < head; f++)
        pending += f->fn != NULL;
    if (pending == 0)
        return 0;
    size_t give = (pending + 1) / 2, given = give;
    for (f = ctx->fj_pub; give > 0; f++) {
        if (f->fn == NULL)
            continue;
        /* For the crash report of whoever steals it; published by the
         * push's release, as the fields below. */
        w->frame_index[f - w->frames] =
            w->task_index != UINT64_MAX ? w->task_index : w->current_index;
        /* relaxed: published by the release store of bottom in push. */
        atomic_store_explicit(&f->state, WS_FRAME_PENDING, memory_order_relaxed);
        atomic_store_explicit(&f->thief, 0, memory_order_relaxed);
        if (wsrt_deque_push(&w->deque, (uintptr_t)f) != 0) {
            wsrt_err("out of memory growing the deque of worker %u", ctx->worker_id);
            abort();
        }
        w->stats.publishes++;
        give--;
    }
    ctx->fj_pub = f;
    wsrt_wake_after_publish(&w->pool->sleepers, &w->pool->wake_seq); /* a parked thief: wake.h */
    return given;
}

/* Publish [begin, end) as a new range frame for thieves.  It goes on the
 * worker's split stack, never on the fork-join frame stack: run_one (and
 * plugins built for 1.0-1.2, whose inline code cannot change) may hold a
 * top it read before a ws_poll and spawn there with the _at calls, which
 * would overwrite a frame put at that top.  The deque still holds it in
 * sync order: the range loop syncs it (wsrt_sync_splits) after everything
 * pushed later, i.e. run_one's own children, was synced. */
void wsrt_push_split(wsrt_worker *w, uint64_t begin, uint64_t end)
{
    WSRT_ASSERT(wsrt_this_worker == w); /* owner only: pushes on its deque */
    /* The upper part of the innermost loop's range, never empty. */
    WSRT_ASSERT(begin < end && end == w->range_end);
    if (w->n_splits == SPLIT_FRAMES) {
        wsrt_err("index ranges nested deeper than %zu splits on worker %u", SPLIT_FRAMES,
               w->base.ctx.worker_id);
        abort();
    }
    ws_frame *half = &w->splits[w->n_splits++];
    half->fn = wsrt_range_task;
    half->arg[0].u = begin;
    half->arg[1].u = end;
    /* relaxed: published by the release store of bottom in push. */
    atomic_store_explicit(&half->state, WS_FRAME_PENDING, memory_order_relaxed);
    atomic_store_explicit(&half->thief, 0, memory_order_relaxed);
    if (wsrt_deque_push(&w->deque, (uintptr_t)half) != 0) {
        wsrt_err("out of memory growing the deque of worker %u", w->base.ctx.worker_id);
        abort();
    }
    w->stats.publishes++;
    w->stats.splits++;
    w->range_end = begin;
    wsrt_wake_after_publish(&w->pool->sleepers, &w->pool->wake_seq); /* as wsrt_publish_half */
}

/* Inside run_one, with nothing of its own to publish: give a thief the
 * upper half of the indices after the running one (all of them when one is
 * left).  Only when run_one has no frames of its own published (fj_pub)
 * or recorded (fj_head), so the split sits below anything it publishes
 * later in the deque and the LIFO order of syncs holds.  The index loop
 * sees range_end shrink when run_one returns. */
static int split_running_range(wsrt_worker *w)
{
    ws_ctx *ctx = &w->base.ctx;
    ws_frame *top = range_top_frame(w);
    if (!top || !range_top_is(w, ctx->fj_head) || ctx->fj_pub > top ||
        w->current_index == UINT64_MAX)
        return 0;
    uint64_t next = w->current_index + 1, end = w->range_end;
    if (next >= end)
        return 0;
    wsrt_push_split(w, next + (end - next) / 2, end);
    return 1;
}

int wsrt_block_steal_requested(ws_ctx *ctx)
{
    /* relaxed: the bit is a request, not a carrier of data (ws__attend). */
    uint32_t a = atomic_load_explicit(&ctx->attention, memory_order_relaxed);
    return (a & ATTN_REQUEST) && !(a & ATTN_STOP);
}

/* split_running_range for a block handed to run_block: the loop's
 * current_index is the block's first index, but the indices below `from`
 * are the block's, so the split starts there.  The loop picks up the new
 * range_end after run_block returns (pick_up_split), and goes on from the
 * block's *next, which is at most `from`. */
int wsrt_block_split_from(ws_ctx *ctx, uint64_t from)
{
    wsrt_worker *w = worker_of(ctx);
    WSRT_ASSERT(wsrt_this_worker == w); /* owner only: pushes on its deque */
    ws_frame *top = range_top_frame(w);
    if (!top || !range_top_is(w, ctx->fj_head) || ctx->fj_pub > top ||
        w->current_index == UINT64_MAX || from <= w->current_index || from >= w->range_end)
        return 0;
    wsrt_push_split(w, from + (w->range_end - from) / 2, w->range_end);
    wsrt_clear_attention(ctx, ATTN_REQUEST);
    return 1;
}

void ws__attend(ws_ctx *ctx)
{
    wsrt_worker *w = worker_of(ctx);
    WSRT_ASSERT(wsrt_this_worker == w); /* owner only: publishes its private frames */
    /* relaxed: the bit is a request, not a carrier of data. */
    uint32_t a = atomic_load_explicit(&ctx->attention, memory_order_relaxed);
    /* Clear the request only when something was published: otherwise it
     * stays set until an index loop can split its range.  A request that
     * arrives between the publishing and the clearing is not lost: the
     * thief finds the published frames, or asks again. */
    if ((a & ATTN_REQUEST) && !(a & ATTN_STOP) &&
        (wsrt_publish_half(w) > 0 || split_running_range(w)))
        wsrt_clear_attention(ctx, ATTN_REQUEST);
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
    WSRT_ASSERT(wsrt_this_worker == worker_of(ctx)); /* owner only, as ws__attend */
    /* relaxed: as in ws__attend. */
    uint32_t a = atomic_load_explicit(&ctx->attention, memory_order_relaxed);
    if (!a) {
        /* A stale trigger (the owner cleared the bit in between). */
        wsrt_clear_attention(ctx, 0);
        return;
    }
    if (!(a & ATTN_REQUEST) || (a & ATTN_STOP))
        return;
    ws_frame *saved = ctx->fj_head;
    wsrt_worker *w = worker_of(ctx);
    ctx->fj_head = top;
    size_t given = wsrt_publish_half(w);
    ctx->fj_head = saved;
    if (given > 0)
        wsrt_clear_attention(ctx, ATTN_REQUEST);
    /* _at frames of the running run_one itself (above the record, which
     * is still its range_top) are now published: mark range_top so that
     * the index loop's one compare after run_one sends it to top_moved,
     * which checks that they were synced (frames are aligned: bit 0 is
     * free). */
    if (ctx->fj_pub > saved && range_top_is(w, saved) && w->current_index != UINT64_MAX)
        range_top_mark_published(w);
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
        wsrt_err("%s: fork-join (ws_spawn) is only possible in run_one and its tasks, not in "
               "init or finish",
               ws_plugin_name(ctx));
    else
        wsrt_err("%s: fork-join nesting deeper than %zu frames on worker %u (wsrun --stack "
               "SIZE gives SIZE/256 frames)",
               ws_plugin_name(ctx), worker_of(ctx)->pool->frame_frames, ctx->worker_id);
    abort();
}

void ws__task_unawaited(ws_ctx *ctx, const char *task)
{
    /* The same words as the WS_DEBUG_FORKJOIN build's report (wsrun.h). */
    wsrt_err("%s: fork-join misuse in task %s: returned with spawns never synced (WS_AWAIT)",
             ws_plugin_name(ctx), task);
    abort();
}

int ws_stopping(const ws_ctx *ctx)
{
    /* The pool of the worker that ctx is (it outlives every run_one), so
     * two pools running at once answer for themselves.  Off worker threads
     * (init, finish: the main ctx, worker_id UINT32_MAX) there is no run to
     * stop.  A NULL ctx, which the header never allowed but the ctx-less
     * version answered, still asks about the calling worker. */
    /* The main thread's context (init, finish) answers a Ctrl-C, so a
     * long listing in init can end (issue 23). */
    if (ctx && ctx->worker_id == UINT32_MAX && wsrt_interrupt_noted())
        return 1;
    const wsrt_worker *w = ctx ? (ctx->worker_id == UINT32_MAX ? NULL
                                                             : (const wsrt_worker *)(const void *)ctx)
                             : wsrt_this_worker;
    /* relaxed: a hint for long tasks to return early. */
    return w && atomic_load_explicit(&w->pool->stopping, memory_order_relaxed) != 0;
}

/* ----------------------------------------------------------- stealing */

static void ask_for_work(wsrt_worker *victim)
{
    /* relaxed: a request carries no data; test first so idle thieves do not
     * keep the victim's cache line bouncing. */
    if (!(atomic_load_explicit(&victim->base.ctx.attention, memory_order_relaxed) & ATTN_REQUEST)) {
        wsrt_attention_raise(&victim->base.ctx, ATTN_REQUEST);
        const wsrt_run_hooks *h = &victim->pool->run->hooks;
        if (h->request_raised) /* --isolate: a victim may wait on a futex */
            h->request_raised(h->block_run_arg, victim->base.ctx.worker_id);
    }
}

/* Run a frame taken from another worker's deque, then mark it done for its
 * owner.  It runs as a copy on top of this worker's frame stack, so that
 * its children go at copy + 1 here (the rule "a task's free space starts at
 * self + 1" holds wherever it runs); its results are copied back. */
static void run_stolen(wsrt_worker *w, ws_frame *f, unsigned victim)
{
    ws_ctx *ctx = &w->base.ctx;
    /* A frame is stolen once: never one already done.  relaxed: the
     * steal's CAS gave us the frame; only we and its owner read it. */
    WSRT_ASSERT(atomic_load_explicit(&f->state, memory_order_relaxed) == WS_FRAME_PENDING);
    WSRT_ASSERT(f->fn != NULL); /* running frames are never published */
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
    char kept_msg[WSRT_ERRBUF];
    int kept = w->base.errbuf[0] != '\0';
    if (kept)
        memcpy(kept_msg, w->base.errbuf, WSRT_ERRBUF);
    w->base.errbuf[0] = '\0';
    ws_frame *copy = ctx->fj_head;
    if (WS_UNLIKELY(copy >= ctx->fj_limit))
        ws__frames_exhausted(ctx);
    /* The index the stolen task belongs to, for the crash report: a
     * fork-join frame's from its owner's record; a range frame names its
     * own indices (current_index, set by its loop). */
    const wsrt_worker *owner = w->pool->workers[victim];
    uint64_t kept_task_index = w->task_index;
    w->task_index = f >= owner->frames && f < owner->frames + w->pool->frame_frames
                        ? owner->frame_index[f - owner->frames]
                        : UINT64_MAX;
    uint64_t kept_current_index = w->current_index;
    ws_task_fn fn = f->fn;
    copy->ret = f->ret;
    memcpy(copy->arg, f->arg, sizeof copy->arg);
    copy->fn = NULL; /* running: never published */
    ctx->fj_head = copy + 1;
    uint64_t t0 = w->pool->run->trace ? wsrt_now_ns() : 0;
    int status = fn(ctx, copy);
    if (w->pool->run->trace && fn != wsrt_range_task)
        wsrt_trace_add(w, WSRT_TRACE_TASK, t0, wsrt_now_ns(), victim, 0);
    ctx->fj_head = copy;
    if (ctx->fj_pub > copy)
        ctx->fj_pub = copy;
    w->task_index = kept_task_index;
    /* a stolen range's loop leaves UINT64_MAX: the waiting index is ours */
    w->current_index = kept_current_index;
    w->nesting--;
    f->ret = copy->ret;
    memcpy(f->arg, copy->arg, sizeof f->arg);
    f->status = status;
    if (status != WS_OK)
        f->stolen_err = strdup(w->base.errbuf[0] ? w->base.errbuf : "child task failed");
    if (kept)
        memcpy(w->base.errbuf, kept_msg, WSRT_ERRBUF);
    else
        w->base.errbuf[0] = '\0';
    /* release: the owner that acquires DONE sees status, ret and the
     * frame's side effects. */
    atomic_store_explicit(&f->state, WS_FRAME_DONE, memory_order_release);
}

uint32_t wsrt_next_victim(wsrt_worker *w)
{
    w->victim_rng = w->victim_rng * 6364136223846793005u + 1442695040888963407u;
    uint32_t others = w->pool->jobs - 1;
    uint32_t v = (uint32_t)((w->victim_rng >> 33) % others);
    return v >= w->base.ctx.worker_id ? v + 1 : v;
}

/* One steal attempt on `victim`; runs the frame if one was taken.  With
 * `waited_state` (the state of a frame this worker waits for), gives up if
 * that frame is done before the item is claimed (leapfrogging). */
int wsrt_try_steal_from(wsrt_worker *w, wsrt_worker *victim, _Atomic uint32_t *waited_state)
{
    uintptr_t item;
    w->stats.steal_tries++;
    int r = wsrt_deque_steal_unless(&victim->deque, &item, waited_state);
    if (r == WSRT_DEQUE_GOT) {
        wake_one(w->pool);
        if (w->pool->run->trace) {
            uint64_t t = wsrt_now_ns();
            wsrt_trace_add(w, WSRT_TRACE_STEAL, t, t, victim->base.ctx.worker_id, 0);
        }
        run_stolen(w, (ws_frame *)item, victim->base.ctx.worker_id);
        return 1;
    }
    if (r == WSRT_DEQUE_EMPTY)
        ask_for_work(victim);
    return 0;
}

/* ------------------------------------------------------------ syncing */

static int finish_sync(ws_ctx *ctx, ws_frame *f)
{
    int status = f->status;
    if (f->stolen_err) {
        snprintf(((wsrt_ctx_base *)ctx)->errbuf, WSRT_ERRBUF, "%s", f->stolen_err);
        free(f->stolen_err);
        f->stolen_err = NULL;
    }
    return status;
}

/* Until the thief of f (published, then stolen) marks it done: help that
 * thief with frames from its deque, which can only be f's descendants (it
 * took f from our deque while its own was empty, and thieves always take
 * the oldest frame first). */
static void wait_for_thief(wsrt_worker *w, ws_frame *f)
{
    unsigned fails = 0;
    /* acquire: pairs with the release store of DONE in run_stolen. */
    while (atomic_load_explicit(&f->state, memory_order_acquire) != WS_FRAME_DONE) {
        /* relaxed: a stale 0 only delays helping by one round. */
        uint32_t thief = atomic_load_explicit(&f->thief, memory_order_relaxed);
        WSRT_HOOK("sync.before_help");
        /* The thief may finish f between the load of state above and its
         * steal, then take unrelated work and publish part of it: the
         * steal re-checks f's state before it claims an item (deque.c),
         * so this worker runs only f's descendants, as the header says. */
        int helped = thief && wsrt_try_steal_from(w, w->pool->workers[thief - 1], &f->state);
        WSRT_HOOK("sync.after_help");
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
    wsrt_worker *w = worker_of(ctx);
    uintptr_t item;
    WSRT_ASSERT(wsrt_this_worker == w); /* owner only: takes from its deque */
    if (wsrt_deque_take(&w->deque, &item) == WSRT_DEQUE_GOT) {
        /* Not stolen: f was the newest published frame.  It is private
         * again; run it as the inline path does. */
        if ((ws_frame *)item != f) {
            wsrt_err("internal error: fork-join frames synced out of order on worker %u",
                   ctx->worker_id);
            abort();
        }
        ctx->fj_pub = f;
        return ws_sync(ctx, f);
    }
    /* Stolen.  f stays reserved (fj_head = f + 1) while its thief writes
     * into it. */
    wait_for_thief(w, f);
    /* relaxed: wait_for_thief's acquire load already saw DONE. */
    WSRT_ASSERT(atomic_load_explicit(&f->state, memory_order_relaxed) == WS_FRAME_DONE);
    ctx->fj_head = f;
    ctx->fj_pub = f;
    return finish_sync(ctx, f);
}

/* Sync the ranges this worker split off since its split stack held `base`
 * frames, newest first: run one here if no thief took it, else wait. */
void wsrt_sync_splits(wsrt_worker *w, size_t base)
{
    WSRT_ASSERT(wsrt_this_worker == w); /* owner only: takes from its deque */
    WSRT_ASSERT(w->n_splits >= base); /* the loop that split them syncs them */
    while (w->n_splits > base) {
        ws_frame *half = &w->splits[w->n_splits - 1];
        uintptr_t item;
        if (wsrt_deque_take(&w->deque, &item) == WSRT_DEQUE_GOT) {
            if ((ws_frame *)item != half) {
                wsrt_err("internal error: split ranges synced out of order on worker %u",
                       w->base.ctx.worker_id);
                abort();
            }
            wsrt_range_task(&w->base.ctx, half); /* its own splits go above it */
        } else {
            wait_for_thief(w, half);
        }
        w->n_splits--;
    }
}

