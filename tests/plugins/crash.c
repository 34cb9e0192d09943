/*
 * crash.c - test fixture: crashes on purpose, so the tests can check that
 * wsrun names the plugin, the index and the signal, prints a backtrace and
 * exits 128 + the signal number instead of hanging.  Options:
 *   at=I        the index whose run_one crashes (default 0; -1: none)
 *   how=...     segv (NULL write), abort, fpe (integer divide by zero),
 *               ill (an undefined instruction), bus (SIGBUS from a
 *               truncated mapping), stack (unbounded recursion), or
 *               flaky: no crash, run_one fails (ws_fail) on its first
 *               `attempts` calls for index I, then succeeds (--retries),
 *               exit: calls exit(status) (a plugin bug wsrun names), or
 *               silent: the callback fails without a message,
 *               locked: segv while another thread holds the loader's lock
 *               (inside dlopen of ctorblock.so, whose constructor blocks),
 *               stolen: index I spawns a fork-join child that segfaults
 *               and polls until another worker has stolen it (-j2 or more)
 *   status=S    how=exit: the status given to exit (default 0)
 *   where=...   run (run_one at index I), init, finish, or worker_init /
 *               worker_fini (on the worker whose id is I)
 *   sleep_us=U  sleep U microseconds in every other index first
 * Never use it as an example (plugins/hello.c is the example).
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "wsrun.h"

enum { HOW_SEGV, HOW_ABORT, HOW_FPE, HOW_ILL, HOW_BUS, HOW_STACK, HOW_FLAKY, HOW_EXIT, HOW_SILENT,
       HOW_LOCKED, HOW_STOLEN };
enum { WHERE_RUN, WHERE_INIT, WHERE_FINISH, WHERE_WORKER_INIT, WHERE_WORKER_FINI };

static const ws_option crash_options[] = {
    {.name = "at", .type = WS_OPT_INT, .default_value = "0", .min = -1, .max = 1e18,
     .help = "index that crashes (-1: none)"},
    {.name = "how", .type = WS_OPT_ENUM, .default_value = "segv",
     .choices = "segv|abort|fpe|ill|bus|stack|flaky|exit|silent|locked|stolen", .help = "kind of crash"},
    {.name = "status", .type = WS_OPT_INT, .default_value = "0", .min = 0, .max = 255,
     .help = "how=exit: the status given to exit"},
    {.name = "attempts", .type = WS_OPT_INT, .default_value = "1", .min = 0, .max = 1000,
     .help = "how=flaky: failing calls before index I succeeds"},
    {.name = "where", .type = WS_OPT_ENUM, .default_value = "run", .choices = "run|init|finish|worker_init|worker_fini",
     .help = "callback that crashes"},
    {.name = "sleep_us", .type = WS_OPT_INT, .default_value = "0", .min = 0, .max = 1e6,
     .help = "microseconds to sleep in the other indices"},
    {.name = NULL},
};

typedef struct crash_state {
    int64_t at, sleep_us, attempts, status;
    int how, where;
    _Atomic int64_t calls_at; /* calls of index `at` so far */
} crash_state;

/* volatile and out of line, so the compiler cannot prove the crash and
 * drop or reorder it. */
static volatile int zero = 0, one = 1;
static int *volatile null_pointer = NULL;

/* Deep recursion, stopped only by a limit the compiler cannot see. */
static volatile int depth_limit = 1 << 30;

static int recurse(int depth)
{
    volatile char pad[1024];
    pad[0] = (char)depth;
    if (depth >= depth_limit)
        return pad[0];
    return recurse(depth + 1) + pad[0];
}

/* how=locked: dlopen ctorblock.so (beside this file) on a thread of its
 * own; its constructor says so on the pipe and never returns. */
static void *open_blocking_library(void *path)
{
    (void)dlopen(path, RTLD_NOW);
    return NULL;
}

static void hold_the_loader_lock(void)
{
    static char path[4096];
    Dl_info self;
    int fds[2];
    char env[16], byte;
    pthread_t t;
    if (!dladdr((void *)hold_the_loader_lock, &self) || !self.dli_fname || pipe(fds) != 0)
        abort();
    snprintf(path, sizeof path, "%s", self.dli_fname);
    char *slash = strrchr(path, '/');
    snprintf(slash ? slash + 1 : path, sizeof path - (size_t)(slash ? slash + 1 - path : 0),
             "ctorblock.so");
    snprintf(env, sizeof env, "%d", fds[1]);
    setenv("WSRUN_TEST_CTOR_FD", env, 1);
    if (pthread_create(&t, NULL, open_blocking_library, path) != 0 || read(fds[0], &byte, 1) != 1)
        abort();
}

/* Real faults even under -fsanitize=undefined (make test-asan), which
 * would otherwise report the NULL store and the division and exit first. */
#if defined(__GNUC__)
__attribute__((no_sanitize("undefined")))
#endif
static void crash_now(int how, int status)
{
    switch (how) {
    case HOW_EXIT: exit(status);
    case HOW_SEGV: *null_pointer = 1; break;
    case HOW_ABORT: abort();
    case HOW_FPE: {
        volatile int x = one / zero; /* 1 / zero alone compiles to no division */
        (void)x;
        break;
    }
    case HOW_ILL: __builtin_trap(); /* ud2 on x86: SIGILL */
    case HOW_BUS: {
        /* Touching a page of a mapping past the end of its file. */
        char name[] = "/tmp/wsrun-crash-bus.XXXXXX";
        int fd = mkstemp(name);
        if (fd < 0)
            abort();
        unlink(name);
        volatile char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED)
            abort();
        p[0] = 1;
        break;
    }
    case HOW_STACK: (void)recurse(0); break;
    case HOW_LOCKED:
        hold_the_loader_lock();
        *null_pointer = 1;
        break;
    }
}

static int crash_init(ws_ctx *ctx, void **state)
{
    crash_state *s = calloc(1, sizeof *s);
    if (!s)
        return ws_fail(ctx, "out of memory");
    s->at = ws_opt_int(ctx, "at");
    s->how = ws_opt_enum(ctx, "how");
    s->where = ws_opt_enum(ctx, "where");
    s->sleep_us = ws_opt_int(ctx, "sleep_us");
    s->attempts = ws_opt_int(ctx, "attempts");
    s->status = ws_opt_int(ctx, "status");
    if (s->where == WHERE_INIT && s->how == HOW_SILENT) {
        free(s); /* finish is not called after a failed init */
        return -1;
    }
    *state = s;
    if (s->where == WHERE_INIT)
        crash_now(s->how, (int)s->status);
    return WS_OK;
}

/* how=stolen: the child says it started (on a thief: its spawner only
 * polls), then faults there. */
static _Atomic int stolen_child_started;

static int stolen_child(ws_ctx *ctx, ws_frame *self)
{
    (void)ctx;
    (void)self;
    atomic_store(&stolen_child_started, 1);
    crash_now(HOW_SEGV, 0);
    return WS_OK;
}

static int spawn_a_child_that_crashes_when_stolen(ws_ctx *ctx)
{
    ws_frame *f = ws_frame_new(ctx, stolen_child);
    ws_spawn(ctx, f);
    while (!atomic_load(&stolen_child_started))
        ws_poll(ctx); /* publishes the child to the thief that asks */
    return ws_sync(ctx, f);
}

static int crash_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    crash_state *s = state;
    if (s->how == HOW_STOLEN && s->at >= 0 && index == (uint64_t)s->at)
        return spawn_a_child_that_crashes_when_stolen(ctx);
    if (s->where == WHERE_RUN && s->at >= 0 && index == (uint64_t)s->at) {
        if (s->how == HOW_SILENT)
            return -1;
        if (s->how != HOW_FLAKY) {
            crash_now(s->how, (int)s->status);
            return ws_fail(ctx, "the crash did not happen (fixture bug)");
        }
        int64_t call = atomic_fetch_add(&s->calls_at, 1);
        if (call < s->attempts)
            return ws_fail(ctx, "flaky failure %lld of %lld at index %llu", (long long)call + 1,
                           (long long)s->attempts, (unsigned long long)index);
    }
    if (s->sleep_us > 0) {
        struct timespec t = {s->sleep_us / 1000000, (long)(s->sleep_us % 1000000) * 1000};
        nanosleep(&t, NULL);
    }
    return WS_OK;
}

static int crash_finish(void *state, int run_status, ws_ctx *ctx)
{
    (void)ctx;
    crash_state *s = state;
    printf("crash: finish status=%d calls_at=%lld\n", run_status != 0,
           (long long)atomic_load(&s->calls_at));
    fflush(stdout);
    if (s->where == WHERE_FINISH)
        crash_now(s->how, (int)s->status);
    free(s);
    return WS_OK;
}

static int crash_worker_init(void *state, ws_ctx *ctx)
{
    crash_state *s = state;
    if (s->where == WHERE_WORKER_INIT && ctx->worker_id == (uint64_t)s->at)
        crash_now(s->how, (int)s->status);
    return WS_OK;
}

static void crash_worker_fini(void *state, ws_ctx *ctx)
{
    crash_state *s = state;
    if (s->where == WHERE_WORKER_FINI && ctx->worker_id == (uint64_t)s->at)
        crash_now(s->how, (int)s->status);
}

static const ws_plugin crash = {
    WS_PLUGIN_HEADER_FLAGS(WS_PLUGIN_RESUMABLE), /* for the journal-survives-a-crash test */
    .name = "crash",
    .version = "0.1",
    .description = "test fixture: crashes at a chosen index",
    .options = crash_options,
    .init = crash_init,
    .run_one = crash_run_one,
    .finish = crash_finish,
    .worker_init = crash_worker_init,
    .worker_fini = crash_worker_fini,
};

WS_PLUGIN_DEFINE(crash)
