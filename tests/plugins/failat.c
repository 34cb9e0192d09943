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
 *   write=PREFIX  each index writes PREFIX<index> (FILE_BYTES bytes) with
 *                 ws_outfile: a temporary first, renamed when whole
 *   stuck         with write: each index, its temporary open, never ends
 *                 (only a second interrupt can end the run)
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
    int finish_fail, hold, stuck;
    char *ready, *write_prefix;
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
    {.name = "write", .type = WS_OPT_STRING, .help = "each index writes PREFIX<index>"},
    {.name = "stuck", .type = WS_OPT_BOOL, .default_value = "false",
     .help = "with write: each index never ends, its temporary open"},
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
    s->stuck = ws_opt_bool(ctx, "stuck");
    const char *ready = ws_opt_str(ctx, "ready"), *prefix = ws_opt_str(ctx, "write");
    if ((ready && !(s->ready = strdup(ready))) ||
        (prefix && !(s->write_prefix = strdup(prefix)))) {
        free(s->ready);
        free(s);
        return ws_fail(ctx, "out of memory");
    }
    int64_t count = ws_opt_int(ctx, "set_count");
    if (count >= 0)
        ws_set_count(ctx, (uint64_t)count);
    *state = s;
    return WS_OK;
}

enum { FILE_BYTES = 65536 };

static void pause_a_moment(void)
{
    struct timespec t = {0, 1000000}; /* a polling interval, not a deadline */
    nanosleep(&t, NULL);
}

/* write=: half the file, the holds, then the rest and the rename. */
static int write_index(failat_state *s, uint64_t index, ws_ctx *ctx)
{
    char path[4096], block[FILE_BYTES / 2];
    snprintf(path, sizeof path, "%s%llu", s->write_prefix, (unsigned long long)index);
    memset(block, 'a' + (int)(index % 26), sizeof block);
    ws_outfile out;
    if (ws_outfile_open(ctx, &out, path) != WS_OK)
        return WS_ERR;
    if (write(out.fd, block, sizeof block) != (ssize_t)sizeof block) {
        ws_outfile_abort(&out);
        return ws_fail(ctx, "cannot write %s", path);
    }
    while (s->stuck)
        pause_a_moment();
    while (s->hold && !ws_stopping(ctx))
        pause_a_moment();
    if (write(out.fd, block, sizeof block) != (ssize_t)sizeof block) {
        ws_outfile_abort(&out);
        return ws_fail(ctx, "cannot write %s", path);
    }
    return ws_outfile_commit(ctx, &out);
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
    if (s->write_prefix)
        return write_index(s, index, ctx);
    while (s->hold && !ws_stopping(ctx))
        pause_a_moment();
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
    free(s->write_prefix);
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
