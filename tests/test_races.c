/*
 * test_races.c - regression tests for the races of issue 14, each forced
 * with the test build's WSRT_HOOK points (runtime/base/test_hooks.h): a thread is
 * held at a named point of deque.c or sched.c until another has reached a
 * given step, so the bad interleaving happens on every run.  Every wait is
 * on an event (a flag another thread sets), never on time.  Must never run
 * against a runtime built without -DWS_TEST_HOOKS (the Makefile links the
 * test binaries with the hooks copy).
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "stress.h"
#include "test_hooks.h"

static void wait_flag(_Atomic int *flag)
{
    while (!atomic_load(flag))
        sched_yield();
}

static unsigned my_worker(void)
{
    unsigned worker;
    uint64_t index;
    return wsrt_pool_where(&worker, &index) ? worker : UINT32_MAX;
}

/* ------------------------------------------ 1: ws_poll, then _at forks */

static _Atomic int pf_armed, pf_released;

static void pollfork_hook(const char *point)
{
    /* Hold the thief that claims the range split off by ws_poll until the
     * run_one that polled has forked at its top and returned. */
    if (!strcmp(point, "steal.before_cas") && atomic_load(&pf_armed))
        wait_flag(&pf_released);
}

/* Test(races, ...) below and sched_fuzz use the same run_one shape. */
static int pf_child(ws_ctx *ctx, ws_frame *self)
{
    (void)ctx;
    self->ret.u = self->arg[0].u * 3 + 1;
    return WS_OK;
}

static int pollfork_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    _Atomic uint8_t *hits = state;
    ws_frame *top = ws_frame_top(ctx);
    if (index == 0) {
        /* a thief has asked: the ws_poll below splits the running range */
        while (!atomic_load_explicit(&ctx->attention, memory_order_relaxed))
            sched_yield();
        atomic_store(&pf_armed, 1);
    }
    ws_poll(ctx);
    ws_frame *f = ws_frame_at(ctx, top, pf_child);
    f->arg[0].u = index;
    ws_spawn_at(ctx, f);
    uint64_t got;
    if (ws_pop_at(ctx, f)) {
        pf_child(ctx, f);
        got = f->ret.u;
    } else {
        ws_join_at(ctx, f);
        got = f->ret.u;
    }
    if (got == index * 3 + 1)
        atomic_fetch_add(&hits[index], 1);
    if (index == 0)
        atomic_store(&pf_released, 1);
    return WS_OK;
}

Test(races, poll_then_fork_at_the_old_top_loses_no_index, .timeout = 60)
{
    uint64_t n = 64;
    _Atomic uint8_t *hits = calloc(n, 1);
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "pollfork", n, 2, pollfork_run_one, (void *)hits);
    wsrt_test_hook_set(pollfork_hook);
    cr_assert_eq(test_pool_run(&run, &res), 0);
    wsrt_test_hook_set(NULL);
    for (uint64_t i = 0; i < n; i++)
        cr_expect_eq(atomic_load(&hits[i]), 1, "index %llu ran %u times", (unsigned long long)i,
                     (unsigned)atomic_load(&hits[i]));
    cr_assert_eq(res.indices_done, n);
    cr_assert(res.workers[0].splits + res.workers[1].splits >= 1);
    free(res.workers);
    free(hits);
}

/* ------------------------------------------ 2: a stop at pool start */

static _Atomic int st_at_hook, st_pool_checked, st_returned;
static _Thread_local int st_is_requester;

static void stop_hook(const char *point)
{
    if (!strcmp(point, "request_stop.flag_stored") && st_is_requester) {
        atomic_store(&st_at_hook, 1);
        wait_flag(&st_pool_checked); /* the pool started in between */
    } else if (!strcmp(point, "pool_run.stop_checked")) {
        atomic_store(&st_pool_checked, 1);
    }
}

static void *stop_requester(void *arg)
{
    st_is_requester = 1;
    wsrt_pool_request_stop(arg);
    atomic_store(&st_returned, 1);
    return NULL;
}

static int stop_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    if (index == 0)
        wait_flag(&st_returned); /* the request has been made */
    return count_run_one(state, index, ctx);
}

Test(races, stop_requested_while_the_pool_starts_stops_that_run, .timeout = 60)
{
    uint64_t n = 1000;
    count_state s = {calloc(n, 1), UINT64_MAX};
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "stop", n, 1, stop_run_one, &s);
    wsrt_pool *pool = wsrt_pool_create(1);
    cr_assert_not_null(pool);
    wsrt_test_hook_set(stop_hook);
    pthread_t t;
    pthread_create(&t, NULL, stop_requester, pool);
    wait_flag(&st_at_hook); /* it looked for no run yet (or stored its flag) */
    cr_assert_eq(wsrt_pool_run(pool, &run, &res), 0);
    pthread_join(t, NULL);
    wsrt_test_hook_set(NULL);
    cr_expect(res.stopped_early, "the stop was lost");
    cr_expect_lt(res.indices_done, n);
    free(res.workers);
    /* The request was for that run: the pool's next one runs everything. */
    cr_assert_eq(pool_count_run_on(pool, n, 1), 0, "the next run was stopped");
    wsrt_pool_destroy(pool);
    free(s.hits);
}

/* ------------------------------------------ 3: leapfrogging */

static _Atomic int lf_idx1, lf_f_started, lf_w0_held, lf_u_started, lf_x_published, lf_x_started,
    lf_w0_tried, lf_x_worker, lf_once;
static _Atomic unsigned lf_thief;

static int lf_x(ws_ctx *ctx, ws_frame *self)
{
    (void)self;
    atomic_store(&lf_x_worker, (int)ctx->worker_id + 1);
    atomic_store(&lf_x_started, 1);
    return WS_OK;
}

static int lf_u(ws_ctx *ctx, ws_frame *self)
{
    (void)self;
    atomic_store(&lf_u_started, 1);
    ws_frame *x = ws_frame_new(ctx, lf_x);
    ws_spawn(ctx, x);
    wsrt_attention_raise(ctx, WSRT_ATTN_REQUEST); /* as if a thief asked */
    ws_poll(ctx); /* publishes x */
    atomic_store(&lf_x_published, 1);
    while (!atomic_load(&lf_x_started))
        ws_poll(ctx);
    return ws_sync(ctx, x);
}

static int lf_f(ws_ctx *ctx, ws_frame *self)
{
    (void)self;
    atomic_store(&lf_thief, ctx->worker_id);
    atomic_store(&lf_f_started, 1);
    wait_flag(&lf_w0_held); /* worker 0 read f's state while f ran */
    return WS_OK;
}

static void leapfrog_hook(const char *point)
{
    unsigned me = my_worker();
    if (!strcmp(point, "sync.before_help")) {
        if (me == 0 && atomic_load(&lf_f_started) && !atomic_exchange(&lf_once, 1)) {
            /* worker 0 has read f's state (running) and thief; now f ends
             * and its thief publishes x, which is not f's descendant */
            atomic_store(&lf_w0_held, 1);
            wait_flag(&lf_x_published);
        } else if (me != 0 && me != atomic_load(&lf_thief) && atomic_load(&lf_u_started)) {
            wait_flag(&lf_w0_tried); /* index 1's worker: leave x to worker 0 */
        }
    } else if (!strcmp(point, "sync.after_help") && me == 0 && atomic_load(&lf_x_published)) {
        atomic_store(&lf_w0_tried, 1);
    }
}

static int leapfrog_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    (void)state;
    if (index == 1) {
        atomic_store(&lf_idx1, 1);
        wait_flag(&lf_f_started);
        ws_frame *u = ws_frame_new(ctx, lf_u);
        ws_spawn(ctx, u);
        while (!atomic_load(&lf_u_started))
            ws_poll(ctx);
        return ws_sync(ctx, u);
    }
    while (!atomic_load(&lf_idx1))
        ws_poll(ctx); /* hands index 1 to a thief */
    ws_frame *f = ws_frame_new(ctx, lf_f);
    ws_spawn(ctx, f);
    while (!atomic_load(&lf_f_started))
        ws_poll(ctx);
    return ws_sync(ctx, f);
}

Test(races, a_waiting_worker_runs_only_work_of_the_frame_it_waits_for, .timeout = 60)
{
    atomic_store(&lf_thief, UINT32_MAX);
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "leapfrog", 2, 3, leapfrog_run_one, NULL);
    wsrt_test_hook_set(leapfrog_hook);
    cr_assert_eq(test_pool_run(&run, &res), 0);
    wsrt_test_hook_set(NULL);
    cr_assert_eq(res.indices_done, 2);
    cr_assert(atomic_load(&lf_x_worker) != 0);
    cr_expect_neq(atomic_load(&lf_x_worker), 1,
                  "worker 0, waiting for f, ran a task that is not f's descendant");
    free(res.workers);
}

/* ------------------------------------------ 6: a waiting task's message */

static _Atomic int em_c_started, em_g_started;
static _Atomic int em_g_worker;

static int em_g(ws_ctx *ctx, ws_frame *self)
{
    (void)self;
    atomic_store(&em_g_worker, (int)ctx->worker_id + 1);
    atomic_store(&em_g_started, 1);
    return WS_OK;
}

static int em_c(ws_ctx *ctx, ws_frame *self)
{
    (void)self;
    atomic_store(&em_c_started, 1);
    ws_frame *g = ws_frame_new(ctx, em_g);
    ws_spawn(ctx, g);
    while (!atomic_load(&em_g_started))
        ws_poll(ctx); /* worker 0, waiting for us, asks and takes g */
    return ws_sync(ctx, g);
}

static int errmsg_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    (void)state;
    (void)index;
    int rc = ws_fail(ctx, "the message of index 0");
    ws_frame *c = ws_frame_new(ctx, em_c);
    ws_spawn(ctx, c);
    while (!atomic_load(&em_c_started))
        ws_poll(ctx);
    ws_sync(ctx, c);
    return rc;
}

Test(races, a_stolen_task_run_while_waiting_keeps_the_waiters_message, .timeout = 60)
{
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "errmsg", 1, 2, errmsg_run_one, NULL);
    cr_redirect_stderr();
    cr_assert_eq(test_pool_run(&run, &res), 0);
    cr_assert_eq(res.failed, 1);
    cr_assert_eq(atomic_load(&em_g_worker), 1, "g ran on worker 0 while it waited");
    fflush(stderr);
    cr_assert_stderr_eq_str("wsrun: errmsg: index 0 failed (worker 0): the message of index 0\n");
    free(res.workers);
}
