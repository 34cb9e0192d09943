/*
 * isolate_proxy.c - the per-worker callbacks the pool calls under
 * isolation (--isolate, an isolating ws_pool), in place of the plugin's (isolate.h): worker_init asks the
 * template for the worker's child, run_one and the index loop's run_block
 * hand it runs of indices through its slot and wait for the answer,
 * worker_fini ends it.  A child that dies fails the index it was running;
 * the next index gets a fresh child.
 *
 * Must never count an index as done unless its child said so, never hand
 * a child a run before it is IDLE, and never leave a dead child's slot
 * without its clean-up (wsrt_iso_slot_reset).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "isolate_internal.h"
#include "log.h"
#include "pool.h"

/* Ask the template for a child for worker w and wait until its
 * worker_init returned.  WS_OK, or ws_fail naming why. */
static int start_child(wsrt_isolation *iso, unsigned w, ws_ctx *ctx)
{
    wsrt_iso_slot *slot = &iso->slots[w];
    if (!wsrt_iso_template_alive(iso))
        return ws_fail(ctx, "no worker process: the worker processes' template ended");
    slot->init_failed = 0;
    slot->err[0] = '\0';
    slot->wstatus = 0;
    atomic_store_explicit(&slot->pid, 0, memory_order_relaxed);
    atomic_store_explicit(&slot->current, UINT64_MAX, memory_order_relaxed);
    atomic_store_explicit(&slot->started_ns, 0, memory_order_relaxed);
    /* seq_cst: the fields above before the template forks the child (the
     * pipe write orders them too; this keeps the argument local), and one
     * side of the Dekker pair with wsrt_isolate_request_stop: either it
     * sees STARTING and signals the child, or this store comes after its
     * store of `stop` in the total order, and the child, forked after it,
     * reads the stop bits once its pool exists (isolate_child.c). */
    atomic_store(&slot->state, SLOT_STARTING);
    uint32_t id = w;
    ssize_t n;
    do
        n = write(iso->cmd_fd, &id, sizeof id);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof id) {
        wsrt_iso_slot_reset(slot);
        return ws_fail(ctx, "cannot ask for a worker process: %s", strerror(errno));
    }
    int timed_out = 0;
    uint32_t s = wsrt_iso_wait_while(iso, slot, SLOT_STARTING, &timed_out);
    if (s == SLOT_IDLE)
        return WS_OK;
    char why[256];
    wsrt_iso_describe_end(iso, slot, timed_out, why, sizeof why);
    int init_failed = slot->init_failed;
    char msg[WSRT_ERRBUF];
    snprintf(msg, sizeof msg, "%s", slot->err);
    wsrt_iso_slot_reset(slot);
    if (init_failed)
        return ws_fail(ctx, "%s", msg[0] ? msg : WSRT_NO_MESSAGE);
    return ws_fail(ctx, "no worker process: %s%s%s", msg[0] ? msg : why,
                   msg[0] ? "" : " (during worker_init)", "");
}

static int proxy_worker_init(void *state, ws_ctx *ctx)
{
    wsrt_isolation *iso = state;
    return start_child(iso, ctx->worker_id, ctx);
}

/* A thief asked for work while the child runs [begin, end): take back
 * the run's unstarted tail, so the worker can split it off with the rest
 * of its range.  Returns the new end E (begin < E <= end): the child runs
 * no index from E on, and its answer says how far below E it got.
 *
 * The Dekker pair with claim() in isolate_child.c: the child stores
 * `current` = i, then loads `end`, and runs i only if i < end; this
 * thread stores `end` = E, then loads `current`, all seq_cst.  If that
 * load sees c < E, each of the child's stores of an index >= E comes
 * after it in the total order (`current` only grows within a run; the
 * reset to UINT64_MAX before RUN is this thread's), so its load of `end`
 * after it sees E: no index >= E runs.  If the load sees c >= E, the
 * child may have read the older end for c, so E is raised to c + 1 and
 * the pair repeated: raising is safe, as nothing at or above the old E
 * was given away yet; the child's `next` (the index it stopped at, if it
 * read a lower end) stays the word on what ran.  Ends: c < end. */
static uint64_t take_back_tail(wsrt_iso_slot *slot, uint64_t begin, uint64_t end)
{
    /* seq_cst: see above (a first guess only; the loop decides). */
    uint64_t c = atomic_load(&slot->current);
    for (;;) {
        /* At least one index stays with the child: a run answered with
         * none done reads as a stop to the index loop. */
        uint64_t e = c == UINT64_MAX || c < begin ? begin + 1 : c + 1;
        if (e >= end)
            return end; /* nothing unstarted to take back */
        atomic_store(&slot->end, e);     /* seq_cst: the Dekker pair */
        c = atomic_load(&slot->current); /* seq_cst: the Dekker pair */
        if (c == UINT64_MAX || c < e)
            return e;
    }
}

/* Run [begin, end) of worker ctx->worker_id's indices in its child, to the
 * first failure: *next is the first index not finished ([begin, *next)
 * succeeded).  WS_OK, or index *next failed (message in ctx).  With
 * `steal` (the index loop's block), a thief's request while the child
 * runs takes back the run's unstarted tail and splits it off
 * (take_back_tail): *next may then stop short of end with WS_OK. */
static int run_span(wsrt_isolation *iso, ws_ctx *ctx, uint64_t begin, uint64_t end,
                    uint64_t *next, int steal)
{
    unsigned w = ctx->worker_id;
    wsrt_iso_slot *slot = &iso->slots[w];
    *next = begin;
    for (int attempt = 0;; attempt++) {
        /* relaxed: EMPTY is this thread's own store. */
        if (atomic_load_explicit(&slot->state, memory_order_relaxed) == SLOT_EMPTY) {
            char why[WSRT_ERRBUF];
            if (start_child(iso, w, ctx) != WS_OK) {
                snprintf(why, sizeof why, "%s", wsrt_ctx_error(ctx));
                wsrt_ctx_clear_error(ctx);
                return ws_fail(ctx, "not run: a fresh worker process could not start: %s", why);
            }
        }
        slot->begin = begin;
        /* relaxed: the child is IDLE, and the CAS below publishes these;
         * current reset so that take_back_tail never reads a past run's. */
        atomic_store_explicit(&slot->end, end, memory_order_relaxed);
        atomic_store_explicit(&slot->current, UINT64_MAX, memory_order_relaxed);
        uint32_t expected = SLOT_IDLE;
        /* seq_cst: begin and end before the child sees RUN (its acquire),
         * and the Dekker pair with wsrt_isolate_request_stop as for
         * STARTING (start_child): a stop that found IDLE here is seen by
         * the child when it takes this run (child_next_block). */
        if (atomic_compare_exchange_strong(&slot->state, &expected, SLOT_RUN))
            break;
        /* The idle child died (killed from outside) before this run:
         * not this index's fault; start another child once. */
        if (expected == SLOT_DEAD && attempt == 0) {
            wsrt_iso_slot_reset(slot);
            continue;
        }
        char why[256];
        wsrt_iso_describe_end(iso, slot, 0, why, sizeof why);
        wsrt_iso_slot_reset(slot);
        return ws_fail(ctx, "not run: %s", why);
    }
    wsrt_iso_wake(&slot->state);
    int timed_out = 0;
    ws_ctx *watch = steal && iso->jobs > 1 ? ctx : NULL;
    uint32_t s;
    while ((s = wsrt_iso_wait_run(iso, slot, &timed_out, watch)) == SLOT_RUN) {
        /* A thief asked: give it half of what is not started.  When
         * nothing is (the child's last index runs, and the range ends
         * with the run), stop looking: the request stays for the loop. */
        end = take_back_tail(slot, begin, end);
        if (!wsrt_block_split_from(ctx, end))
            watch = NULL;
    }
    if (s == SLOT_IDLE) {
        *next = slot->next;
        if (slot->result == WS_OK)
            return WS_OK;
        return ws_fail(ctx, "%s", slot->err[0] ? slot->err : WSRT_NO_MESSAGE);
    }
    /* DEAD (or the template gone): the child ended inside index `current`;
     * every index before it in the run succeeded (it stops at a failure). */
    /* relaxed: the child is gone; the template's release of DEAD, which
     * our acquire saw, came after the child's last store. */
    uint64_t at = atomic_load_explicit(&slot->current, memory_order_relaxed);
    if (at != UINT64_MAX && at >= end && at > begin) {
        /* It died after it found `at` taken back (claim), with every
         * index before it done: the run is over, not failed. */
        *next = end;
        wsrt_iso_slot_reset(slot);
        return WS_OK;
    }
    *next = at >= begin && at < end ? at : begin;
    char why[512];
    wsrt_iso_describe_end(iso, slot, timed_out, why, sizeof why);
    wsrt_iso_slot_reset(slot);
    return ws_fail(ctx, "%s", why);
}

/* The pool's retries (and any caller of run_one): one index. */
static int proxy_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    uint64_t next;
    return run_span(state, ctx, index, index + 1, &next, 0);
}

/* Indices per round trip: sized from the last run's time per index so
 * that a run takes about RUN_TARGET_NS.  A round trip (two cross-process
 * futex wake-ups, ~100 us per index on the loaded 2-core VM) is then paid
 * once per run, not once per slow index, and balance does not need short
 * runs: a thief's request takes back the unstarted tail of a run in
 * progress (take_back_tail).  The target bounds how stale progress and
 * the journal get (both see a run when it returns).  Growth is at most
 * RUN_GROW_MAX per run, so one cheap first index does not hand the whole
 * range over before later ones are seen. */
#define BLOCK_MAX ((uint64_t)1 << 20)
#define RUN_TARGET_NS 20000000u /* 20 ms */
#define RUN_GROW_MAX 8u

static uint64_t next_block(uint64_t block, uint64_t ran, uint64_t took_ns)
{
    if (ran == 0)
        return block; /* taken back or failed at once: nothing learned */
    if (took_ns == 0)
        took_ns = 1;
    unsigned __int128 want = (unsigned __int128)ran * RUN_TARGET_NS / took_ns;
    unsigned __int128 cap = (unsigned __int128)block * RUN_GROW_MAX;
    if (want > cap)
        want = cap;
    if (want > BLOCK_MAX)
        want = BLOCK_MAX;
    return want ? (uint64_t)want : 1;
}

/* The pool's index loop (run->hooks.run_block): a run of indices. */
static int proxy_run_block(void *arg, ws_ctx *ctx, uint64_t begin, uint64_t end,
                           uint64_t *next)
{
    wsrt_isolation *iso = arg;
    uint64_t *block = &iso->block[ctx->worker_id];
    if (end - begin > *block)
        end = begin + *block;
    uint64_t t0 = wsrt_iso_now_ns();
    int rc = run_span(iso, ctx, begin, end, next, 1);
    *block = next_block(*block, *next - begin, wsrt_iso_now_ns() - t0);
    return rc;
}

static void proxy_worker_fini(void *state, ws_ctx *ctx)
{
    wsrt_isolation *iso = state;
    unsigned w = ctx->worker_id;
    wsrt_iso_slot *slot = &iso->slots[w];
    uint32_t expected = SLOT_IDLE;
    /* release: nothing to publish but the state; pairs with the child's
     * acquire load for symmetry with RUN. */
    if (!atomic_compare_exchange_strong_explicit(&slot->state, &expected, SLOT_QUIT,
                                                 memory_order_release, memory_order_acquire)) {
        if (expected == SLOT_DEAD)
            wsrt_iso_slot_reset(slot);
        return; /* EMPTY: no child (it died; none was needed since) */
    }
    wsrt_iso_wake(&slot->state);
    int timed_out = 0;
    wsrt_iso_wait_while(iso, slot, SLOT_QUIT, &timed_out);
    if (slot->wstatus != 0 || atomic_load(&iso->template_gone)) {
        char why[512];
        wsrt_iso_describe_end(iso, slot, timed_out, why, sizeof why);
        char msg[WSRT_ERRBUF];
        snprintf(msg, sizeof msg, "%s: worker %u's process failed at its end (worker_fini): %s",
                 iso->desc.name, w, why);
        wsrt_err("%s", msg);
        pthread_mutex_lock(&iso->fini_lock);
        if (!iso->fini_msg[0])
            snprintf(iso->fini_msg, sizeof iso->fini_msg, "%s", msg);
        pthread_mutex_unlock(&iso->fini_lock);
        atomic_store(&iso->fini_failed, 1);
    }
    wsrt_iso_slot_reset(slot);
}

/* The pool's request_raised hook (run.h): a thief asked worker `victim`
 * for work; if that worker waits for its process (run_span), it wakes
 * and splits now.  The request bit was raised (seq_cst) before this call
 * on the thief's thread, so the bump's release carries it to the
 * waiter's acquire of wake_seq (isolate_slot.c, wait_while). */
static void proxy_request_raised(void *arg, uint32_t victim)
{
    wsrt_isolation *iso = arg;
    if (victim < iso->jobs)
        wsrt_iso_bump(&iso->slots[victim]);
}

void wsrt_iso_proxies_install(wsrt_isolation *iso, ws_run *run)
{
    run->desc.worker_init = proxy_worker_init;
    run->desc.run_one = proxy_run_one;
    run->desc.worker_fini = proxy_worker_fini;
    run->state = iso;
    run->hooks.run_block = proxy_run_block;
    run->hooks.block_run_arg = iso;
    run->hooks.request_raised = proxy_request_raised;
}
