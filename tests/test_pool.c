/*
 * test_pool.c - the pool as an object (runtime/sched/pool.h): two pools in one
 * process run at the same time on two threads without touching each
 * other (indices, counts, stops), a stop asked before a run is that
 * pool's alone and is used up, creating and destroying pools leaves no
 * thread behind, and an owner-only call from another thread trips the
 * test build's invariant check.  The runs meet at flags, never at times.
 * Must never leave a pool or a thread behind a test.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <sched.h>

#include "expect_abort.h"
#include "stress.h"

static void wait_flag(_Atomic int *flag)
{
    while (!atomic_load(flag))
        sched_yield();
}

/* ------------------------------------------- two pools at the same time */

/* One of two runs that meet: index 0 (worker 0's first, the root range
 * starts there) says this run has started and waits until the other's
 * has, so both runs are inside their pools at once.  With `stop_self`,
 * index 0 then stops its own pool and tells the other, whose index 0
 * waits for that, so the stop lands while the other run is running. */
typedef struct meeting_run {
    _Atomic uint8_t *hits;
    _Atomic int started;
    _Atomic int *other_started;
    int stop_self;
    _Atomic int *stopped;       /* set by the run that stops itself */
    wsrt_pool *pool;            /* its own pool */
    uint64_t count;
    unsigned jobs;
    wsrt_pool_result res;
    int rc;
    pid_t caller_tid, index0_tid; /* the thread that ran the pool; that ran index 0 */
} meeting_run;

static int meeting_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    (void)ctx;
    meeting_run *m = state;
    if (index == 0) {
        m->index0_tid = gettid(); /* read after the run, which joins it */
        atomic_store(&m->started, 1);
        wait_flag(m->other_started);
        if (m->stop_self) {
            wsrt_pool_request_stop(m->pool);
            atomic_store(m->stopped, 1);
        } else {
            wait_flag(m->stopped); /* the other pool stopped while we run */
        }
    }
    atomic_fetch_add(&m->hits[index], 1);
    return WS_OK;
}

static void *meeting_thread(void *arg)
{
    meeting_run *m = arg;
    ws_run run;
    test_run_init(&run, "meeting", m->count, m->jobs, meeting_run_one, m);
    m->caller_tid = gettid();
    m->rc = wsrt_pool_run(m->pool, &run, &m->res);
    return NULL;
}

static void run_two_pools(int a_stops)
{
    const uint64_t n = 200000;
    _Atomic int stopped = !a_stops; /* nobody stops: released at once */
    meeting_run a = {.count = n, .jobs = 2, .stop_self = a_stops, .stopped = &stopped};
    meeting_run b = {.count = n, .jobs = 3, .stopped = &stopped};
    a.hits = calloc(n, 1);
    b.hits = calloc(n, 1);
    a.other_started = &b.started;
    b.other_started = &a.started;
    a.pool = wsrt_pool_create(a.jobs);
    b.pool = wsrt_pool_create(b.jobs);
    cr_assert(a.hits && b.hits && a.pool && b.pool);
    pthread_t ta, tb;
    cr_assert_eq(pthread_create(&ta, NULL, meeting_thread, &a), 0);
    cr_assert_eq(pthread_create(&tb, NULL, meeting_thread, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    cr_assert_eq(a.rc, 0);
    cr_assert_eq(b.rc, 0);
#ifndef WSTEST_SANITIZED
    /* Each pool has a deep stack of its own for worker 0 (own_stack.h), so
     * both runs, at once, ran worker 0 (index 0) on their calling thread. */
    cr_assert_eq(a.index0_tid, a.caller_tid, "pool a's worker 0 was not on its caller's thread");
    cr_assert_eq(b.index0_tid, b.caller_tid, "pool b's worker 0 was not on its caller's thread");
#endif

    /* b: never stopped, every index exactly once. */
    for (uint64_t i = 0; i < n; i++)
        cr_assert_eq(atomic_load(&b.hits[i]), 1, "pool b: index %llu ran %u times",
                     (unsigned long long)i, (unsigned)atomic_load(&b.hits[i]));
    cr_assert_eq(b.res.indices_done, n);
    cr_assert_eq(b.res.jobs, 3);
    cr_assert_not(b.res.stopped_early, "pool b stopped with pool a");

    /* a: at most once each; its result counts what ran. */
    uint64_t ran = 0;
    for (uint64_t i = 0; i < n; i++) {
        cr_assert_leq(atomic_load(&a.hits[i]), 1, "pool a: index %llu ran twice",
                      (unsigned long long)i);
        ran += atomic_load(&a.hits[i]);
    }
    cr_assert_eq(a.res.indices_done, ran);
    cr_assert_eq(a.res.jobs, 2);
    if (a_stops) {
        cr_assert(a.res.stopped_early);
        cr_assert_lt(ran, n, "pool a ran everything although stopped at index 0");
    } else {
        cr_assert_eq(ran, n);
        cr_assert_not(a.res.stopped_early);
    }

    /* The stop was a's run's: its next run runs everything. */
    cr_assert_eq(pool_count_run_on(a.pool, 1000, 2), 0);
    cr_assert_eq(pool_count_run_on(b.pool, 1000, 3), 0);
    free(a.res.workers);
    free(b.res.workers);
    wsrt_pool_destroy(a.pool);
    wsrt_pool_destroy(b.pool);
    free(a.hits);
    free(b.hits);
}

Test(pool, two_pools_run_at_once_each_index_once_per_pool, .timeout = 120)
{
    run_two_pools(0);
}

Test(pool, a_stop_of_one_pool_leaves_the_other_running, .timeout = 120)
{
    run_two_pools(1);
}

/* ------------------------------------------------ stops before a run */

Test(pool, a_stop_before_the_run_stops_that_pools_next_run_once)
{
    wsrt_pool *a = wsrt_pool_create(2), *b = wsrt_pool_create(2);
    cr_assert(a && b);
    wsrt_pool_request_stop(a); /* no run yet */
    /* b knows nothing of it. */
    cr_assert_eq(pool_count_run_on(b, 1000, 2), 0, "pool b's run was stopped");

    uint64_t n = 1000;
    count_state s = {calloc(n, 1), UINT64_MAX};
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "count", n, 2, count_run_one, &s);
    cr_assert_eq(wsrt_pool_run(a, &run, &res), 0);
    cr_assert(res.stopped_early);
    cr_assert_eq(res.indices_done, 0);
    for (uint64_t i = 0; i < n; i++)
        cr_assert_eq(atomic_load(&s.hits[i]), 0);
    free(res.workers);
    free(s.hits);
    /* Used up: the next run of a runs everything. */
    cr_assert_eq(pool_count_run_on(a, 1000, 2), 0, "the stop outlived the run it was for");
    wsrt_pool_destroy(a);
    wsrt_pool_destroy(b);
}

Test(pool, progress_and_busy_read_zero_between_runs)
{
    wsrt_pool *p = wsrt_pool_create(2);
    cr_assert_not_null(p);
    cr_assert_eq(wsrt_pool_progress(p), 0);
    cr_assert_eq(wsrt_pool_busy_workers(p), 0);
    cr_assert_eq(pool_count_run_on(p, 5000, 2), 0);
    cr_assert_eq(wsrt_pool_progress(p), 0, "a reader saw an ended run's workers");
    cr_assert_eq(wsrt_pool_busy_workers(p), 0);
    wsrt_pool_destroy(p);
    cr_assert_eq(wsrt_pool_progress(NULL), 0);
    wsrt_pool_request_stop(NULL); /* nothing to stop */
}

/* ------------------------------------------------ threads and lifetime */

Test(pool, create_and_destroy_leave_no_thread)
{
    unsigned before = test_threads_of_process();
    for (int k = 0; k < 50; k++) {
        wsrt_pool *p = wsrt_pool_create(1 + (unsigned)k % 6);
        cr_assert_not_null(p, "create %d", k);
        if (k % 5 == 4) /* some with a run, most without */
            cr_assert_eq(pool_count_run_on(p, 100, 1 + (unsigned)k % 4), 0);
        wsrt_pool_destroy(p);
        unsigned now = test_threads_settle(before);
        cr_assert_eq(now, before, "after destroy %d: %u threads, %u before", k, now, before);
    }
    wsrt_pool_destroy(NULL);
}

Test(pool, destroy_with_no_run)
{
    unsigned before = test_threads_of_process();
    wsrt_pool *p = wsrt_pool_create(4);
    cr_assert_not_null(p);
    wsrt_pool_reap(p); /* ends the threads started ahead */
    cr_assert_eq(test_threads_settle(before), before);
    cr_assert_eq(pool_count_run_on(p, 1000, 4), 0, "a reaped pool runs with threads of its own");
    wsrt_pool_destroy(p);
    cr_assert_eq(test_threads_settle(before), before);
}

/* ------------------------------------------------ invariant checks */

/* An owner-only call (ws_poll's slow path publishes the caller's frames
 * on its deque) made with a worker's ctx from another thread. */
static void *attend_elsewhere(void *ctx)
{
    ws__attend(ctx);
    return NULL;
}

static int foreign_attend_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    (void)state;
    if (index == 0) {
        pthread_t t;
        pthread_create(&t, NULL, attend_elsewhere, ctx);
        pthread_join(t, NULL); /* not reached: the check aborts */
    }
    return WS_OK;
}

static void run_foreign_attend(void *arg)
{
    (void)arg;
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "foreign", 10, 1, foreign_attend_run_one, NULL);
    (void)test_pool_run(&run, &res);
}

Test(pool, an_owner_only_call_from_another_thread_fails_its_check)
{
    expect_abort_saying(run_foreign_attend, NULL,
                        "invariant failed: wsrt_this_worker == w");
}
