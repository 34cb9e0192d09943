/*
 * failat.c - test fixture: run_one fails on purpose at chosen indices, and
 * finish reports on stdout what it saw, so CLI tests can check the exit
 * status, the failing index in the message, and that finish got the right
 * run_status.  Options:
 *   at=I          fail index I (default -1: none)
 *   every=K       also fail every index divisible by K (default 0: none)
 *   set_count=N   call ws_set_count(N) in init (default -1: do not)
 *   finish_fail   make finish fail
 *   sleep_us=U    sleep U microseconds per index (progress tests)
 *   ready=PATH    the first index creates PATH: a test waits for it, so a
 *                 signal it sends lands while indices run
 *   hold          every index waits until the run stops (ws_stopping):
 *                 only a stop (an interrupt) ends the run, never a clock
 */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wsrun.h"

typedef struct failat_state {
    int64_t at, every, sleep_us;
    int finish_fail, hold;
    char *ready;
    _Atomic int ready_made;
    _Atomic uint64_t calls;
} failat_state;

static const ws_option failat_options[] = {
    {.name = "at", .type = WS_OPT_INT, .default_value = "-1", .min = -1, .max = 1e18,
     .help = "index that fails (-1: none)"},
    {.name = "every", .type = WS_OPT_INT, .default_value = "0", .min = 0, .max = 1e18,
     .help = "fail each index divisible by this (0: none)"},
    {.name = "set_count", .type = WS_OPT_INT, .default_value = "-1", .min = -1, .max = 1e15,
     .help = "count init sets with ws_set_count (-1: none)"},
    {.name = "finish_fail", .type = WS_OPT_BOOL, .default_value = "false",
     .help = "make finish fail"},
    {.name = "sleep_us", .type = WS_OPT_INT, .default_value = "0", .min = 0, .max = 1e6,
     .help = "microseconds to sleep per index"},
    {.name = "ready", .type = WS_OPT_STRING, .help = "file the first index creates"},
    {.name = "hold", .type = WS_OPT_BOOL, .default_value = "false",
     .help = "every index waits until the run stops"},
    {.name = NULL},
};

static int failat_init(ws_ctx *ctx, void **state)
{
    failat_state *s = calloc(1, sizeof *s);
    if (!s)
        return ws_fail(ctx, "out of memory");
    s->at = ws_opt_int(ctx, "at");
    s->every = ws_opt_int(ctx, "every");
    s->sleep_us = ws_opt_int(ctx, "sleep_us");
    s->finish_fail = ws_opt_bool(ctx, "finish_fail");
    s->hold = ws_opt_bool(ctx, "hold");
    const char *ready = ws_opt_str(ctx, "ready");
    if (ready && !(s->ready = strdup(ready))) {
        free(s);
        return ws_fail(ctx, "out of memory");
    }
    int64_t count = ws_opt_int(ctx, "set_count");
    if (count >= 0)
        ws_set_count(ctx, (uint64_t)count);
    *state = s;
    return WS_OK;
}

static int failat_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    failat_state *s = state;
    atomic_fetch_add_explicit(&s->calls, 1, memory_order_relaxed);
    if (s->sleep_us > 0) {
        struct timespec t = {0, (long)s->sleep_us * 1000};
        nanosleep(&t, NULL);
    }
    if (s->ready && !atomic_exchange(&s->ready_made, 1)) {
        int fd = open(s->ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            return ws_fail(ctx, "cannot create %s", s->ready);
        close(fd);
    }
    while (s->hold && !ws_stopping(ctx)) {
        struct timespec t = {0, 1000000}; /* a polling interval, not a deadline */
        nanosleep(&t, NULL);
    }
    if ((s->at >= 0 && index == (uint64_t)s->at) ||
        (s->every > 0 && index % (uint64_t)s->every == 0))
        return ws_fail(ctx, "deliberate failure at index %llu", (unsigned long long)index);
    return WS_OK;
}

static int failat_finish(void *state, int run_status, ws_ctx *ctx)
{
    failat_state *s = state;
    printf("failat: finish status=%d calls=%llu count=%llu\n", run_status != 0,
           (unsigned long long)atomic_load(&s->calls), (unsigned long long)ws_run_count(ctx));
    fflush(stdout);
    int finish_fail = s->finish_fail;
    free(s->ready);
    free(s);
    if (finish_fail)
        return ws_fail(ctx, "deliberate finish failure");
    return WS_OK;
}

static const ws_plugin failat = {
    WS_PLUGIN_HEADER,
    .name = "failat",
    .version = "0.1",
    .description = "test fixture: fails chosen indices",
    .options = failat_options,
    .init = failat_init,
    .run_one = failat_run_one,
    .finish = failat_finish,
};

WS_PLUGIN_DEFINE(failat)
