/*
 * isofixture.h - the code of the isocrash and isodefault test fixtures
 * (isocrash.c, isodefault.c: each defines ISO_NAME and ISO_FLAGS, then
 * includes this), for --isolate (issue 24): run_one misbehaves
 * on purpose at index `at`, and every run of every index is counted in
 * ws_shared_alloc memory, so finish can print how often each index ran
 * ("runs: ...") whatever process ran it.  Options:
 *   how=ok|segv|abort|exit|_exit|stack|loop|alloc|kill|wait|hold|fail
 *        what index `at` does: crash with SIGSEGV, abort(), exit(3),
 *        _exit(5), overflow its stack, loop for ever, allocate without
 *        bound, SIGKILL itself, write its pid to `pidfile` and wait for
 *        ever (a test kills it from outside), write its pid and wait until
 *        the run stops (ws_stopping: a test interrupts wsrun), or ws_fail;
 *        wait and hold do nothing once `pidfile` exists (a resumed run)
 *   at=I          the index (default -1: none)
 *   once          misbehave only on the first run of the index (a retry
 *                 in a fresh process then succeeds)
 *   pidfile=PATH  for how=wait
 *   write=PREFIX  every index writes PREFIX<index> with ws_outfile; index
 *                 `at` misbehaves with its temporary open
 *   thread        init starts a thread that never ends (--isolate refuses)
 *   fib=N         every index also computes fib(N) with fork-join tasks and
 *                 fails if the sum is wrong (fork-join in a worker process)
 *   how=deep      index `at` recurses deep_kib KiB deep (default 4096), and
 *                 succeeds if the stack holds (--stack in a worker process)
 *   after=PATH    index `at` waits until PATH exists first; init_after=PATH
 *                 likewise for init_how=fail: an order of events between
 *                 two workers
 *   init_how=ok|hold|fail|hang, fini_how=ok|hang   what worker `worker`'s
 *                 worker_init / worker_fini does: write its pid to
 *                 `pidfile` and wait until the run stops (ws_stopping),
 *                 ws_fail, or wait for ever (--timeout ends it)
 *   worker=W      the worker of init_how and fini_how (default 0)
 *   wait_index=K  index `at` first waits until index K has run (the
 *                 tally): at -j2, only the other worker's process can run
 *                 K meanwhile, so K must be taken from this worker's run
 *                 or range while `at` runs (a steal from a busy worker)
 * isodefault is the same plugin asking for isolation by default
 * (WS_PLUGIN_ISOLATE_DEFAULT).
 * Fixtures exist to fail on purpose; never use them as examples.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wsrun.h"

typedef struct iso_state {
    const char *how, *pidfile, *write_prefix, *after, *init_after, *init_how, *fini_how;
    int64_t at, fib, deep_kib, worker, wait_index;
    int once;
    uint64_t count;
    _Atomic uint32_t *runs; /* ws_shared_alloc: runs of each index */
} iso_state;

static const ws_option iso_options[] = {
    {.name = "how", .type = WS_OPT_STRING, .default_value = "ok", .help = "what index at does"},
    {.name = "at", .type = WS_OPT_INT, .default_value = "-1", .min = -1, .max = 1e15,
     .help = "the index that misbehaves"},
    {.name = "once", .type = WS_OPT_BOOL, .default_value = "false",
     .help = "misbehave on the first run only"},
    {.name = "pidfile", .type = WS_OPT_STRING, .help = "how=wait: where the pid goes"},
    {.name = "write", .type = WS_OPT_STRING, .help = "each index writes PREFIX<index>"},
    {.name = "fib", .type = WS_OPT_INT, .default_value = "0", .min = 0, .max = 40,
     .help = "each index computes fib(N) with fork-join tasks"},
    {.name = "thread", .type = WS_OPT_BOOL, .default_value = "false",
     .help = "init starts a thread that never ends"},
    {.name = "deep_kib", .type = WS_OPT_INT, .default_value = "4096", .min = 1, .max = 1 << 20,
     .help = "how=deep: KiB of stack to recurse through"},
    {.name = "after", .type = WS_OPT_STRING, .help = "index at waits for this file first"},
    {.name = "init_after", .type = WS_OPT_STRING, .help = "init_how=fail waits for this file"},
    {.name = "init_how", .type = WS_OPT_STRING, .default_value = "ok",
     .help = "what worker_init does on `worker`"},
    {.name = "fini_how", .type = WS_OPT_STRING, .default_value = "ok",
     .help = "what worker_fini does on `worker`"},
    {.name = "worker", .type = WS_OPT_INT, .default_value = "0", .min = 0, .max = 4095,
     .help = "the worker of init_how and fini_how"},
    {.name = "wait_index", .type = WS_OPT_INT, .default_value = "-1", .min = -1, .max = 1e15,
     .help = "index at waits until this index has run"},
    {.name = NULL},
};

static void *sleep_for_ever(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

static int iso_init(ws_ctx *ctx, void **state)
{
    pthread_t t;
    if (ws_opt_bool(ctx, "thread") && pthread_create(&t, NULL, sleep_for_ever, NULL) == 0)
        pthread_detach(t);
    iso_state *s = calloc(1, sizeof *s);
    if (!s)
        return ws_fail(ctx, "out of memory");
    s->how = ws_opt_str(ctx, "how");
    s->pidfile = ws_opt_str(ctx, "pidfile");
    s->write_prefix = ws_opt_str(ctx, "write");
    s->at = ws_opt_int(ctx, "at");
    s->fib = ws_opt_int(ctx, "fib");
    s->once = ws_opt_bool(ctx, "once");
    s->deep_kib = ws_opt_int(ctx, "deep_kib");
    s->after = ws_opt_str(ctx, "after");
    s->init_after = ws_opt_str(ctx, "init_after");
    s->init_how = ws_opt_str(ctx, "init_how");
    s->fini_how = ws_opt_str(ctx, "fini_how");
    s->worker = ws_opt_int(ctx, "worker");
    s->wait_index = ws_opt_int(ctx, "wait_index");
    s->count = ws_run_count(ctx);
    if (s->wait_index >= 0 && (uint64_t)s->wait_index >= s->count) {
        long long k = (long long)s->wait_index;
        free(s);
        return ws_fail(ctx, "wait_index %lld is not below the count", k);
    }
    if (s->count > (1u << 24)) {
        free(s);
        return ws_fail(ctx, "count too large for the tally");
    }
    s->runs = ws_shared_alloc(ctx, (s->count ? s->count : 1) * sizeof *s->runs);
    if (!s->runs) {
        free(s);
        return ws_fail(ctx, "ws_shared_alloc failed");
    }
    *state = s;
    return WS_OK;
}

/* Deep enough to pass any stack (the bound is never reached); volatile
 * so it is not made a loop. */
static volatile int depth_limit = 1 << 30;

static int recurse(volatile char *up, int depth)
{
    volatile char pad[4096];
    pad[0] = (char)depth;
    pad[4095] = up ? up[0] : 0;
    if (depth >= depth_limit)
        return pad[0];
    return recurse(pad, depth + 1) + pad[1];
}

/* ~1 KiB a frame, every page touched in order (the guard page is met). */
static int recurse_kib(int64_t kib)
{
    volatile char pad[900];
    pad[0] = (char)kib;
    pad[sizeof pad - 1] = (char)kib;
    return kib <= 0 ? pad[0] : recurse_kib(kib - 1) + pad[sizeof pad - 1];
}

/* Wait until `path` exists (an event another process makes; the interval
 * is a polling step, not a deadline). */
static void wait_for_file(const char *path)
{
    struct timespec t = {0, 1000000};
    while (path && access(path, F_OK) != 0)
        nanosleep(&t, NULL);
}

/* Write this process's pid to `pidfile`, whole (renamed into place). */
static void write_pid(const char *pidfile)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", pidfile);
    FILE *f = fopen(tmp, "w");
    if (f) {
        fprintf(f, "%d\n", (int)getpid());
        fclose(f);
        rename(tmp, pidfile);
    }
}

/* Until the run stops.  A polling interval, not a deadline: the stop
 * request (SIGUSR1) may be taken by another thread than this one (a
 * sanitizer build runs the worker on a thread of its own). */
static void hold_until_stopping(ws_ctx *ctx)
{
    struct timespec t = {0, 1000000};
    while (!ws_stopping(ctx))
        nanosleep(&t, NULL);
}

/* Until index k has run somewhere (an event in the shared tally; the
 * interval is a polling step, not a deadline). */
static void wait_for_index(iso_state *s, int64_t k)
{
    struct timespec t = {0, 1000000};
    /* relaxed: a flag; nothing else is read through it. */
    while (k >= 0 && atomic_load_explicit(&s->runs[k], memory_order_relaxed) == 0)
        nanosleep(&t, NULL);
}

static void misbehave(iso_state *s, ws_ctx *ctx)
{
    const char *h = s->how;
    wait_for_file(s->after);
    if (strcmp(h, "segv") == 0) {
        /* Not NULL: UBSan would stop at a null store before the fault. */
        static volatile uintptr_t bad_address = 8;
        *(volatile int *)bad_address = 1;
    } else if (strcmp(h, "abort") == 0) {
        abort();
    } else if (strcmp(h, "exit") == 0) {
        exit(3);
    } else if (strcmp(h, "_exit") == 0) {
        _exit(5);
    } else if (strcmp(h, "stack") == 0) {
        (void)recurse(NULL, 0);
    } else if (strcmp(h, "loop") == 0) {
        for (volatile int spin = 1; spin;)
            ;
    } else if (strcmp(h, "alloc") == 0) {
        for (;;) {
            char *p = malloc(1 << 20);
            if (!p)
                abort(); /* what a plugin that does not check would do, sooner */
            memset(p, 1, 1 << 20);
        }
    } else if (strcmp(h, "kill") == 0) {
        kill(getpid(), SIGKILL);
    } else if (strcmp(h, "deep") == 0) {
        (void)recurse_kib(s->deep_kib);
    } else if ((strcmp(h, "wait") == 0 || strcmp(h, "hold") == 0) && s->pidfile &&
               access(s->pidfile, F_OK) != 0) { /* a resume (same options) goes through */
        write_pid(s->pidfile); /* whole, for the waiting test */
        if (strcmp(h, "wait") == 0)
            for (;;)
                pause();
        hold_until_stopping(ctx);
    }
}

/* init_how / fini_how on worker `worker` (under --isolate: in its worker
 * process). */
static int iso_worker_init(void *state, ws_ctx *ctx)
{
    iso_state *s = state;
    if ((int64_t)ctx->worker_id != s->worker || strcmp(s->init_how, "ok") == 0)
        return WS_OK;
    if (strcmp(s->init_how, "hold") == 0 && s->pidfile) {
        write_pid(s->pidfile);
        hold_until_stopping(ctx);
    } else if (strcmp(s->init_how, "fail") == 0) {
        wait_for_file(s->init_after);
        return ws_fail(ctx, "deliberate worker_init failure on worker %u", ctx->worker_id);
    } else if (strcmp(s->init_how, "hang") == 0) {
        for (;;)
            pause();
    }
    return WS_OK;
}

static void iso_worker_fini(void *state, ws_ctx *ctx)
{
    iso_state *s = state;
    if ((int64_t)ctx->worker_id == s->worker && strcmp(s->fini_how, "hang") == 0)
        for (;;)
            pause();
}

WS_TASK_1(int64_t, iso_fib, int64_t, n)
{
    if (n < 2)
        return n;
    WS_SPAWN(iso_fib, n - 2);
    int64_t first = WS_CALL(iso_fib, n - 1);
    return first + WS_AWAIT(iso_fib);
}

static int64_t fib_serial(int64_t n)
{
    return n < 2 ? n : fib_serial(n - 1) + fib_serial(n - 2);
}

static int iso_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    iso_state *s = state;
    if (s->fib > 0) {
        int64_t got = WS_RUN(ctx, iso_fib, s->fib), want = fib_serial(s->fib);
        if (got != want)
            return ws_fail(ctx, "fib(%lld) gave %lld, not %lld", (long long)s->fib,
                           (long long)got, (long long)want);
    }
    /* relaxed: a tally read by finish after every process ended. */
    uint32_t before = atomic_fetch_add_explicit(&s->runs[index], 1, memory_order_relaxed);
    int here = s->at >= 0 && index == (uint64_t)s->at && !(s->once && before > 0);
    ws_outfile out;
    int open = 0;
    if (s->write_prefix) {
        char path[4096];
        snprintf(path, sizeof path, "%s%llu", s->write_prefix, (unsigned long long)index);
        if (ws_outfile_open(ctx, &out, path) != WS_OK)
            return WS_ERR;
        open = 1;
        char line[64];
        int n = snprintf(line, sizeof line, "index %llu\n", (unsigned long long)index);
        if (write(out.fd, line, (size_t)n) != n) {
            ws_outfile_abort(&out);
            return ws_fail(ctx, "cannot write %s", path);
        }
    }
    if (here) {
        wait_for_index(s, s->wait_index);
        if (strcmp(s->how, "fail") == 0) {
            if (open)
                ws_outfile_abort(&out);
            return ws_fail(ctx, "deliberate failure at index %llu", (unsigned long long)index);
        }
        misbehave(s, ctx);
    }
    return open ? ws_outfile_commit(ctx, &out) : WS_OK;
}

/* "runs: N once, M other" and each index that did not run exactly once. */
static int iso_finish(void *state, int run_status, ws_ctx *ctx)
{
    (void)ctx;
    iso_state *s = state;
    uint64_t once = 0;
    for (uint64_t i = 0; i < s->count; i++) {
        uint32_t r = atomic_load_explicit(&s->runs[i], memory_order_relaxed);
        if (r == 1)
            once++;
        else
            printf("index %llu ran %u times\n", (unsigned long long)i, r);
    }
    printf("runs: %llu of %llu once; status %d\n", (unsigned long long)once,
           (unsigned long long)s->count, run_status);
    free(s);
    return WS_OK;
}

static const ws_plugin isocrash = {
    /* write=: one file per index, so --journal/--resume may be tested */
    WS_PLUGIN_HEADER_FLAGS(ISO_FLAGS | WS_PLUGIN_RESUMABLE),
    .name = ISO_NAME,
    .version = "1",
    .description = "test fixture: misbehaves at one index, under --isolate",
    .options = iso_options,
    .init = iso_init,
    .worker_init = iso_worker_init,
    .run_one = iso_run_one,
    .worker_fini = iso_worker_fini,
    .finish = iso_finish,
};
WS_PLUGIN_DEFINE(isocrash)
