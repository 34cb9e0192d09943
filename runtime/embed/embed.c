/*
 * embed.c - the embedding API of include/wsrun_embed.h (libwsrun): a pool
 * object a program creates, and runs of a program-defined descriptor or of
 * a plain function on it, with init -> indices -> finish as wsrun does.
 *
 * Must never install a signal handler, never call exit(), never call
 * finish without a successful init nor skip it after one, and never let
 * two runs use one pool at a time.  The command layer (cli.c, crash.c,
 * the progress line) stays out of here: this file is library code.  An
 * isolating pool's worker processes come from runtime/isolate/ through
 * embed_isolate.c; here they are only wrapped, so the failures stay ours.
 */
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "embed_isolate.h"
#include "loader.h"
#include "options.h"
#include "pool.h"
#include "run.h"
#include "wsrun_embed.h"
#include "placement.h"

#define MAX_JOBS 4096
#define MAX_COUNT ((uint64_t)INT64_MAX)

struct ws_pool {
    wsrt_pool *core; /* the scheduler's pool (pool.h) */
    unsigned jobs;
    uint64_t seed;
    size_t stack_bytes; /* each worker's C stack; 0: the pool's default */
    int quiet;          /* the runs' ws_log lines left out (--quiet) */
    int keep_going;     /* a failed index does not stop the run */
    wsrt_embed_iso iso; /* isolation (embed_isolate.h); mode 0: none */
    /* 1 while a run uses the pool: the second of two concurrent calls
     * sees 1 and refuses instead of sharing the workers. */
    atomic_int busy;
    /* ws_pool_stop's side (any thread, a signal handler too): `active` is
     * 1 from a run's start to its end (init and finish included),
     * `stop_asked` says ws_pool_stop found it active, and `stoppers`
     * counts the ws_pool_stop calls in progress, so that a run's end can
     * wait for one that saw it active before it drops the pool's pending
     * stop (end_run). */
    atomic_int active;
    atomic_int stop_asked;
    atomic_uint stoppers;
    char error[WSRT_ERRBUF + 256];
};

/* One run: the ws_run the runtime sees comes first, so a worker finds the
 * rest from its ctx->run (embed_run_one). */
typedef struct wsrt_embed_run {
    ws_run run;
    int (*user_run_one)(void *state, uint64_t index, ws_ctx *ctx);
    /* An isolating run's block hook (isolate_proxy.c's), which
     * embed_run_block wraps as embed_run_one wraps run_one. */
    int (*iso_run_block)(void *arg, ws_ctx *ctx, uint64_t begin, uint64_t end, uint64_t *next);
    void *iso_block_arg;
    void *initial_state; /* run->state before init (ws_pool_for's, with no init) */
    pthread_mutex_t fail_lock;
    int any_failed; /* under fail_lock */
    uint64_t first_failed;
    char fail_msg[WSRT_ERRBUF];
} wsrt_embed_run;

/* ---------------------------------------------------- the runtime's pool
 * Every call into the scheduler's pool object (pool.h) is in these seven
 * functions.  Each ws_pool owns one wsrt_pool, so pools are independent. */

static int wsrt_embed_pool_open(ws_pool *pool)
{
    /* worker 0's stack, the threads; an isolating pool's threads start
     * with each run, after its template process exists (one worker
     * prepared: no thread started ahead). */
    wsrt_pool_options o = {.jobs = pool->iso.mode ? 1 : pool->jobs,
                           .stack_bytes = pool->stack_bytes};
    pool->core = wsrt_pool_create_with(&o);
    return pool->core ? 0 : -1;
}

static int wsrt_embed_pool_run(ws_pool *pool, ws_run *run, wsrt_pool_result *result)
{
    return wsrt_pool_run(pool->core, run, result);
}

/* After a run: join its threads, so none outlives the run's code. */
static void wsrt_embed_pool_reap(ws_pool *pool)
{
    wsrt_pool_reap(pool->core);
}

/* Ask the running run to stop; with no run in wsrt_pool_run, the next
 * wsrt_pool_run starts stopped (the request is pending; any thread,
 * async-signal-safe). */
static void wsrt_embed_pool_stop(ws_pool *pool)
{
    wsrt_pool_request_stop(pool->core);
}

/* Forget a pending stop, so that it never reaches the pool's next run. */
static void wsrt_embed_pool_drop_stop(ws_pool *pool)
{
    wsrt_pool_drop_stop(pool->core);
}

static void wsrt_embed_pool_close(ws_pool *pool)
{
    wsrt_pool_destroy(pool->core);
    pool->core = NULL;
}

/* On a worker thread of some run (inside a task or a callback): a pool
 * call there would run a pool inside a pool. */
static int wsrt_embed_in_task(void)
{
    unsigned worker;
    uint64_t index;
    return wsrt_pool_where(&worker, &index);
}

/* ------------------------------------------------------------- helpers */

static int refuse(ws_pool *pool, const char *fmt, ...) WS_PRINTF(2, 3);
static int refuse(ws_pool *pool, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pool->error, sizeof pool->error, fmt, ap);
    va_end(ap);
    return WS_POOL_REFUSED;
}

static const char *message_or_default(const ws_ctx *ctx)
{
    const char *msg = wsrt_ctx_error(ctx);
    return msg[0] ? msg : WSRT_NO_MESSAGE;
}

/* Index `index` failed (message in ctx): keep the lowest for ws_pool_error. */
static void note_failure(wsrt_embed_run *er, uint64_t index, const ws_ctx *ctx)
{
    pthread_mutex_lock(&er->fail_lock);
    if (!er->any_failed || index < er->first_failed) {
        er->any_failed = 1;
        er->first_failed = index;
        snprintf(er->fail_msg, sizeof er->fail_msg, "%s", message_or_default(ctx));
    }
    pthread_mutex_unlock(&er->fail_lock);
}

/* run_one as the runtime calls it: the program's (or, isolated, the proxy
 * that hands the index to a worker process), and on failure the lowest
 * failed index and its message kept for ws_pool_error. */
static int embed_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    /* ctx->run is the ws_run at the start of a wsrt_embed_run (the pool
     * hands every worker the run it was given); the object is not const. */
    wsrt_embed_run *er = (wsrt_embed_run *)(uintptr_t)ctx->run;
    int rc = er->user_run_one(state, index, ctx);
    if (rc != WS_OK)
        note_failure(er, index, ctx);
    return rc;
}

/* An isolating run's index loop hands runs of indices to the worker
 * processes (run.h, run_block): a failure is index *next's. */
static int embed_run_block(void *arg, ws_ctx *ctx, uint64_t begin, uint64_t end,
                           uint64_t *next)
{
    wsrt_embed_run *er = arg;
    int rc = er->iso_run_block(er->iso_block_arg, ctx, begin, end, next);
    if (rc != WS_OK)
        note_failure(er, *next, ctx);
    return rc;
}

/* After wsrt_embed_iso_begin installed its proxies: wrap them so the
 * parent keeps the failures (wsrt_embed_iso_end puts the plugin's back). */
static void wrap_isolated(wsrt_embed_run *er)
{
    ws_run *run = &er->run;
    er->user_run_one = run->desc.run_one;
    run->desc.run_one = embed_run_one;
    er->iso_run_block = run->hooks.run_block;
    er->iso_block_arg = run->hooks.block_run_arg;
    run->hooks.run_block = embed_run_block;
    run->hooks.block_run_arg = er;
}

static void fill_stats(ws_pool_stats *stats, const ws_run *run, const wsrt_pool_result *r)
{
    if (!stats || stats->struct_size < sizeof stats->struct_size)
        return;
    ws_pool_stats s;
    memset(&s, 0, sizeof s);
    s.struct_size = stats->struct_size;
    s.jobs = r->jobs ? r->jobs : run->jobs;
    s.count = run->count == WS_COUNT_UNSET ? 0 : run->count;
    s.done = r->indices_done;
    s.failed = r->failed;
    s.wall_ns = r->wall_ns;
    for (unsigned w = 0; r->workers && w < r->jobs; w++) {
        s.tasks += r->workers[w].tasks;
        s.steals += r->workers[w].steals;
        s.steal_tries += r->workers[w].steal_tries;
    }
    size_t n = stats->struct_size < sizeof s ? stats->struct_size : sizeof s;
    memcpy(stats, &s, n);
}

/* The indices of a run whose init succeeded; returns the run status finish
 * gets (0: every index succeeded), with the pool's message set otherwise. */
static int run_indices(ws_pool *pool, wsrt_embed_run *er, wsrt_pool_result *result)
{
    ws_run *run = &er->run;
    if (run->count == 0)
        return 0;
    /* relaxed: a flag only.  Stopped during init: no index starts.  A stop
     * this load misses is pending in the pool, whose run starts stopped. */
    if (atomic_load_explicit(&pool->stop_asked, memory_order_relaxed)) {
        snprintf(pool->error, sizeof pool->error,
                 "%s: stopped by ws_pool_stop: 0 of %llu indices done", run->desc.name,
                 (unsigned long long)run->count);
        return 1;
    }
    if (wsrt_embed_pool_run(pool, run, result) != 0) {
        /* The pool prints nothing for this: the message is ws_pool_error's
         * (WS_POOL_FAILED, docs/embedding.md). */
        char why[400] = "cannot start the worker threads";
        if (result->start_failed)
            wsrt_pool_start_error(result, why, sizeof why);
        snprintf(pool->error, sizeof pool->error, "%s: %s", run->desc.name, why);
        return 1;
    }
    if (er->any_failed) {
        snprintf(pool->error, sizeof pool->error,
                 "%s: index %llu failed: %s (%llu of %llu indices failed)", run->desc.name,
                 (unsigned long long)er->first_failed, er->fail_msg,
                 (unsigned long long)result->failed, (unsigned long long)run->count);
        return 1;
    }
    /* relaxed: a flag only; the pool's own stop_seen covers a stop whose
     * flag this load might miss. */
    if (!result->worker_init_failed && result->indices_done != run->count &&
        (result->stop_seen || atomic_load_explicit(&pool->stop_asked, memory_order_relaxed))) {
        snprintf(pool->error, sizeof pool->error,
                 "%s: stopped by ws_pool_stop: %llu of %llu indices done", run->desc.name,
                 (unsigned long long)result->indices_done, (unsigned long long)run->count);
        return 1;
    }
    if (result->worker_init_failed || result->indices_done != run->count) {
        snprintf(pool->error, sizeof pool->error, "%s: %s: %llu of %llu indices done",
                 run->desc.name,
                 result->worker_init_failed ? "worker_init failed" : "the run stopped early",
                 (unsigned long long)result->indices_done, (unsigned long long)run->count);
        return 1;
    }
    return 0;
}

/* init, indices, finish on a run whose descriptor and options are set. */
static int run_checked(ws_pool *pool, wsrt_embed_run *er, ws_pool_stats *stats)
{
    ws_run *run = &er->run;
    const char *name = run->desc.name;
    wsrt_ctx_base main_ctx;
    wsrt_ctx_base_init(&main_ctx, run, UINT32_MAX);
    ws_ctx *ctx = &main_ctx.ctx;
    wsrt_pool_result result;
    memset(&result, 0, sizeof result);

    run->state = er->initial_state;
    if (wsrt_embed_iso_prepare(&pool->iso, run, pool->error, sizeof pool->error) != 0)
        return WS_POOL_REFUSED; /* refused before init: stats untouched (the header) */
    if (run->desc.init && run->desc.init(ctx, &run->state) != WS_OK) {
        wsrt_embed_iso_after_finish(&pool->iso);
        fill_stats(stats, run, &result);
        return refuse(pool, "%s: init failed: %s", name, message_or_default(ctx));
    }
    int status = WS_POOL_OK, run_status = 1;
    wsrt_isolation *iso = NULL;
    if (run->count == WS_COUNT_UNSET) {
        refuse(pool, "%s: the count is required (give one, or set it in init)", name);
        status = WS_POOL_REFUSED;
    } else if (wsrt_embed_iso_begin(&pool->iso, &iso, run, pool->error,
                                    sizeof pool->error) != 0) {
        status = WS_POOL_REFUSED; /* other threads: no index ran; finish follows */
    } else {
        if (iso) {
            wrap_isolated(er);
        } else {
            er->user_run_one = run->desc.run_one;
            run->desc.run_one = embed_run_one;
        }
        run_status = run_indices(pool, er, &result);
        run->desc.run_one = er->user_run_one;
        wsrt_embed_pool_reap(pool);
        char why[WSRT_ERRBUF];
        if (wsrt_embed_iso_end(iso, run, why, sizeof why) != 0 && run_status == 0) {
            snprintf(pool->error, sizeof pool->error, "%s", why);
            run_status = 1;
        }
        if (run_status != 0)
            status = WS_POOL_FAILED;
    }
    wsrt_ctx_clear_error(ctx);
    if (run->desc.finish && run->desc.finish(run->state, run_status, ctx) != WS_OK) {
        if (status == WS_POOL_OK) {
            snprintf(pool->error, sizeof pool->error, "%s: finish failed: %s", name,
                     message_or_default(ctx));
            status = WS_POOL_FAILED;
        }
    }
    wsrt_embed_iso_after_finish(&pool->iso); /* ws_shared_alloc's memory */
    fill_stats(stats, run, &result);
    free(result.workers);
    return status;
}

static void end_run(ws_pool *pool)
{
    /* seq_cst (this store, the load of stoppers, and ws_pool_stop's
     * increment of stoppers and load of active): Dekker, as the pool's
     * run_enter.  Either a ws_pool_stop finds the run inactive and does
     * nothing, or we see it counted and wait for it to finish (it is
     * brief: flags and the pool's stop), so that a stop it left pending
     * in the pool is dropped here and never stops the next run.  Only on
     * the run's own thread: a signal handler that interrupts it ends
     * before this loop goes on. */
    atomic_store(&pool->active, 0);
    while (atomic_load(&pool->stoppers) != 0)
        sched_yield();
    wsrt_embed_pool_drop_stop(pool);
    /* release: see begin_run. */
    atomic_store_explicit(&pool->busy, 0, memory_order_release);
}

/* The checks every run starts with; takes the pool (busy) when it may run. */
static int begin_run(ws_pool *pool)
{
    /* acq_rel: taking the pool acquires what the previous run left in it
     * (its error text, the runtime's state), and the release in end_run
     * publishes ours to the next taker. */
    if (atomic_exchange_explicit(&pool->busy, 1, memory_order_acq_rel) != 0) {
        /* No write to pool->error: the run in progress owns it. */
        return WS_POOL_REFUSED;
    }
    if (wsrt_embed_in_task()) {
        refuse(pool, "ws_pool_* called from inside a task or callback of a run");
        atomic_store_explicit(&pool->busy, 0, memory_order_release); /* see above */
        return WS_POOL_REFUSED;
    }
    pool->error[0] = '\0';
    /* relaxed: no ws_pool_stop looks at it while active is 0, and the
     * seq_cst store of active below orders it before any that does. */
    atomic_store_explicit(&pool->stop_asked, 0, memory_order_relaxed);
    atomic_store(&pool->active, 1); /* seq_cst: see end_run */
    return WS_POOL_OK;
}

static void embed_run_setup(wsrt_embed_run *er, const ws_pool *pool)
{
    memset(er, 0, sizeof *er);
    pthread_mutex_init(&er->fail_lock, NULL);
    er->run.count = WS_COUNT_UNSET;
    er->run.seed = pool->seed;
    er->run.jobs = pool->jobs;
    er->run.quiet = pool->quiet;
    er->run.policy.keep_going = pool->keep_going;
}

static void embed_run_free(wsrt_embed_run *er)
{
    wsrt_opts_free(&er->run);
    pthread_mutex_destroy(&er->fail_lock);
}

static void set_count(ws_run *run, uint64_t count)
{
    run->count = count;
    run->count_given = count != WS_COUNT_UNSET;
}

/* ------------------------------------------------------------- the API */

/* The ws_pool_options fields of the first header that had the struct. */
#define POOL_OPTIONS_V1_SIZE (offsetof(ws_pool_options, stack_bytes) + sizeof(uint64_t))

/* A caller's options read into a full current struct: the first
 * min(struct_size, ours) bytes.  A newer caller's struct may be longer;
 * its fields this library does not know must be 0 (unset), or the call is
 * refused: ignoring an option asked for would pretend to honour it. */
static int read_pool_options(ws_pool_options *o, const ws_pool_options *given)
{
    if (!given || given->struct_size < POOL_OPTIONS_V1_SIZE)
        return EINVAL;
    const unsigned char *bytes = (const unsigned char *)given;
    for (size_t k = sizeof *o; k < given->struct_size; k++)
        if (bytes[k] != 0)
            return E2BIG;
    memset(o, 0, sizeof *o);
    memcpy(o, given, given->struct_size < sizeof *o ? given->struct_size : sizeof *o);
    if (o->jobs > MAX_JOBS)
        return EINVAL;
    if (o->stack_bytes &&
        (o->stack_bytes < WSRT_WORKER_STACK_MIN || o->stack_bytes > WSRT_WORKER_STACK_MAX))
        return EINVAL;
    if (o->quiet > 1 || o->reserved != 0 || o->keep_going > 1)
        return EINVAL;
    return wsrt_embed_iso_check(o->isolate, o->timeout_ms, o->worker_memory_bytes);
}

ws_pool *ws_pool_create_with(const ws_pool_options *options)
{
    ws_pool_options o;
    int bad = read_pool_options(&o, options);
    if (bad) {
        errno = bad;
        return NULL;
    }
    ws_pool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    pool->jobs = o.jobs ? o.jobs : wsrt_cpus_allowed(MAX_JOBS);
    pool->seed = o.seed;
    pool->stack_bytes = (size_t)o.stack_bytes;
    pool->quiet = (int)o.quiet;
    pool->keep_going = (int)o.keep_going;
    pool->iso.mode = (int)o.isolate;
    pool->iso.timeout_ms = o.timeout_ms;
    pool->iso.worker_memory = o.worker_memory_bytes;
    pool->iso.stack_bytes = (size_t)o.stack_bytes;
    atomic_init(&pool->busy, 0);
    atomic_init(&pool->active, 0);
    atomic_init(&pool->stop_asked, 0);
    atomic_init(&pool->stoppers, 0);
    if (wsrt_embed_pool_open(pool) != 0) {
        free(pool);
        errno = ENOMEM;
        return NULL;
    }
    return pool;
}

ws_pool *ws_pool_create(unsigned jobs, uint64_t seed)
{
    ws_pool_options o = {.struct_size = sizeof o, .jobs = jobs, .seed = seed};
    return ws_pool_create_with(&o);
}

int ws_pool_run_plugin(ws_pool *pool, const ws_plugin *plugin, uint64_t count,
                       const char *const *options, size_t n_options, ws_pool_stats *stats)
{
    if (!pool)
        return WS_POOL_REFUSED;
    int rc = begin_run(pool);
    if (rc != WS_POOL_OK)
        return rc;
    wsrt_embed_run er;
    embed_run_setup(&er, pool);
    char err[2048];
    if (count != WS_COUNT_UNSET && count > MAX_COUNT) {
        rc = refuse(pool, "count %llu is above the maximum 2^63-1", (unsigned long long)count);
    } else if (n_options && !options) {
        rc = refuse(pool, "%zu options given but no array of them", n_options);
    } else if (wsrt_loader_adopt(&er.run, plugin, err, sizeof err) != 0 ||
               wsrt_opts_setup(&er.run, err, sizeof err) != 0) {
        rc = refuse(pool, "%s", err);
    } else {
        for (size_t k = 0; k < n_options && rc == WS_POOL_OK; k++)
            if (!options[k])
                rc = refuse(pool, "option %zu is NULL", k);
            else if (wsrt_opts_apply(&er.run, options[k], err, sizeof err) != 0)
                rc = refuse(pool, "%s", err);
        if (rc == WS_POOL_OK) {
            set_count(&er.run, count);
            rc = run_checked(pool, &er, stats);
        }
    }
    embed_run_free(&er);
    end_run(pool);
    return rc;
}

/* ws_pool_for's function as a descriptor: the state is the call's. */
typedef struct for_state {
    ws_pool_fn fn;
    void *arg;
} for_state;

static int for_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    const for_state *f = state;
    return f->fn(f->arg, index, ctx) == 0 ? WS_OK : WS_ERR;
}

int ws_pool_for(ws_pool *pool, uint64_t count, ws_pool_fn fn, void *arg, ws_pool_stats *stats)
{
    if (!pool)
        return WS_POOL_REFUSED;
    int rc = begin_run(pool);
    if (rc != WS_POOL_OK)
        return rc;
    if (!fn || count > MAX_COUNT || pool->iso.mode) {
        rc = pool->iso.mode
                 ? refuse(pool, "ws_pool_for: the pool isolates (ws_pool_options.isolate): what "
                          "the function writes in this process's memory would be lost in a "
                          "worker process; use a pool without isolate")
             : fn ? refuse(pool, "ws_pool_for: count %llu is above the maximum 2^63-1",
                           (unsigned long long)count)
                  : refuse(pool, "ws_pool_for: no function (NULL)");
        end_run(pool);
        return rc;
    }
    static const ws_plugin desc = {WS_PLUGIN_HEADER, .name = "ws_pool_for",
                                   .version = WS_VERSION,
                                   .description = "ws_pool_for's function",
                                   .run_one = for_run_one};
    wsrt_embed_run er;
    embed_run_setup(&er, pool);
    for_state f = {fn, arg};
    er.initial_state = &f; /* no init: the state is the call's own */
    char err[256];
    if (wsrt_loader_adopt(&er.run, &desc, err, sizeof err) != 0) {
        rc = refuse(pool, "%s", err); /* our own descriptor: cannot happen */
    } else {
        set_count(&er.run, count);
        rc = run_checked(pool, &er, stats);
    }
    embed_run_free(&er);
    end_run(pool);
    return rc;
}

void ws_pool_stop(ws_pool *pool)
{
    if (!pool)
        return;
    /* seq_cst (both): the Dekker pair with end_run (see there). */
    atomic_fetch_add(&pool->stoppers, 1);
    if (atomic_load(&pool->active)) {
        /* relaxed: a flag only, read by the run's thread for its message
         * and before its indices start (run_indices). */
        atomic_store_explicit(&pool->stop_asked, 1, memory_order_relaxed);
        wsrt_embed_pool_stop(pool);
    }
    atomic_fetch_sub(&pool->stoppers, 1); /* seq_cst: see end_run */
}

const char *ws_pool_error(const ws_pool *pool)
{
    return pool ? pool->error : "";
}

void ws_pool_destroy(ws_pool *pool)
{
    if (!pool)
        return;
    wsrt_embed_pool_close(pool);
    free(pool);
}
