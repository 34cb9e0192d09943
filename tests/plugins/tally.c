/*
 * tally.c - test fixture for distributed runs (wsrun-mpi, --shard): every
 * index it runs becomes one line "<index> <rank>" in a journal file of its
 * own worker (dir/tally.<rank>.<pid>.<worker>), so a test can check that
 * each index ran exactly once and which rank ran it.  It can also fail on
 * purpose on a chosen rank, the rank read from the launcher's environment
 * (OMPI_COMM_WORLD_RANK, PMIX_RANK, PMI_RANK; 0 when none).  Options:
 *   dir=PATH          journal folder (required; must exist)
 *   sleep_us=U        sleep per index, so every rank gets blocks
 *   fail_index=I      index I fails, on whichever rank runs it
 *   fail_rank=R       the first index rank R runs fails
 *   crash_rank=R      rank R aborts (SIGABRT) at its first index
 *   init_fail_rank=R  init fails on rank R
 *   count_base=N      init sets the count N + rank (ranks disagree)
 *   wait_ranks=N      each rank's first index waits until N ranks have
 *                     started one (marker files dir/started.<rank>), so
 *                     every rank gets work however fast the others are
 *   hold_from=I       indices >= I that do not fail on purpose wait until
 *                     the run stops (ws_stopping): the run can only end
 *                     by a stop reaching this rank, never by racing it
 *   long_rank=R       rank R's first index is long and never looks at
 *                     ws_stopping: it waits until every worker of every
 *                     other rank has ended (dir/ended.<rank>.<worker>,
 *                     written by worker_fini); R's second index fails and
 *                     marks dir/failed first.  Other ranks count the
 *                     indices they start once dir/failed exists, and each
 *                     worker writes its count into its ended file: how
 *                     many indices a rank started after another failed,
 *                     counted by events (issue 23 item 7)
 * Never used as an example: it exists to be counted and to fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wsrun.h"

typedef struct tally_state {
    char dir[3000];
    int64_t sleep_us, fail_index, fail_rank, crash_rank, wait_ranks, hold_from, long_rank;
    int rank, ranks;
    unsigned jobs;
    _Atomic int first_done; /* this rank ran its first index */
    _Atomic int long_started; /* long_rank: indices started on this rank */
} tally_state;

typedef struct tally_worker {
    int fd;
    uint64_t late; /* indices started after dir/failed appeared */
} tally_worker;

static const ws_option tally_options[] = {
    {.name = "dir", .type = WS_OPT_STRING, .help = "journal folder (must exist)"},
    {.name = "sleep_us", .type = WS_OPT_INT, .default_value = "0", .min = 0, .max = 1e7,
     .help = "microseconds to sleep per index"},
    {.name = "fail_index", .type = WS_OPT_INT, .default_value = "-1", .min = -1, .max = 1e18,
     .help = "index that fails (-1: none)"},
    {.name = "fail_rank", .type = WS_OPT_INT, .default_value = "-1", .min = -1, .max = 1e6,
     .help = "rank whose first index fails (-1: none)"},
    {.name = "crash_rank", .type = WS_OPT_INT, .default_value = "-1", .min = -1, .max = 1e6,
     .help = "rank that aborts at its first index (-1: none)"},
    {.name = "init_fail_rank", .type = WS_OPT_INT, .default_value = "-1", .min = -1, .max = 1e6,
     .help = "rank whose init fails (-1: none)"},
    {.name = "count_base", .type = WS_OPT_INT, .default_value = "-1", .min = -1, .max = 1e12,
     .help = "set the count to this plus the rank (-1: do not)"},
    {.name = "wait_ranks", .type = WS_OPT_INT, .default_value = "0", .min = 0, .max = 1e6,
     .help = "first index of each rank waits until this many ranks started (0: none)"},
    {.name = "hold_from", .type = WS_OPT_INT, .default_value = "-1", .min = -1, .max = 1e18,
     .help = "indices from this one wait until the run stops (-1: none)"},
    {.name = "long_rank", .type = WS_OPT_INT, .default_value = "-1", .min = -1, .max = 1e6,
     .help = "rank whose first index outlasts every other rank (-1: none)"},
    {.name = NULL},
};

static int launcher_rank(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return atoi(v);
    }
    return 0;
}

static int tally_init(ws_ctx *ctx, void **state)
{
    const char *dir = ws_opt_str(ctx, "dir");
    if (!dir || strlen(dir) >= sizeof((tally_state *)0)->dir)
        return ws_fail(ctx, "option dir is required (a folder for the journals)");
    tally_state *s = calloc(1, sizeof *s);
    if (!s)
        return ws_fail(ctx, "out of memory");
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    s->sleep_us = ws_opt_int(ctx, "sleep_us");
    s->fail_index = ws_opt_int(ctx, "fail_index");
    s->fail_rank = ws_opt_int(ctx, "fail_rank");
    s->crash_rank = ws_opt_int(ctx, "crash_rank");
    s->wait_ranks = ws_opt_int(ctx, "wait_ranks");
    s->hold_from = ws_opt_int(ctx, "hold_from");
    s->long_rank = ws_opt_int(ctx, "long_rank");
    s->rank = launcher_rank();
    const char *size = getenv("OMPI_COMM_WORLD_SIZE");
    s->ranks = size && *size ? atoi(size) : 1;
    s->jobs = ws_run_jobs(ctx);
    if (ws_opt_int(ctx, "init_fail_rank") == s->rank) {
        free(s);
        return ws_fail(ctx, "deliberate init failure on rank %d", launcher_rank());
    }
    int64_t base = ws_opt_int(ctx, "count_base");
    if (base >= 0)
        ws_set_count(ctx, (uint64_t)base + (uint64_t)s->rank);
    *state = s;
    return WS_OK;
}

static int tally_worker_init(void *state, ws_ctx *ctx)
{
    tally_state *s = state;
    tally_worker *w = calloc(1, sizeof *w);
    if (!w)
        return ws_fail(ctx, "out of memory");
    char path[3200];
    snprintf(path, sizeof path, "%s/tally.%d.%ld.%u", s->dir, s->rank, (long)getpid(),
             ctx->worker_id);
    w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 0644);
    if (w->fd < 0) {
        int e = errno;
        free(w);
        return ws_fail(ctx, "cannot create %s: %s", path, strerror(e));
    }
    ctx->worker_data = w;
    return WS_OK;
}

static void tally_worker_fini(void *state, ws_ctx *ctx)
{
    tally_state *s = state;
    tally_worker *w = ctx->worker_data;
    if (w && s->long_rank >= 0 && s->rank != s->long_rank) {
        /* the count first, then the name the long index looks for */
        char tmp[3200], path[3200], text[32];
        snprintf(tmp, sizeof tmp, "%s/.ended.%d.%u", s->dir, s->rank, ctx->worker_id);
        snprintf(path, sizeof path, "%s/ended.%d.%u", s->dir, s->rank, ctx->worker_id);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int n = snprintf(text, sizeof text, "%llu\n", (unsigned long long)w->late);
        if (fd >= 0) {
            if (write(fd, text, (size_t)n) != n)
                n = -1;
            close(fd);
            if (n > 0)
                rename(tmp, path);
        }
    }
    if (w) {
        close(w->fd);
        free(w);
    }
    ctx->worker_data = NULL;
}

static void pause_a_moment(void)
{
    struct timespec t = {0, 1000000}; /* a polling interval, not a deadline */
    nanosleep(&t, NULL);
}

/* Mark this rank started, then wait for `want` ranks' marks. */
static int wait_for_ranks(const tally_state *s, ws_ctx *ctx)
{
    char path[3200];
    snprintf(path, sizeof path, "%s/started.%d", s->dir, s->rank);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return ws_fail(ctx, "cannot create %s: %s", path, strerror(errno));
    close(fd);
    for (;;) {
        int seen = 0;
        for (int r = 0; r < s->wait_ranks; r++) {
            snprintf(path, sizeof path, "%s/started.%d", s->dir, r);
            seen += access(path, F_OK) == 0;
        }
        if (seen >= s->wait_ranks || ws_stopping(ctx))
            return WS_OK;
        pause_a_moment();
    }
}

/* long_rank's first index: never asks ws_stopping, so its rank's pool
 * lasts until every worker of every other rank has ended; it polls
 * (ws_poll) only so that this rank's other worker can take the next
 * index, the one that fails. */
static int long_index(const tally_state *s, ws_ctx *ctx)
{
    char path[3200];
    for (;;) {
        int ended = 0;
        for (int r = 0; r < s->ranks; r++)
            for (unsigned k = 0; r != s->rank && k < s->jobs; k++) {
                snprintf(path, sizeof path, "%s/ended.%d.%u", s->dir, r, k);
                ended += access(path, F_OK) == 0;
            }
        if (ended == (s->ranks - 1) * (int)s->jobs)
            return WS_OK;
        ws_poll(ctx);
        pause_a_moment();
    }
}

/* long_rank: 0 when the index is done with, 1 to go on as usual. */
static int long_rank_index(tally_state *s, tally_worker *w, uint64_t index, ws_ctx *ctx, int *rc)
{
    char path[3200];
    snprintf(path, sizeof path, "%s/failed", s->dir);
    if (s->rank != s->long_rank) {
        w->late += access(path, F_OK) == 0;
        return 1;
    }
    int nth = atomic_fetch_add(&s->long_started, 1);
    if (nth == 0) {
        *rc = long_index(s, ctx);
        return 0;
    }
    if (nth == 1) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0)
            close(fd);
        *rc = ws_fail(ctx, "deliberate failure at index %llu on rank %d beside a long index",
                      (unsigned long long)index, s->rank);
        return 0;
    }
    return 1;
}

static int tally_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    tally_state *s = state;
    tally_worker *w = ctx->worker_data;
    int rc = WS_OK;
    if (s->long_rank >= 0 && !long_rank_index(s, w, index, ctx, &rc))
        return rc;
    int first = !atomic_exchange(&s->first_done, 1);
    if (first && s->crash_rank == s->rank)
        abort();
    if (s->sleep_us > 0) {
        struct timespec t = {s->sleep_us / 1000000, (long)(s->sleep_us % 1000000) * 1000};
        nanosleep(&t, NULL);
    }
    if (first && s->wait_ranks > 0) {
        int waited = wait_for_ranks(s, ctx);
        if (waited != WS_OK)
            return waited;
    }
    if ((s->fail_index >= 0 && index == (uint64_t)s->fail_index) ||
        (first && s->fail_rank == s->rank))
        return ws_fail(ctx, "deliberate failure at index %llu on rank %d",
                       (unsigned long long)index, s->rank);
    if (s->hold_from >= 0 && index >= (uint64_t)s->hold_from)
        while (!ws_stopping(ctx))
            pause_a_moment();
    char line[48];
    int n = snprintf(line, sizeof line, "%llu %d\n", (unsigned long long)index, s->rank);
    if (write(w->fd, line, (size_t)n) != n)
        return ws_fail(ctx, "cannot write the journal: %s", strerror(errno));
    return WS_OK;
}

static int tally_finish(void *state, int run_status, ws_ctx *ctx)
{
    (void)run_status;
    (void)ctx;
    free(state);
    return WS_OK;
}

static const ws_plugin tally = {
    WS_PLUGIN_HEADER_FLAGS(WS_PLUGIN_RESUMABLE), /* one journal line per index */
    .name = "tally",
    .version = "0.1",
    .description = "test fixture: journals each index with its rank, fails on purpose",
    .options = tally_options,
    .init = tally_init,
    .run_one = tally_run_one,
    .finish = tally_finish,
    .worker_init = tally_worker_init,
    .worker_fini = tally_worker_fini,
};

WS_PLUGIN_DEFINE(tally)
