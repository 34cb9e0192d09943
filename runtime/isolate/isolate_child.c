/*
 * isolate_child.c - a worker process of isolation (isolate.h), forked by
 * the template for one worker: it runs the plugin's worker_init, the runs
 * of indices its slot hands it and worker_fini on a one-worker pool of its
 * own (so fork-join inside an index runs on that one worker, with
 * --stack's stack), answers the parent through the slot
 * (isolate_internal.h), and stops when the parent's run stops.
 *
 * Must never outlive the template (PR_SET_PDEATHSIG, checked against the
 * getppid race), never touch the terminal's Ctrl-C (ignored: the parent
 * stops the children), never write a slot word it does not own, and never
 * exit while the parent may still hand it a run (it waits for QUIT).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "isolate_internal.h"
#include "outfile.h"
#include "pool.h"

/* The child's view (one worker, so plain statics: a child is a process). */
static wsrt_isolation *c_iso;
static wsrt_iso_slot *c_slot;
static unsigned c_worker;
static int c_started, c_init_failed;
static int c_in_run; /* child_next_block handed the pool a run not yet posted */
/* Read by the signal handlers, so atomic; NULL until the pool exists. */
static _Atomic(wsrt_pool *) c_pool;

/* The per-index path's constants, set once by wsrt_iso_child_main, so an
 * index costs a store of `current`, the ctx swap and the call (issue 24's
 * goal of at most 2x threads for cheap indices: 68 instructions an index
 * before, with every field reached through c_iso and c_slot). */
static int (*c_run_one)(void *state, uint64_t index, ws_ctx *ctx);
static void *c_state;
static const ws_run *c_parent_run;
static _Atomic uint64_t *c_current;
static _Atomic uint64_t *c_end; /* the run's end, lowered by the parent */
static int c_timed; /* --timeout: every call stamps started_ns */
static int c_slow;  /* c_run_over || c_timed: one test on the plain path */

/* The plugin's ws_on_interrupt function, once in this child: from the
 * interrupt's signal handler, or from stop_if_asked in a child that
 * learned of the interrupt from its slot. */
static _Atomic int c_interrupted;

static void interrupt_once(void)
{
    /* relaxed: it only makes the call happen once; the function and its
     * argument were set in init, before the template forked this child. */
    if (!atomic_exchange_explicit(&c_interrupted, 1, memory_order_relaxed))
        wsrt_call_interrupt_hook();
}

/* The parent's run is stopping (wsrt_isolate_request_stop set `stop`):
 * so is this child's, and ws_stopping says so in the plugin's calls; for
 * an interrupt the plugin's interrupt function runs too (before
 * worker_init, for a child forked after it: the python plugin then raises
 * KeyboardInterrupt in its -o init function). */
static void stop_if_asked(void)
{
    /* seq_cst: the Dekker pair with the parent's read-modify-write of
     * `stop` (see wsrt_isolate_request_stop). */
    uint32_t bits = atomic_load(&c_slot->stop);
    if (bits)
        wsrt_pool_request_stop(atomic_load(&c_pool));
    if (bits & WSRT_ISO_INTERRUPT)
        interrupt_once();
}

/* --timeout covers the plugin's worker_init and worker_fini too: the
 * parent kills a child whose call began longer ago than that. */
static void call_started(void)
{
    if (c_iso->opts.timeout_ms) /* relaxed: a clock reading for the parent's deadline */
        atomic_store_explicit(&c_slot->started_ns, wsrt_iso_now_ns(), memory_order_relaxed);
}

static void call_ended(void)
{
    if (c_iso->opts.timeout_ms) /* relaxed: as in call_started */
        atomic_store_explicit(&c_slot->started_ns, 0, memory_order_relaxed);
}

/* The plugin sees the parent's run (its jobs, options) and its worker id,
 * not the child's one-worker pool's: swapped in around each call. */
typedef struct saved_ctx {
    uint32_t worker_id;
    const ws_run *run;
} saved_ctx;

static saved_ctx swap_in(ws_ctx *ctx)
{
    saved_ctx s = {ctx->worker_id, ctx->run};
    ctx->worker_id = c_worker;
    ctx->run = c_iso->run;
    return s;
}

static void swap_out(ws_ctx *ctx, saved_ctx s)
{
    ctx->worker_id = s.worker_id;
    ctx->run = s.run;
}

static void copy_error(ws_ctx *ctx)
{
    snprintf(c_slot->err, sizeof c_slot->err, "%s", wsrt_ctx_error(ctx));
    wsrt_ctx_clear_error(ctx);
}

/* --worker-memory: RLIMIT_DATA counts the heap and private writable
 * mappings (reserved, not touched); the child's own stacks are mapped
 * already, so the limit is what it has now plus the size asked for. */
static void limit_memory(void)
{
    uint64_t extra = c_iso->opts.worker_memory;
    if (!extra)
        return;
    uint64_t have = 0;
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmData: %llu kB", (unsigned long long *)&have) == 1)
            break;
    if (f)
        fclose(f);
    struct rlimit rl = {(rlim_t)(have * 1024 + extra), (rlim_t)(have * 1024 + extra)};
    setrlimit(RLIMIT_DATA, &rl);
}

static int child_worker_init(void *state, ws_ctx *ctx)
{
    (void)state;
    /* For good, not swapped per index: the plugin's calls (ws_opt_*,
     * ws_run_count, ...) read ctx->run and want the parent's run; the
     * pool's own code reads w->pool->run, never ctx->run. */
    ctx->run = c_parent_run;
    limit_memory();
    int rc = WS_OK;
    if (c_iso->desc.worker_init) {
        saved_ctx s = swap_in(ctx);
        call_started();
        rc = c_iso->desc.worker_init(c_iso->state, ctx);
        call_ended();
        swap_out(ctx, s);
    }
    if (rc != WS_OK) {
        copy_error(ctx);
        c_slot->init_failed = 1;
        c_init_failed = 1;
    }
    return WS_OK; /* the parent reports it; this pool must not */
}

static int c_run_over; /* the current run failed or was cut short: skip the rest */
static int c_next_set; /* the run's `next` is posted already (failed, taken back) */

/* Index `index` may run: the child's half of the Dekker pair with the
 * parent's take_back_tail (isolate_proxy.c, where the argument is):
 * `current` stored, then `end` loaded, both seq_cst.  `current` is also
 * read by the parent after the child ended (the template's release of
 * DEAD orders it), or when this child posts its run's end (this thread). */
static inline int claim(uint64_t index)
{
    /* Both words through the one slot pointer: an instruction an index
     * less than a pointer of its own for each (callgrind, empty). */
    wsrt_iso_slot *slot = c_slot;
    atomic_store(&slot->current, index); /* seq_cst: the Dekker pair */
    return WS_LIKELY(index < atomic_load(&slot->end)); /* seq_cst: the Dekker pair */
}

/* Index `index` was taken back for a thief: the run ends before it, and
 * the rest of the run is skipped (each as a failed run's). */
__attribute__((noinline, cold)) static int run_taken_back(uint64_t index)
{
    c_slot->next = index;
    c_next_set = 1;
    c_run_over = 1;
    c_slow = 1;
    return WS_OK;
}

/* Index `index` failed: the run posts it as its end (next = index). */
__attribute__((noinline, cold)) static int run_failed(int rc, uint64_t index, ws_ctx *ctx)
{
    c_slot->result = rc;
    c_slot->next = index;
    c_next_set = 1;
    copy_error(ctx);
    c_run_over = 1; /* the parent retries or reports it, then goes on */
    c_slow = 1;
    return WS_OK;
}

__attribute__((noinline)) static int child_run_one_timed(uint64_t index, ws_ctx *ctx)
{
    call_started();
    saved_ctx s = swap_in(ctx);
    int rc = c_run_one(c_state, index, ctx);
    swap_out(ctx, s);
    call_ended();
    return rc;
}

/* The path of an index that is not plain: the run failed already (skip
 * the rest), or --timeout stamps the call. */
__attribute__((noinline)) static int child_run_one_slow(uint64_t index, ws_ctx *ctx)
{
    if (c_run_over)
        return WS_OK;
    if (!claim(index))
        return run_taken_back(index);
    int rc = child_run_one_timed(index, ctx);
    return rc == WS_OK ? WS_OK : run_failed(rc, index, ctx);
}

static int child_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    (void)state;
    if (WS_UNLIKELY(c_slow)) /* c_run_over || c_timed */
        return child_run_one_slow(index, ctx);
    if (WS_UNLIKELY(!claim(index)))
        return run_taken_back(index);
    /* swap_in / swap_out with the value it would save (this pool's one
     * worker is 0; ctx->run is the parent's since worker_init). */
    ctx->worker_id = c_worker;
    int rc = c_run_one(c_state, index, ctx);
    ctx->worker_id = 0;
    if (WS_UNLIKELY(rc != WS_OK))
        return run_failed(rc, index, ctx);
    return WS_OK; /* counted by the parent's pool, not this one */
}

/* Before posting IDLE after a run handed out: its end.  A failure or a
 * take-back set `next` itself; otherwise every index up to `current` succeeded (the
 * pool runs them in order and stops only between indices). */
static void end_posted_run(void)
{
    if (!c_in_run)
        return;
    c_in_run = 0;
    if (c_next_set) /* a failure or a take-back set `next` itself */
        return;
    /* relaxed: this thread's own store. */
    uint64_t cur = atomic_load_explicit(c_current, memory_order_relaxed);
    c_slot->next = cur == UINT64_MAX ? c_slot->begin : cur + 1;
}

static void child_worker_fini(void *state, ws_ctx *ctx)
{
    (void)state;
    if (c_init_failed || !c_iso->desc.worker_fini)
        return;
    saved_ctx s = swap_in(ctx);
    call_started();
    c_iso->desc.worker_fini(c_iso->state, ctx);
    call_ended();
    swap_out(ctx, s);
}

/* The child's pool asks for its next block: post the last index's result,
 * then wait for the parent's next index (a block of one) or QUIT. */
static int child_next_block(void *arg, uint64_t *begin, uint64_t *end)
{
    (void)arg;
    if (!c_started) {
        c_started = 1;
        if (c_init_failed)
            return 0;
    }
    end_posted_run();
    /* release: result, next, err and temps before the parent sees IDLE. */
    atomic_store_explicit(&c_slot->state, SLOT_IDLE, memory_order_release);
    wsrt_iso_wake(&c_slot->state);
    wsrt_iso_bump(c_slot); /* a wait for the run (wsrt_iso_wait_run) */
    for (;;) {
        /* acquire: pairs with the parent's release CAS (RUN: its index). */
        uint32_t s = atomic_load_explicit(&c_slot->state, memory_order_acquire);
        if (s == SLOT_RUN) {
            c_slot->result = WS_OK;
            c_slot->err[0] = '\0';
            c_run_over = 0;
            c_next_set = 0;
            c_slow = c_timed;
            *begin = c_slot->begin;
            /* relaxed: the acquire above ordered the parent's store; a
             * lower end stored since is read by claim at each index. */
            *end = atomic_load_explicit(c_end, memory_order_relaxed);
            /* relaxed: as in child_run_one; none of this run ran yet. */
            atomic_store_explicit(c_current, UINT64_MAX, memory_order_relaxed);
            c_in_run = 1;
            stop_if_asked(); /* a stop that found this slot IDLE */
            return 1;
        }
        if (s != SLOT_IDLE)
            return 0; /* QUIT */
        wsrt_iso_wait(&c_slot->state, SLOT_IDLE, 0);
    }
}

/* WSRT_ISO_SIG_STOP: the parent's run is stopping (a failure, a failed
 * worker_init); so is this child's (ws_stopping), nothing more: a failure
 * elsewhere must not cut short this child's running index. */
static void on_stop_request(int sig)
{
    (void)sig;
    wsrt_pool_request_stop(atomic_load(&c_pool)); /* NULL: stop_if_asked, later */
}

/* WSRT_ISO_SIG_INTERRUPT: wsrun was interrupted (Ctrl-C, SIGTERM): stop,
 * and call the plugin's ws_on_interrupt function, as wsrun's own handler
 * does in its process (crash.c).  The signal says the kind, so this reads
 * no slot word. */
static void on_interrupt_request(int sig)
{
    (void)sig;
    wsrt_pool_request_stop(atomic_load(&c_pool));
    interrupt_once();
}

/* After this child's pool run ended (QUIT, a stop, or worker_init
 * failed): answer the parent until it says QUIT, so the parent never
 * mistakes a stopped child for a dead one.  The run in progress when a
 * stop cut it short is posted as far as it got; a run asked for after
 * the end is answered with none of it done (next = begin: the parent's
 * index loop takes that for the stop); a child stopped during worker_init
 * says it is ready.  Returns on QUIT, or at once after a failed
 * worker_init (the parent reads that from the slot once it is gone). */
static void answer_until_quit(void)
{
    for (;;) {
        /* acquire: pairs with the parent's CAS to RUN (begin, end). */
        uint32_t s = atomic_load_explicit(&c_slot->state, memory_order_acquire);
        if (s == SLOT_IDLE) {
            wsrt_iso_wait(&c_slot->state, SLOT_IDLE, 0);
            continue;
        }
        if (s == SLOT_STARTING && c_init_failed)
            return;
        if (s != SLOT_RUN && s != SLOT_STARTING)
            return; /* QUIT */
        if (s == SLOT_RUN && !c_in_run) {
            c_slot->result = WS_OK;
            c_slot->err[0] = '\0';
            c_slot->next = c_slot->begin;
        }
        end_posted_run();
        /* release: result and next before the parent sees IDLE. */
        atomic_store_explicit(&c_slot->state, SLOT_IDLE, memory_order_release);
        wsrt_iso_wake(&c_slot->state);
        wsrt_iso_bump(c_slot); /* as in child_next_block */
    }
}

/* The child's named temporaries in its slot (a mirror of wsrun's crash.c
 * table, or the only record in libwsrun): the parent removes them if this
 * child is killed (a SIGKILL runs no handler). */
static void mirror_temp(const char *path, int add)
{
    size_t len = strlen(path);
    for (int k = 0; k < SLOT_TEMPS; k++) {
        char *t = c_slot->temps[k];
        /* The first byte last and atomically: wsrun reads it first
         * (isolate.c, temp_name); relaxed, for wsrun reads the entry only
         * once this process is gone. */
        if (add && !t[0] && len < SLOT_TEMP_BYTES) {
            memcpy(t + 1, path + 1, len);
            __atomic_store_n(&t[0], path[0], __ATOMIC_RELAXED);
            return;
        }
        if (!add && t[0] && strcmp(t, path) == 0) {
            __atomic_store_n(&t[0], 0, __ATOMIC_RELAXED);
            return;
        }
    }
}

/* With no table of the caller's (libwsrun): the slot is the only record. */
static void mirror_track(const char *path)
{
    mirror_temp(path, 1);
}

static void mirror_untrack(const char *path)
{
    if (path[0]) /* an emptied name was never tracked (outfile.h) */
        mirror_temp(path, 0);
}

static const wsrt_temp_registry mirror_registry = {mirror_track, mirror_untrack};

void wsrt_iso_child_main(wsrt_isolation *iso, unsigned w, pid_t template_pid)
{
    /* A child of the template dies with it (and the template with wsrun). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != template_pid)
        _exit(127);
    c_iso = iso;
    c_slot = &iso->slots[w];
    c_worker = w;
    if (iso->opts.child_temp_mirror)
        iso->opts.child_temp_mirror(mirror_temp); /* wsrun's crash.c table */
    else
        wsrt_outfile_set_temp_registry(&mirror_registry);
    signal(SIGINT, SIG_IGN);  /* Ctrl-C: the parent stops this child */
    signal(SIGTERM, SIG_IGN); /* likewise */
    signal(SIGCHLD, SIG_DFL);
    /* The stop keeps SA_RESTART (a blocked call goes on: a failure
     * elsewhere is no reason for EINTR here); the interrupt has none, so a
     * call blocked in run_one returns EINTR, as in wsrun's threads on
     * SIGINT (crash.c).  Each masks the other: never nested. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, WSRT_ISO_SIG_STOP);
    sigaddset(&sa.sa_mask, WSRT_ISO_SIG_INTERRUPT);
    sa.sa_handler = on_stop_request;
    sa.sa_flags = SA_RESTART;
    sigaction(WSRT_ISO_SIG_STOP, &sa, NULL);
    sa.sa_handler = on_interrupt_request;
    sa.sa_flags = 0;
    sigaction(WSRT_ISO_SIG_INTERRUPT, &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* After the handlers: wsrun signals a published pid, and either
     * signal's default action would end this process.  seq_cst: see
     * wsrt_isolate_request_stop (this pid, then `stop`, read by
     * stop_if_asked below). */
    atomic_store(&c_slot->pid, (int32_t)getpid());

    ws_run run = *iso->run;
    run.desc = iso->desc;
    run.desc.worker_init = child_worker_init;
    run.desc.run_one = child_run_one;
    run.desc.worker_fini = child_worker_fini;
    run.state = NULL;
    run.jobs = 1;
    run.trace = 0;
    run.stats = 0;
    run.ranged = 0;
    memset(&run.hooks, 0, sizeof run.hooks);
    run.hooks.next_block = child_next_block;
    run.policy.keep_going = 1;
    run.policy.retries = 0;
    c_run_one = iso->desc.run_one;
    c_state = iso->state;
    c_parent_run = iso->run;
    c_current = &c_slot->current;
    c_end = &c_slot->end;
    c_timed = iso->opts.timeout_ms != 0;
    c_slow = c_timed;
    /* The command's per-thread crash set-up, as session.c's pool has
     * (none in libwsrun). */
    wsrt_pool_options po = {.jobs = 1, .thread_start = iso->opts.child_thread_start,
                            .stack_bytes = iso->opts.stack_bytes};
    wsrt_pool *pool = wsrt_pool_create_with(&po);
    atomic_store(&c_pool, pool);
    if (!pool) {
        snprintf(c_slot->err, sizeof c_slot->err, "cannot set up the worker process: %s",
                 strerror(errno));
        c_slot->init_failed = 1;
        _exit(0);
    }
    wsrt_pool_result result;
    memset(&result, 0, sizeof result);
    stop_if_asked(); /* a stop before the pool existed: its run starts stopped */
    int rc = wsrt_pool_run(pool, &run, &result);
    if (rc != 0 && !c_started) {
        snprintf(c_slot->err, sizeof c_slot->err, "the worker process could not run its pool");
        c_slot->init_failed = 1;
        c_init_failed = 1;
    }
    fflush(NULL);
    answer_until_quit();
    /* Join the pool's threads (a sanitizer build runs worker 0 on one,
     * and says so at exit if it was left unjoined). */
    atomic_store(&c_pool, NULL);
    wsrt_pool_destroy(pool);
    _exit(0);
}
