/*
 * test_embed_stop.c - ws_pool_stop (include/wsrun_embed.h): a run whose
 * indices wait until ws_stopping() says so is stopped from another thread
 * and from a signal handler (status 1, the "stopped by ws_pool_stop"
 * message, fewer indices done than asked); a stop during init lets no
 * index start and finish still runs with status 1; a stop with no run in
 * progress, during finish, or on NULL leaves the next run whole.  Waits
 * on events (a pipe, ws_stopping), never on a clock; a run that the stop
 * failed to reach would wait for ever (the watchdog's limit then fails
 * it).
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wsrun_embed.h"

#define COUNT 100000ULL

static ws_pool *the_pool; /* the signal handler's */
static int started[2];    /* a pipe: the first waiting index writes a byte */
static atomic_int announced, run_status_seen, finishes;

/* An index that waits, after telling the test it started, until the run
 * is asked to stop. */
static int wait_for_stop(void *arg, uint64_t index, ws_ctx *ctx)
{
    (void)arg;
    (void)index;
    if (!atomic_exchange(&announced, 1))
        cr_assert_eq(write(started[1], "s", 1), 1);
    struct timespec nap = {0, 100000}; /* a polling interval, not a deadline */
    while (!ws_stopping(ctx))
        nanosleep(&nap, NULL);
    return WS_OK;
}

static void setup(void)
{
    cr_assert_eq(pipe(started), 0);
    atomic_store(&announced, 0);
    the_pool = ws_pool_create(2, 1);
    cr_assert_not_null(the_pool);
}

static void teardown(void)
{
    ws_pool_destroy(the_pool);
    close(started[0]);
    close(started[1]);
}

/* Waits for an index to start, then stops the run its own way. */
static void *stopper(void *arg)
{
    char c;
    cr_assert_eq(read(started[0], &c, 1), 1);
    if (arg)
        cr_assert_eq(kill(getpid(), SIGUSR1), 0);
    else
        ws_pool_stop(the_pool);
    return NULL;
}

static void on_usr1(int sig)
{
    (void)sig;
    ws_pool_stop(the_pool);
}

static void run_and_stop(int by_signal)
{
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, stopper, by_signal ? (void *)1 : NULL), 0);
    ws_pool_stats st = {.struct_size = sizeof st};
    int rc = ws_pool_for(the_pool, COUNT, wait_for_stop, NULL, &st);
    pthread_join(t, NULL);
    cr_assert_eq(rc, WS_POOL_FAILED, "status %d: %s", rc, ws_pool_error(the_pool));
    cr_assert_eq(st.count, COUNT);
    cr_assert(st.done >= 1 && st.done < COUNT, "done %llu", (unsigned long long)st.done);
    cr_assert_eq(st.failed, 0);
    char want[128];
    snprintf(want, sizeof want, "ws_pool_for: stopped by ws_pool_stop: %llu of %llu indices done",
             (unsigned long long)st.done, COUNT);
    cr_assert_str_eq(ws_pool_error(the_pool), want);
}

static int count_index(void *arg, uint64_t index, ws_ctx *ctx)
{
    (void)index;
    (void)ctx;
    atomic_fetch_add((atomic_ullong *)arg, 1);
    return WS_OK;
}

/* The next run of the pool runs every index. */
static void next_run_is_whole(void)
{
    atomic_ullong calls = 0;
    ws_pool_stats st = {.struct_size = sizeof st};
    cr_assert_eq(ws_pool_for(the_pool, 1000, count_index, &calls, &st), WS_POOL_OK, "%s",
                 ws_pool_error(the_pool));
    cr_assert_eq(st.done, 1000);
    cr_assert_eq(atomic_load(&calls), 1000);
    cr_assert_str_eq(ws_pool_error(the_pool), "");
}

Test(embed_stop, from_another_thread, .init = setup, .fini = teardown)
{
    run_and_stop(0);
    next_run_is_whole();
}

Test(embed_stop, from_a_signal_handler, .init = setup, .fini = teardown)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGUSR1, &sa, &old), 0);
    run_and_stop(1);
    sigaction(SIGUSR1, &old, NULL);
    next_run_is_whole();
}

Test(embed_stop, with_no_run_or_null_does_nothing, .init = setup, .fini = teardown)
{
    ws_pool_stop(NULL);
    ws_pool_stop(the_pool);
    ws_pool_stop(the_pool);
    next_run_is_whole();
}

/* A descriptor whose init or finish stops its own run. */
static const ws_option stop_options[] = {
    {"stop_in", WS_OPT_STRING, "none", "init, finish or none", NULL, 0, 0}, {NULL}};

static int stop_init(ws_ctx *ctx, void **state)
{
    *state = NULL;
    if (strcmp(ws_opt_str(ctx, "stop_in"), "init") == 0)
        ws_pool_stop(the_pool);
    return WS_OK;
}

static int stop_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    (void)state;
    (void)index;
    (void)ctx;
    return WS_OK;
}

static int stop_finish(void *state, int run_status, ws_ctx *ctx)
{
    (void)state;
    atomic_store(&run_status_seen, run_status);
    atomic_fetch_add(&finishes, 1);
    if (strcmp(ws_opt_str(ctx, "stop_in"), "finish") == 0)
        ws_pool_stop(the_pool);
    return WS_OK;
}

static const ws_plugin stop_desc = {WS_PLUGIN_HEADER, .name = "stopper", .version = "1",
                                    .description = "stops itself", .options = stop_options,
                                    .init = stop_init, .run_one = stop_run_one,
                                    .finish = stop_finish};

Test(embed_stop, during_init_no_index_starts_and_finish_runs, .init = setup, .fini = teardown)
{
    const char *opts[] = {"stop_in=init"};
    ws_pool_stats st = {.struct_size = sizeof st};
    int rc = ws_pool_run_plugin(the_pool, &stop_desc, 50, opts, 1, &st);
    cr_assert_eq(rc, WS_POOL_FAILED, "status %d: %s", rc, ws_pool_error(the_pool));
    cr_assert_eq(st.done, 0);
    cr_assert_str_eq(ws_pool_error(the_pool), "stopper: stopped by ws_pool_stop: 0 of 50 "
                                              "indices done");
    cr_assert_eq(atomic_load(&finishes), 1);
    cr_assert_eq(atomic_load(&run_status_seen), 1);
    next_run_is_whole();
}

Test(embed_stop, during_finish_leaves_the_run_and_the_next_whole, .init = setup,
     .fini = teardown)
{
    const char *opts[] = {"stop_in=finish"};
    ws_pool_stats st = {.struct_size = sizeof st};
    int rc = ws_pool_run_plugin(the_pool, &stop_desc, 50, opts, 1, &st);
    cr_assert_eq(rc, WS_POOL_OK, "status %d: %s", rc, ws_pool_error(the_pool));
    cr_assert_eq(st.done, 50);
    cr_assert_eq(atomic_load(&run_status_seen), 0);
    next_run_is_whole();
}
