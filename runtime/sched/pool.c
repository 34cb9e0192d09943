/*
 * pool.c - the pool object of pool.h: its life (the standby threads and
 * worker 0's stack it starts with, the threads of ended runs it joins),
 * one run on it (workers, their threads, the result), and the stop and
 * progress queries other threads and signal handlers make.  The
 * scheduling itself is sched.c and sched_range.c (sched_internal.h).
 *
 * Must never keep state outside the object (two pools run independently,
 * at the same time, on different threads), never install a signal
 * handler, and never free a run's workers while a reader may still look
 * at them (run_enter/run_leave).
 */
#include "quiet_thread.h"
#include "sched_internal.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "futex.h"
#include "own_stack.h"
#include "test_hooks.h"

static void *worker_thread(void *arg);

/* Worker i's thread could not be started: keep the first reason and stop
 * the run.  Nothing is printed per thread (up to jobs/2+1 threads fail at
 * once, in no order); the caller words one line from the result. */
static void start_failed(wsrt_pool *p, unsigned i, int why)
{
    (void)i;
    pthread_mutex_lock(&p->fail_lock);
    if (!p->start_failed)
        p->start_errno = why;
    p->start_failed = 1;
    pthread_mutex_unlock(&p->fail_lock);
    wsrt_pool_request_stop(p);
}

/* Start worker i's thread: hand the worker to a thread wsrt_pool_create
 * started for it, or start one, on CPU number i counted from worker 0's
 * (placement.h).  On failure the run is stopped; returns 0 when the thread
 * started. */
int wsrt_start_worker_thread(wsrt_pool *p, unsigned i)
{
    wsrt_worker *w = p->workers[i];
    /* relaxed: the starter is itself counted (or is the thread that waits
     * for the count), so the count cannot reach 0 before this add; the
     * starter's own release decrement comes after it. */
    atomic_fetch_add_explicit(&p->threads_in_run, 1, memory_order_relaxed);
    /* i > 0: worker 0 gets a thread only when the caller cannot run it,
     * and no standby thread is kept for that. */
    w->placed = 1; /* before the hand-over, which publishes it */
    if (i > 0 && wsrt_standby_take(&p->standby, i, worker_thread, w, &w->thread) == 0) {
        w->thread_started = 1;
        return 0;
    }
    w->placed = 0;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, p->stack_bytes);
    wsrt_placement_start_on(&p->place, i, &attr);
    int e = wsrt_quiet_thread_create(&w->thread, &attr, worker_thread, w);
    pthread_attr_destroy(&attr);
    if (e != 0) {
        atomic_fetch_sub_explicit(&p->threads_in_run, 1, memory_order_relaxed); /* as the add */
        start_failed(p, i, e);
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
    wsrt_worker *w = arg;
    wsrt_pool *p = w->pool;
    unsigned id = w->base.ctx.worker_id;
    if (!w->placed) /* started on one CPU (see wsrt_start_worker_thread); now free to move */
        wsrt_placement_let_go(&p->place);
    for (unsigned child = 2 * id; id > 0 && child <= 2 * id + 1 && child < p->jobs; child++)
        if (wsrt_start_worker_thread(p, child) != 0)
            break;
    if (p->thread_start) /* again on a standby thread: it must allow that (pool.h) */
        p->thread_start();
    wsrt_worker_run(w);
    /* release: this worker's stats, trace, and the handles of the threads
     * it started happen before wsrt_pool_run, which acquires the count, reads
     * them.  After this the thread touches nothing of the run's; the wake
     * below uses the pool's own word, which outlives the run (see
     * threads_in_run in sched_internal.h). */
    if (atomic_fetch_sub_explicit(&p->threads_in_run, 1, memory_order_release) == 1)
        wsrt_futex_wake(&p->threads_in_run, INT_MAX);
    return NULL;
}

/* Worker 0 on the thread that called wsrt_pool_run (see own_stack.h).  That
 * thread gets back the CPU affinity it had if worker_init or run_one
 * changed it (plugins pin workers); its signal mask comes back with the
 * switch of stacks. */
static void worker0_on_caller(void *arg)
{
    wsrt_worker *w = arg;
    wsrt_pool *p = w->pool;
    wsrt_worker_run(w);
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
static void wait_for_worker_threads(wsrt_pool *p)
{
    for (unsigned round = 0;; round++) {
        /* acquire: pairs with each leaving thread's release decrement. */
        uint32_t left = atomic_load_explicit(&p->threads_in_run, memory_order_acquire);
        if (left == 0)
            return;
        if (round < STEAL_ROUNDS_BEFORE_PARK)
            sched_yield();
        else /* the last thread to leave wakes us; the timeout is a backstop */
            wsrt_futex_wait(&p->threads_in_run, left, PARK_MAX_NS);
    }
}

static wsrt_worker *worker_new(wsrt_pool *p, unsigned id)
{
    wsrt_worker *w;
    if (posix_memalign((void **)&w, 64, sizeof *w) != 0)
        return NULL;
    memset(w, 0, sizeof *w);
    w->pool = p;
    wsrt_ctx_base_init(&w->base, p->run, id);
    w->run_one = p->run->desc.run_one;
    w->state = p->run->state;
    w->victim_rng = ws_mix64(id + 1);
    w->frames = mmap(NULL, FRAME_STACK_BYTES(p), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (w->frames == MAP_FAILED) {
        free(w);
        return NULL;
    }
    w->splits = mmap(NULL, SPLIT_BYTES, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (w->splits == MAP_FAILED) {
        munmap(w->frames, FRAME_STACK_BYTES(p));
        free(w);
        return NULL;
    }
    w->frame_index = mmap(NULL, (p->frame_frames + 1) * sizeof(uint64_t), PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (w->frame_index == MAP_FAILED || wsrt_deque_init(&w->deque, 8) != 0) {
        if (w->frame_index != MAP_FAILED)
            munmap(w->frame_index, (p->frame_frames + 1) * sizeof(uint64_t));
        munmap(w->splits, SPLIT_BYTES);
        munmap(w->frames, FRAME_STACK_BYTES(p));
        free(w);
        return NULL;
    }
    w->base.ctx.fj_head = w->frames;
    w->base.ctx.fj_pub = w->frames;
    w->base.ctx.fj_limit = w->frames + p->frame_frames;
    atomic_init(&w->base.ctx.attention, 0);
    atomic_init(&w->base.ctx.fj_trigger, (uintptr_t)w->base.ctx.fj_limit);
    atomic_init(&w->progress, 0);
    atomic_init(&w->busy, 0);
    w->current_index = UINT64_MAX;
    w->task_index = UINT64_MAX;
    return w;
}

static void worker_free(wsrt_worker *w)
{
    if (!w)
        return;
    wsrt_deque_destroy(&w->deque);
    free(w->trace.events);
    munmap(w->frames, FRAME_STACK_BYTES(w->pool));
    munmap(w->frame_index, (w->pool->frame_frames + 1) * sizeof(uint64_t));
    munmap(w->splits, SPLIT_BYTES);
    free(w);
}

/* Join the threads of ended runs and free their workers. */
static void reap_retired(wsrt_pool *p)
{
    for (unsigned i = 0; i < p->n_retired; i++) {
        if (p->retired[i]->thread_started)
            pthread_join(p->retired[i]->thread, NULL);
        worker_free(p->retired[i]);
    }
    p->n_retired = 0;
}

void wsrt_pool_reap(wsrt_pool *p)
{
    if (!p)
        return;
    WSRT_ASSERT(!atomic_load_explicit(&p->running, memory_order_relaxed)); /* not during a run */
    reap_retired(p);
    wsrt_standby_release(&p->standby);
}

wsrt_pool *wsrt_pool_create(unsigned jobs)
{
    wsrt_pool_options o = {.jobs = jobs};
    return wsrt_pool_create_with(&o);
}

wsrt_pool *wsrt_pool_create_stack(unsigned jobs, size_t stack_bytes)
{
    wsrt_pool_options o = {.jobs = jobs, .stack_bytes = stack_bytes};
    return wsrt_pool_create_with(&o);
}

wsrt_pool *wsrt_pool_create_with(const wsrt_pool_options *o)
{
    unsigned jobs = o->jobs;
    wsrt_pool *p;
    if (posix_memalign((void **)&p, 64, sizeof *p) != 0) {
        errno = ENOMEM;
        return NULL;
    }
    memset(p, 0, sizeof *p);
    p->prepared_jobs = jobs ? jobs : 1;
    p->thread_start = o->thread_start; /* before any thread starts: read-only since */
    p->stack_bytes = o->stack_bytes ? o->stack_bytes : WSRT_WORKER_STACK_BYTES;
    p->frame_frames = p->stack_bytes / WSRT_FRAME_STACK_SHARE / sizeof(ws_frame);
    atomic_init(&p->done, 0);
    atomic_init(&p->stopping, 0);
    atomic_init(&p->cut_short, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->wake_seq, 0);
    atomic_init(&p->running, 0);
    atomic_init(&p->readers, 0);
    atomic_init(&p->stop_pending, 0);
    atomic_init(&p->threads_in_run, 0);
    int e = pthread_mutex_init(&p->fail_lock, NULL);
    if (e != 0) {
        free(p);
        errno = e;
        return NULL;
    }
    /* First, while this may still be the only thread: mapping the stack
     * changes page protections, which with other threads alive costs a
     * TLB shootdown (an interrupt to every CPU they run on).  The stack is
     * this pool's own (own_stack.h).  Optional: where it cannot be had,
     * worker 0 gets a thread. */
    atomic_flag_clear(&p->own_stack.in_use);
    (void)wsrt_own_stack_reserve(&p->own_stack, p->stack_bytes);
    if (p->prepared_jobs >= 2) {
        wsrt_placement place;
        wsrt_placement_read(&place, p->prepared_jobs);
        /* Threads that cannot start leave their slots empty: the run
         * starts threads of its own for those workers. */
        wsrt_standby_start(&p->standby, p->prepared_jobs, &place, p->stack_bytes,
                           p->thread_start);
    }
    return p;
}

void wsrt_pool_destroy(wsrt_pool *p)
{
    if (!p)
        return;
    wsrt_pool_reap(p); /* every thread of the pool has ended: nothing reads it now */
    wsrt_own_stack_release(&p->own_stack); /* no run: nothing is on it */
    free(p->retired);
    pthread_mutex_destroy(&p->fail_lock);
    free(p);
}

/* Hand the run's workers to wsrt_pool_reap (or reap them now, where no
 * memory is left to keep them in). */
static void retire_workers(wsrt_pool *p)
{
    for (unsigned i = 0; i < p->jobs; i++) {
        wsrt_worker *w = p->workers[i];
        p->workers[i] = NULL;
        if (!w)
            continue;
        if (p->n_retired == p->cap_retired) {
            unsigned cap = p->cap_retired ? 2 * p->cap_retired : 16;
            wsrt_worker **grown = realloc(p->retired, cap * sizeof *grown);
            if (!grown) {
                if (w->thread_started)
                    pthread_join(w->thread, NULL);
                worker_free(w);
                continue;
            }
            p->retired = grown;
            p->cap_retired = cap;
        }
        p->retired[p->n_retired++] = w;
    }
}

int wsrt_pool_where(unsigned *worker, uint64_t *index)
{
    wsrt_worker *w = wsrt_this_worker;
    if (!w)
        return 0;
    *worker = w->base.ctx.worker_id;
    *index = w->task_index != UINT64_MAX ? w->task_index : w->current_index;
    return 1;
}

const char *wsrt_pool_worker_callback(void)
{
    wsrt_worker *w = wsrt_this_worker;
    return w ? w->callback : NULL;
}

wsrt_pool *wsrt_pool_of_caller(void)
{
    wsrt_worker *w = wsrt_this_worker;
    return w ? w->pool : NULL;
}

/* A run's workers, for a thread or a signal handler other than the run's
 * own: 1 when a run is published (then p->jobs and p->workers stay valid
 * until run_leave), else 0 and nothing to leave.  wsrt_pool_run waits for
 * the readers before it retires the workers. */
static int run_enter(wsrt_pool *p)
{
    /* seq_cst (both): Dekker-style with the end of wsrt_pool_run, which
     * clears `running` and then reads `readers`: either it sees our
     * count, or we see the 0 it stored first. */
    atomic_fetch_add(&p->readers, 1);
    if (atomic_load(&p->running))
        return 1;
    atomic_fetch_sub(&p->readers, 1);
    return 0;
}

static void run_leave(wsrt_pool *p)
{
    atomic_fetch_sub(&p->readers, 1); /* seq_cst: see run_enter */
}

void wsrt_pool_request_stop(wsrt_pool *p)
{
    if (!p)
        return;
    /* seq_cst (this store, run_enter's load of running, and in
     * wsrt_pool_run the store of running and the exchange): Dekker.  The
     * flag goes up before we look for a run and the run is published
     * before it looks at the flag, so in the total order either we find
     * the run or the run finds the flag (or both; then stopping twice is
     * harmless).  Looking first and storing after let a run start in
     * between and miss the stop, which then stopped the next run
     * instead.  Per pool: a stop of one pool never touches another. */
    atomic_store(&p->stop_pending, 1);
    WSRT_HOOK("request_stop.flag_stored");
    if (!run_enter(p))
        return; /* the next run of this pool reads the flag */
    /* seq_cst: consume the flag (it was meant for this run) so that the
     * next run does not start stopped. */
    atomic_exchange(&p->stop_pending, 0);
    /* relaxed: flags only; lock-free atomics keep this signal-safe. */
    atomic_store_explicit(&p->stopping, 1, memory_order_relaxed);
    for (unsigned i = 0; i < p->jobs; i++)
        if (p->workers[i])
            wsrt_attention_raise(&p->workers[i]->base.ctx, ATTN_STOP);
    /* p->run was stored before the run was published (seq_cst `running`,
     * which run_enter read), and stays until run_leave lets the run end. */
    const ws_run *run = p->run;
    if (run->hooks.stop_raised)
        run->hooks.stop_raised(run->hooks.stop_arg);
    run_leave(p);
}

void wsrt_pool_drop_stop(wsrt_pool *p)
{
    if (!p)
        return;
    /* seq_cst: as every access to the flag (wsrt_pool_request_stop); the
     * caller has waited for the requests in progress, so none sets it
     * again behind this store. */
    atomic_store(&p->stop_pending, 0);
}

unsigned wsrt_pool_busy_workers(wsrt_pool *p)
{
    unsigned busy = 0;
    if (!p || !run_enter(p))
        return 0;
    for (unsigned i = 0; i < p->jobs; i++)
        busy += atomic_load_explicit(&p->workers[i]->busy, memory_order_relaxed) != 0;
    run_leave(p);
    return busy;
}

uint64_t wsrt_pool_progress(wsrt_pool *p)
{
    uint64_t sum = 0;
    if (!p || !run_enter(p))
        return 0;
    for (unsigned i = 0; i < p->jobs; i++)
        sum += atomic_load_explicit(&p->workers[i]->progress, memory_order_relaxed);
    run_leave(p);
    return sum;
}

int wsrt_pool_stopping(wsrt_pool *p)
{
    if (!p || !run_enter(p))
        return 0;
    /* relaxed: a flag only; run_enter keeps the run's fields valid. */
    int stopping = atomic_load_explicit(&p->stopping, memory_order_relaxed) != 0;
    run_leave(p);
    return stopping;
}

/* Clear what the last run left in the object's run part. */
static void reset_run_state(wsrt_pool *p, ws_run *run)
{
    p->run = run;
    p->jobs = run->jobs ? run->jobs : 1;
    p->hooked = run->hooks.skip_bits != NULL || run->hooks.index_done != NULL;
    p->workers = NULL;
    /* relaxed: no thread of this pool runs, and readers look only after
     * `running` is published (seq_cst, which orders these before it). */
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    atomic_store_explicit(&p->stopping, 0, memory_order_relaxed);
    atomic_store_explicit(&p->cut_short, 0, memory_order_relaxed);
    atomic_store_explicit(&p->sleepers, 0, memory_order_relaxed);
    p->failed = 0;
    p->interrupted = 0;
    p->worker_init_failed = 0;
    p->start_failed = 0;
    p->start_errno = 0;
    p->n_kept = 0;
}

int wsrt_pool_run(wsrt_pool *p, ws_run *run, wsrt_pool_result *result)
{
    /* One run at a time per pool (pool.h). */
    WSRT_ASSERT(!atomic_load_explicit(&p->running, memory_order_relaxed));
    reap_retired(p); /* the threads of an earlier run */
    memset(result, 0, sizeof *result);
    reset_run_state(p, run);
    int rc = -1;
    p->workers = calloc(p->jobs, sizeof *p->workers);
    if (!p->workers) {
        wsrt_err("out of memory creating %u workers", p->jobs);
        goto out;
    }
    for (unsigned i = 0; i < p->jobs; i++)
        if (!(p->workers[i] = worker_new(p, i))) {
            /* Its frame stack could not be mapped: the same shortage as a
             * thread that cannot start, worded once by the caller. */
            result->start_failed = 1;
            result->start_errno = errno;
            result->jobs = p->jobs;
            result->reserved_per_worker = wsrt_pool_reserved_per_worker(p);
            goto out;
        }

    wsrt_placement_read(&p->place, p->jobs);
    /* Threads wsrt_pool_create started beyond this run's workers end now. */
    wsrt_standby_drop_from(&p->standby, p->jobs);
    /* seq_cst: the Dekker pair with wsrt_pool_request_stop (see there); it
     * also releases the workers' fields above to a signal handler or
     * progress reader that finds the run published. */
    WSRT_HOOK("pool_run.before_publish");
    atomic_store(&p->running, 1);
    /* A stop that came before the run was published applies to this run;
     * one that comes from now on finds the run.  seq_cst: see above. */
    if (atomic_exchange(&p->stop_pending, 0))
        wsrt_pool_request_stop(p);
    WSRT_HOOK("pool_run.stop_checked");
    uint64_t t0 = wsrt_now_ns();
    for (unsigned i = 0; i < p->jobs; i++)
        p->workers[i]->t_origin = t0;
    /* Worker 0 runs here, on this thread, so the run begins at once and
     * ends without waiting for a thread to be scheduled or to exit (what
     * each costs: docs/design.md, "Costs measured on the project's VM").
     * Where it cannot (a sanitizer build; the pool's stack could not be
     * mapped), and for plugins built for ABI 1.0 and 1.1,
     * whose workers all ran on threads of their own (see wsrun.h), worker
     * 0 gets a thread.  Worker 0 starts worker 1, whose thread starts the
     * others (wsrt_worker_run, worker_thread), so if worker 0's thread
     * cannot start, no thread was started: the failure is in
     * start_failed, and there is nothing to wait for. */
    unsigned w0_on_caller = 1;
    if (!worker0_may_run_on_caller(&run->desc) ||
        wsrt_run_on_own_stack(&p->own_stack, worker0_on_caller, p->workers[0],
                              p->stack_bytes) != 0) {
        w0_on_caller = 0;
        wsrt_start_worker_thread(p, 0);
    }
    wait_for_worker_threads(p);
    /* every worker has left: nothing writes start_failed now */
    int all_started = !p->start_failed;
    result->wall_ns = wsrt_now_ns() - t0;
    /* seq_cst: see run_enter.  Readers are brief (a loop over the workers'
     * counters, or a signal handler), so waiting for them is a spin. */
    atomic_store(&p->running, 0);
    while (atomic_load(&p->readers) != 0)
        sched_yield();

    result->jobs = p->jobs;
    result->workers = calloc(p->jobs, sizeof *result->workers);
    for (unsigned i = 0; i < p->jobs; i++) {
        if (result->workers)
            result->workers[i] = p->workers[i]->stats;
        result->indices_done += p->workers[i]->stats.indices - p->workers[i]->stats.skipped;
    }
    if (run->trace && (result->traces = calloc(p->jobs, sizeof *result->traces)))
        for (unsigned i = 0; i < p->jobs; i++) {
            result->traces[i] = p->workers[i]->trace;
            p->workers[i]->trace.events = NULL;
        }
    for (unsigned k = 0; k < p->n_kept; k++)
        wsrt_err("%s: index %llu failed (worker %u): %s", run->desc.name,
               (unsigned long long)p->kept[k].index, p->kept[k].worker, p->kept[k].message);
    result->failed = p->failed;
    result->indices_done -= p->failed + p->interrupted;
    result->worker_init_failed = p->worker_init_failed;
    /* Stopped with indices not run: a range cut short, or (runs fed by
     * next_block) blocks never asked for.  A stop after the last index
     * leaves a complete run. */
    result->stop_seen = atomic_load_explicit(&p->stopping, memory_order_relaxed) != 0;
    result->stopped_early = result->stop_seen &&
                            (atomic_load_explicit(&p->cut_short, memory_order_relaxed) ||
                             run->hooks.next_block != NULL);
    if (!all_started) {
        result->start_failed = 1;
        result->start_errno = p->start_errno;
        result->reserved_per_worker = wsrt_pool_reserved_per_worker(p);
        result->workers_started = w0_on_caller;
        for (unsigned i = 0; i < p->jobs; i++)
            result->workers_started += (unsigned)p->workers[i]->thread_started;
    }
    rc = all_started ? 0 : -1;
out:
    if (p->workers)
        retire_workers(p); /* every started thread has left the run */
    free(p->workers);
    p->workers = NULL;
    return rc;
}

size_t wsrt_pool_reserved_per_worker(const wsrt_pool *p)
{
    size_t page = 4096;
    return p->stack_bytes + page + FRAME_STACK_BYTES(p) + SPLIT_BYTES +
           (p->frame_frames + 1) * sizeof(uint64_t);
}

size_t wsrt_pool_stack_bytes_of_caller(void)
{
    wsrt_worker *w = wsrt_this_worker;
    return w ? w->pool->stack_bytes : 0;
}
