/*
 * test_sched.c - the work-stealing pool: every index runs exactly once for
 * many counts and worker numbers (more workers than cores too); fork-join
 * trees of random shape and 10^5-deep chains give exact results with every
 * task run once, with the implicit calls, the _at calls and both mixed;
 * errors of deep children reach run_one; the _at slow paths publish, take
 * back and re-arm as they should; a failing index stops the run unless
 * keep_going.
 */
#include <criterion/criterion.h>
#include "expect_abort.h"
#include <criterion/redirect.h>
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "stress.h"

static const uint64_t counts[] = {0, 1, 2, 3, 1000, 1000000};
static const unsigned jobs_list[] = {1, 2, 3, 8};

Test(sched, every_index_exactly_once, .timeout = 120)
{
    for (size_t c = 0; c < sizeof counts / sizeof *counts; c++)
        for (size_t j = 0; j < sizeof jobs_list / sizeof *jobs_list; j++)
            cr_assert_eq(pool_count_run(counts[c], jobs_list[j]), 0, "count %llu -j%u",
                         (unsigned long long)counts[c], jobs_list[j]);
}

Test(sched, failing_index_stops_the_run_and_is_counted)
{
    uint64_t n = 2000000;
    count_state s = {calloc(n, 1), 5};
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "count", n, 2, count_run_one, &s);
    cr_redirect_stderr();
    cr_assert_eq(test_pool_run(&run, &res), 0);
    cr_assert_eq(res.failed, 1);
    cr_assert(res.stopped_early);
    cr_assert(res.indices_done < n - 1, "the run stopped early (%llu done)",
              (unsigned long long)res.indices_done);
    cr_assert_eq(atomic_load(&s.hits[5]), 1);
    uint64_t ran = 0;
    for (uint64_t i = 0; i < n; i++) {
        cr_assert(atomic_load(&s.hits[i]) <= 1);
        ran += atomic_load(&s.hits[i]);
    }
    cr_assert_eq(ran, res.indices_done + res.failed);
    fflush(stderr);
    cr_assert_stderr_eq_str("wsrun: count: index 5 failed (worker 0): asked to fail at 5\n");
    free(res.workers);
    free(s.hits);
}

Test(sched, keep_going_runs_everything)
{
    uint64_t n = 100000;
    count_state s = {calloc(n, 1), 777};
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "count", n, 3, count_run_one, &s);
    run.policy.keep_going = 1;
    cr_redirect_stderr();
    cr_assert_eq(test_pool_run(&run, &res), 0);
    cr_assert_eq(res.failed, 1);
    cr_assert_eq(res.indices_done, n - 1);
    for (uint64_t i = 0; i < n; i++)
        cr_assert_eq(atomic_load(&s.hits[i]), 1);
    free(res.workers);
    free(s.hits);
}

Test(sched, retries_rerun_a_failing_index)
{
    count_state s = {calloc(10, 1), 3};
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "count", 10, 1, count_run_one, &s);
    run.policy.retries = 2;
    run.policy.keep_going = 1;
    cr_redirect_stderr();
    cr_assert_eq(test_pool_run(&run, &res), 0);
    cr_assert_eq(atomic_load(&s.hits[3]), 3); /* first try + 2 retries */
    cr_assert_eq(res.failed, 1);
    free(res.workers);
    free(s.hits);
}

/* Index `stop_at` asks its own pool to stop (as a Ctrl-C would), then
 * fails when `fail` is set; every call is counted. */
typedef struct stopper {
    _Atomic unsigned calls[16];
    uint64_t stop_at;
    int fail;
} stopper;

static int stopper_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    stopper *s = state;
    atomic_fetch_add(&s->calls[index], 1);
    if (index != s->stop_at)
        return WS_OK;
    wsrt_pool_request_stop(wsrt_pool_of_caller());
    return s->fail ? ws_fail(ctx, "asked to stop and fail") : WS_OK;
}

/* Issue 23 item 8: a retry is an index started again, and a stopping run
 * starts nothing more. */
Test(sched, no_retries_once_the_run_is_stopping)
{
    stopper s = {.stop_at = 3, .fail = 1};
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "stopper", 10, 1, stopper_run_one, &s);
    run.policy.retries = 3;
    cr_redirect_stderr();
    cr_assert_eq(test_pool_run(&run, &res), 0);
    cr_assert_eq(atomic_load(&s.calls[3]), 1, "index 3 ran %u times", atomic_load(&s.calls[3]));
    cr_assert_eq(res.failed, 1);
    cr_assert(res.stopped_early);
    free(res.workers);
}

/* Issue 23 item 8: a stop that comes while the last index runs leaves
 * nothing not run: the run is complete, not "stopped early"; one that
 * comes earlier is. */
Test(sched, a_stop_after_the_last_index_leaves_a_complete_run)
{
    for (unsigned jobs = 1; jobs <= 2; jobs++) {
        stopper s = {.stop_at = 9};
        ws_run run;
        wsrt_pool_result res;
        test_run_init(&run, "stopper", 10, jobs, stopper_run_one, &s);
        /* -j1 runs every index (9 is the last); at -j2 a split may leave
         * some not run, and then the flag must say so. */
        cr_assert_eq(test_pool_run(&run, &res), 0);
        unsigned ran = 0;
        for (unsigned i = 0; i < 10; i++)
            ran += atomic_load(&s.calls[i]);
        cr_assert_eq(res.indices_done, ran);
        cr_assert_eq(res.stopped_early, ran < 10, "-j%u: %u of 10 ran, stopped_early %d", jobs,
                     ran, res.stopped_early);
        free(res.workers);
    }
    stopper s = {.stop_at = 4};
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "stopper", 10, 1, stopper_run_one, &s);
    cr_assert_eq(test_pool_run(&run, &res), 0);
    cr_assert_eq(res.indices_done, 5);
    cr_assert(res.stopped_early);
    free(res.workers);
}

static int leaf_task(ws_ctx *ctx, ws_frame *self)
{
    (void)ctx;
    self->ret.i = self->arg[0].i * 2;
    return WS_OK;
}

static const char *const api_names[] = {"implicit", "_at", "mixed"};

Test(forkjoin, random_trees_exact_at_1_to_8_workers, .timeout = 240)
{
    cr_assert_eq(forkjoin_trees_every_api(0x5eed, 18, 8, 8), 0);
}

Test(forkjoin, chain_of_depth_100000, .timeout = 240)
{
    unsigned jobs_to_try[] = {1, 2, 4};
    for (unsigned api = TREE_IMPLICIT; api <= TREE_MIXED; api++)
        for (size_t j = 0; j < 3; j++) {
            tree_state t;
            memset(&t, 0, sizeof t);
            t.chain_depth = 100000;
            t.api = api;
            wsrt_pool_result res;
            cr_assert_eq(forkjoin_tree_run(&t, 2, jobs_to_try[j], &res), 0, "%s -j%u",
                         api_names[api], jobs_to_try[j]);
            free(res.workers);
        }
}

Test(forkjoin, deep_child_error_reaches_run_one)
{
    for (unsigned api = TREE_IMPLICIT; api <= TREE_MIXED; api++)
        for (unsigned jobs = 1; jobs <= 4; jobs *= 2) {
            tree_state t;
            memset(&t, 0, sizeof t);
            t.chain_depth = 5000;
            t.api = api;
            /* the id of the node at depth 4000 of the chain under root 1 */
            uint64_t id = 1;
            for (int d = 0; d < 4000; d++)
                id = tree_child_id(id, 0);
            t.fail_node = id;
            wsrt_pool_result res;
            cr_redirect_stderr();
            cr_assert_eq(forkjoin_tree_run(&t, 1, jobs, &res), 0);
            cr_assert_eq(res.failed, 1, "%s -j%u", api_names[api], jobs);
            char want[128];
            snprintf(want, sizeof want, "node %llu at depth 4000 failed", (unsigned long long)id);
            cr_assert_str_eq(t.first_error, want, "%s -j%u", api_names[api], jobs);
            free(res.workers);
        }
}

Test(sched, shard_range_runs_only_its_indices)
{
    uint64_t n = 10000;
    count_state s = {calloc(n, 1), UINT64_MAX};
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "count", n, 2, count_run_one, &s);
    run.ranged = 1;
    run.range_begin = 2500;
    run.range_end = 5000;
    cr_assert_eq(test_pool_run(&run, &res), 0);
    for (uint64_t i = 0; i < n; i++)
        cr_assert_eq(atomic_load(&s.hits[i]), i >= 2500 && i < 5000, "index %llu", (unsigned long long)i);
    cr_assert_eq(res.indices_done, 2500);
    free(res.workers);
    /* an empty shard runs nothing */
    run.range_begin = run.range_end = 0;
    cr_assert_eq(test_pool_run(&run, &res), 0);
    cr_assert_eq(res.indices_done, 0);
    free(res.workers);
    free(s.hits);
}

typedef struct done_log {
    _Atomic uint8_t *done;
    _Atomic uint64_t calls;
} done_log;

static void record_done(void *arg, unsigned worker, uint64_t index)
{
    done_log *d = arg;
    (void)worker;
    atomic_fetch_add(&d->done[index], 1);
    atomic_fetch_add(&d->calls, 1);
}

Test(sched, skip_bits_and_index_done_hook)
{
    uint64_t n = 50000;
    count_state s = {calloc(n, 1), 124};
    uint64_t *skip = calloc((n + 63) / 64, 8);
    for (uint64_t i = 0; i < n; i += 3)
        skip[i / 64] |= 1ull << (i % 64);
    done_log d = {calloc(n, 1), 0};
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "count", n, 3, count_run_one, &s);
    run.policy.keep_going = 1;
    run.hooks.skip_bits = skip;
    run.hooks.index_done = record_done;
    run.hooks.done_arg = &d;
    cr_redirect_stderr();
    cr_assert_eq(test_pool_run(&run, &res), 0);
    for (uint64_t i = 0; i < n; i++) {
        int skipped = i % 3 == 0;
        cr_assert_eq(atomic_load(&s.hits[i]), !skipped, "index %llu", (unsigned long long)i);
        cr_assert_eq(atomic_load(&d.done[i]), !skipped && i != 124, "index %llu", (unsigned long long)i);
    }
    uint64_t ran = n - (n + 2) / 3;
    cr_assert_eq(res.failed, 1);
    cr_assert_eq(res.indices_done, ran - 1);
    cr_assert_eq(atomic_load(&d.calls), ran - 1);
    free(res.workers);
    free(s.hits);
    free(skip);
    free(d.done);
}

typedef struct blocks {
    uint64_t next, n, size;
    unsigned calls;
} blocks;

static int next_block(void *arg, uint64_t *begin, uint64_t *end)
{
    blocks *b = arg;
    if (b->next >= b->n)
        return 0;
    *begin = b->next;
    b->next = b->next + b->size < b->n ? b->next + b->size : b->n;
    *end = b->next;
    b->calls++;
    return 1;
}

Test(sched, next_block_feeds_blocks_until_exhausted)
{
    uint64_t n = 100000;
    count_state s = {calloc(n, 1), UINT64_MAX};
    blocks b = {0, n, 7000, 0};
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "count", n, 2, count_run_one, &s);
    run.hooks.next_block = next_block;
    run.hooks.block_arg = &b;
    cr_assert_eq(test_pool_run(&run, &res), 0);
    cr_assert_eq(b.calls, 15);
    for (uint64_t i = 0; i < n; i++)
        cr_assert_eq(atomic_load(&s.hits[i]), 1);
    cr_assert_eq(res.indices_done, n);
    free(res.workers);
    free(s.hits);
}

Test(sched, trace_spans_cover_every_index_once)
{
    uint64_t n = 300000;
    count_state s = {calloc(n, 1), UINT64_MAX};
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "count", n, 3, count_run_one, &s);
    run.trace = 1;
    cr_assert_eq(test_pool_run(&run, &res), 0);
    cr_assert_not_null(res.traces);
    uint8_t *cover = calloc(n, 1);
    for (unsigned w = 0; w < res.jobs; w++) {
        uint64_t last_t1 = 0;
        for (size_t e = 0; e < res.traces[w].n; e++) {
            wsrt_trace_event *ev = &res.traces[w].events[e];
            cr_assert(ev->t1_ns >= ev->t0_ns);
            if (ev->kind != WSRT_TRACE_RANGE)
                continue;
            /* spans of one worker never overlap: a range frame's span ends
             * before the split halves it syncs afterwards start */
            cr_assert(ev->t0_ns >= last_t1, "worker %u: span %zu overlaps the previous one", w, e);
            last_t1 = ev->t1_ns;
            for (uint64_t i = ev->a; i < ev->b; i++)
                cover[i]++;
        }
        free(res.traces[w].events);
    }
    for (uint64_t i = 0; i < n; i++)
        cr_assert_eq(cover[i], 1, "index %llu covered %u times", (unsigned long long)i, cover[i]);
    free(res.traces);
    free(cover);
    free(res.workers);
    free(s.hits);
}

Test(forkjoin, explicit_top_fast_path_exact_at_1_to_8_workers, .timeout = 120)
{
    for (unsigned jobs = 1; jobs <= 8; jobs++) {
        cr_assert_eq(fib_check(24, 4, jobs, 0), 0, "ABI 1.0 calls -j%u", jobs);
        cr_assert_eq(fib_check(24, 4, jobs, 1), 0, "_at calls -j%u", jobs);
    }
}

/* ws_poll_at with a thief's request pending publishes the private frame
 * below its top and re-arms the trigger; the child then cannot be popped,
 * and ws_join_at runs it here (nobody stole it) and leaves ctx's record of
 * the top where it was. */
static int at_probe_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    int *checks = state;
    (void)index;
    ws_frame *top = ws_frame_top(ctx);
    ws_frame *f = ws_frame_at(ctx, top, leaf_task);
    f->arg[0].i = 21;
    ws_spawn_at(ctx, f);
    if (ctx->fj_pub <= f && atomic_load(&ctx->fj_trigger) == (uintptr_t)ctx->fj_limit)
        checks[0]++; /* private, trigger armed at the limit */
    wsrt_attention_raise(ctx, WSRT_ATTN_REQUEST);
    if (atomic_load(&ctx->fj_trigger) == 0)
        checks[1]++; /* the request fired the trigger */
    ws_poll_at(ctx, top + 1);
    if (ctx->fj_pub > f && !(atomic_load(&ctx->attention) & WSRT_ATTN_REQUEST) &&
        atomic_load(&ctx->fj_trigger) == (uintptr_t)ctx->fj_limit && ws_frame_top(ctx) == top)
        checks[2]++; /* published, request served, trigger re-armed, top unchanged */
    if (!ws_pop_at(ctx, f) && ws_join_at(ctx, f) == WS_OK && f->ret.i == 42 &&
        ws_frame_top(ctx) == top && ctx->fj_pub == f)
        checks[3]++;
    return WS_OK;
}

Test(forkjoin, poll_at_publishes_and_join_at_takes_back)
{
    int checks[4] = {0, 0, 0, 0};
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "probe", 1, 1, at_probe_run_one, checks);
    cr_assert_eq(test_pool_run(&run, &res), 0);
    cr_assert_eq(res.failed, 0);
    cr_assert_eq(checks[0], 1, "a fresh spawn was not private, or the trigger not at the limit");
    cr_assert_eq(checks[1], 1, "a thief's request did not fire the trigger");
    cr_assert_eq(checks[2], 1, "ws_poll_at did not publish, clear and re-arm");
    cr_assert_eq(checks[3], 1, "ws_join_at of a published, unstolen frame went wrong");
    free(res.workers);
}

/* Spawning past the frame stack's end hits the spare frame and stops the
 * process with a message, rather than writing past the stack. */
static int overflow_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    (void)state;
    (void)index;
    ws_frame *top = ws_frame_top(ctx);
    for (size_t i = 0;; i++) {
        ws_frame *f = ws_frame_at(ctx, top + i, leaf_task);
        ws_spawn_at(ctx, f);
    }
    return WS_OK;
}

static void spawn_past_the_frame_stack(void *arg)
{
    (void)arg;
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "deep", 1, 1, overflow_run_one, NULL);
    test_pool_run(&run, &res);
}

static void spawn_off_a_worker_thread(void *arg)
{
    (void)arg;
    ws_run run;
    test_run_init(&run, "main", 1, 1, overflow_run_one, NULL);
    wsrt_ctx_base base;
    wsrt_ctx_base_init(&base, &run, UINT32_MAX);
    ws_frame *f = ws_frame_new(&base.ctx, leaf_task);
    ws_spawn(&base.ctx, f);
}

Test(forkjoin, spawning_past_the_frame_stack_aborts)
{
    expect_abort_saying(spawn_past_the_frame_stack, NULL,
                        "wsrun: deep: fork-join nesting deeper than 262144 frames on worker 0 (wsrun --stack SIZE gives SIZE/256 frames)");
}

Test(forkjoin, spawning_off_a_worker_thread_aborts)
{
    expect_abort_saying(spawn_off_a_worker_thread, NULL,
                        "wsrun: main: fork-join (ws_spawn) is only possible in run_one and its "
                        "tasks, not in init or finish");
}

/* A thief's request must survive a ws_poll that has nothing to publish
 * (so the enclosing index loop can split its range), and must be served
 * and cleared when there is a private frame to publish. */
static int request_probe_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    int *checks = state;
    (void)index;
    wsrt_attention_raise(ctx, WSRT_ATTN_REQUEST);
    ws_poll(ctx);
    if (atomic_load(&ctx->attention) & WSRT_ATTN_REQUEST)
        checks[0]++; /* kept: nothing to publish */
    ws_frame *f = ws_frame_new(ctx, leaf_task);
    f->arg[0].i = 21;
    ws_spawn(ctx, f); /* the pending request publishes f */
    if (!(atomic_load(&ctx->attention) & WSRT_ATTN_REQUEST) && ctx->fj_pub > f)
        checks[1]++; /* served: f was published and the request cleared */
    if (ws_sync(ctx, f) == WS_OK && f->ret.i == 42)
        checks[2]++; /* taken back from the deque and run here */
    return WS_OK;
}

Test(sched, request_kept_until_something_is_published)
{
    int checks[3] = {0, 0, 0};
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "probe", 1, 1, request_probe_run_one, checks);
    cr_assert_eq(test_pool_run(&run, &res), 0);
    cr_assert_eq(checks[0], 1, "a ws_poll with nothing to publish swallowed the request");
    cr_assert_eq(checks[1], 1, "a pending request did not publish the new frame");
    cr_assert_eq(checks[2], 1, "the published frame did not run on sync");
    free(res.workers);
}

static int fail_every_seventh(void *state, uint64_t index, ws_ctx *ctx)
{
    (void)state;
    if (index % 7 == 0)
        return ws_fail(ctx, "seventh %llu", (unsigned long long)index);
    return WS_OK;
}

Test(sched, keep_going_reports_the_lowest_twenty_at_the_end)
{
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "sev", 7000, 3, fail_every_seventh, NULL);
    run.policy.keep_going = 1;
    cr_redirect_stderr();
    cr_assert_eq(test_pool_run(&run, &res), 0);
    cr_assert_eq(res.failed, 1000);
    fflush(stderr);
    FILE *err = cr_get_redirected_stderr();
    char line[512];
    unsigned n = 0;
    while (fgets(line, sizeof line, err)) {
        char want[128];
        snprintf(want, sizeof want, "wsrun: sev: index %u failed (worker ", n * 7);
        cr_assert(strncmp(line, want, strlen(want)) == 0, "line %u: %s", n, line);
        snprintf(want, sizeof want, "): seventh %u\n", n * 7);
        cr_assert(strstr(line, want), "line %u: %s", n, line);
        n++;
    }
    cr_assert_eq(n, 20);
    free(res.workers);
}

/* A long run_one that polls gives the rest of its range away: worker 1
 * starts looking for work only once index 0 is running on worker 0, so
 * index 1 can reach it only through a split made inside run_one. */
typedef struct handover {
    _Atomic int started, index1_done;
    _Atomic unsigned index1_worker;
    _Atomic int timed_out;
} handover;

static double secs_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int handover_worker_init(void *state, ws_ctx *ctx)
{
    handover *h = state;
    double t0 = secs_now();
    if (ctx->worker_id == 1)
        while (!atomic_load(&h->started) && secs_now() - t0 < 20)
            sched_yield();
    return WS_OK;
}

static int handover_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    handover *h = state;
    if (index == 0) {
        atomic_store(&h->started, 1);
        double t0 = secs_now();
        while (!atomic_load(&h->index1_done)) {
            ws_poll(ctx);
            if (secs_now() - t0 > 20) {
                atomic_store(&h->timed_out, 1);
                break;
            }
        }
    } else if (index == 1) {
        atomic_store(&h->index1_worker, ctx->worker_id);
        atomic_store(&h->index1_done, 1);
    }
    return WS_OK;
}

Test(sched, polling_run_one_hands_the_rest_of_its_range_to_a_thief, .timeout = 60)
{
    handover h;
    memset(&h, 0, sizeof h);
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "handover", 2, 2, handover_run_one, &h);
    run.desc.worker_init = handover_worker_init;
    cr_assert_eq(test_pool_run(&run, &res), 0);
    cr_assert_not(atomic_load(&h.timed_out), "index 1 never ran while index 0 polled");
    cr_assert_eq(atomic_load(&h.index1_worker), 1);
    cr_assert_eq(res.indices_done, 2);
    free(res.workers);
}

Test(sched, stop_requested_before_the_pool_starts_runs_nothing)
{
    uint64_t n = 1000;
    count_state s = {calloc(n, 1), UINT64_MAX};
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "count", n, 2, count_run_one, &s);
    wsrt_pool *pool = wsrt_pool_create(2);
    cr_assert_not_null(pool);
    wsrt_pool_request_stop(pool); /* no run yet: as an interrupt right after init */
    cr_assert_eq(wsrt_pool_run(pool, &run, &res), 0);
    cr_assert(res.stopped_early);
    cr_assert_eq(res.indices_done, 0);
    for (uint64_t i = 0; i < n; i++)
        cr_assert_eq(atomic_load(&s.hits[i]), 0);
    free(res.workers);
    /* the request was used up: the next run runs everything */
    cr_assert_eq(wsrt_pool_run(pool, &run, &res), 0);
    cr_assert_eq(res.indices_done, n);
    free(res.workers);
    wsrt_pool_destroy(pool);
    free(s.hits);
}

/* Workers start on one CPU each (a placement hint) but must not stay
 * pinned: every worker's thread ends up with all the process's CPUs. */
static int affinity_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    _Atomic int *narrow = state;
    (void)index;
    (void)ctx;
    cpu_set_t mine, process;
    if (pthread_getaffinity_np(pthread_self(), sizeof mine, &mine) != 0 ||
        sched_getaffinity(getpid(), sizeof process, &process) != 0 || /* the main thread's */
        !CPU_EQUAL(&mine, &process))
        atomic_fetch_add(narrow, 1);
    return WS_OK;
}

/* Worker 0 runs on the thread that called wsrt_pool_run (except in
 * sanitizer builds, see runtime/sched/own_stack.c); every other worker on a
 * thread of its own.  Records which thread ran each worker's first index. */
typedef struct thread_probe {
    pthread_t caller;
    _Atomic int worker0_on_caller, others_on_caller, calls;
} thread_probe;

static int thread_probe_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    thread_probe *p = state;
    (void)index;
    int on_caller = pthread_equal(pthread_self(), p->caller) != 0;
    if (ctx->worker_id == 0)
        atomic_store(&p->worker0_on_caller, on_caller);
    else if (on_caller)
        atomic_fetch_add(&p->others_on_caller, 1);
    atomic_fetch_add(&p->calls, 1);
    return WS_OK;
}

Test(sched, worker_0_runs_on_the_caller_and_reap_joins_the_rest)
{
    unsigned before = test_threads_of_process();
    cr_assert_gt(before, 0);
    for (unsigned jobs = 1; jobs <= 8; jobs++) {
        thread_probe probe = {.caller = pthread_self()};
        ws_run run;
        wsrt_pool_result res;
        test_run_init(&run, "threads", 5000, jobs, thread_probe_run_one, &probe);
        wsrt_pool *pool = wsrt_pool_create(jobs);
        cr_assert_not_null(pool);
        cr_assert_eq(wsrt_pool_run(pool, &run, &res), 0);
        cr_assert_eq(atomic_load(&probe.calls), 5000);
        cr_assert_eq(res.indices_done, 5000);
        cr_assert_eq(atomic_load(&probe.others_on_caller), 0, "-j%u: a worker other than 0 ran on the caller",
                     jobs);
#ifndef WSTEST_SANITIZED
        cr_assert(atomic_load(&probe.worker0_on_caller), "-j%u: worker 0 ran on another thread", jobs);
#endif
        free(res.workers);
        wsrt_pool_reap(pool);
        unsigned now = test_threads_settle(before);
        cr_assert_eq(now, before, "-j%u: %u threads after wsrt_pool_reap, %u before", jobs, now, before);
        wsrt_pool_destroy(pool);
    }
}

/* wsrt_pool_create starts the workers' threads ahead of the run (runtime/
 * standby.h).  The run must hand each worker it prepared for to one of
 * them, start threads only for the rest, and wsrt_pool_reap must end the
 * ones no run used, whether they still spin, sleep, or are starting. */
typedef struct tid_probe {
    _Atomic pid_t tid[16];
} tid_probe;

static int tid_probe_worker_init(void *state, ws_ctx *ctx)
{
    tid_probe *p = state;
    atomic_store(&p->tid[ctx->worker_id], (pid_t)syscall(SYS_gettid));
    return WS_OK;
}

static int nothing_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    (void)state;
    (void)index;
    (void)ctx;
    return WS_OK;
}

/* The ids of this process's threads; returns how many (at most cap). */
static unsigned thread_ids(pid_t *ids, unsigned cap)
{
    unsigned n = 0;
    DIR *d = opendir("/proc/self/task");
    for (struct dirent *e; d && (e = readdir(d)) && n < cap;)
        if (e->d_name[0] != '.')
            ids[n++] = (pid_t)atoi(e->d_name);
    if (d)
        closedir(d);
    return n;
}

static int has_id(const pid_t *ids, unsigned n, pid_t id)
{
    for (unsigned i = 0; i < n; i++)
        if (ids[i] == id)
            return 1;
    return 0;
}

/* Prepared threads start one another (pool_util.h). */
#define wait_for_threads test_threads_settle

Test(sched, prepared_threads_run_the_workers_and_reap_ends_the_rest)
{
    unsigned before = test_threads_of_process();
    /* prepared, jobs, nap: 1 = let them fall asleep first (past the spin) */
    static const unsigned cases[][3] = {{4, 4, 0}, {4, 2, 0}, {2, 5, 0}, {8, 8, 1}, {3, 3, 1}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        unsigned prepared = cases[c][0], jobs = cases[c][1];
        wsrt_pool *pool = wsrt_pool_create(prepared);
        cr_assert_not_null(pool);
        cr_assert_eq(wait_for_threads(before + prepared - 1), before + prepared - 1,
                     "prepare(%u): %u threads, %u before", prepared, test_threads_of_process(), before);
        pid_t ids[64];
        unsigned n = thread_ids(ids, 64);
        if (cases[c][2])
            nanosleep(&(struct timespec){0, 20000000}, NULL);
        tid_probe probe;
        memset(&probe, 0, sizeof probe);
        ws_run run;
        wsrt_pool_result res;
        test_run_init(&run, "prepared", 1000, jobs, nothing_run_one, &probe);
        run.desc.worker_init = tid_probe_worker_init;
        cr_assert_eq(wsrt_pool_run(pool, &run, &res), 0);
        cr_assert_eq(res.indices_done, 1000);
        for (unsigned w = 1; w < jobs; w++) {
            pid_t tid = atomic_load(&probe.tid[w]);
            cr_assert_neq(tid, 0, "worker %u never started", w);
            if (w < prepared)
                cr_assert(has_id(ids, n, tid), "prepare(%u) -j%u: worker %u ran on a new thread",
                          prepared, jobs, w);
            else
                cr_assert_not(has_id(ids, n, tid),
                              "prepare(%u) -j%u: worker %u ran on a thread prepared for none",
                              prepared, jobs, w);
        }
        free(res.workers);
        wsrt_pool_reap(pool);
        unsigned now = test_threads_settle(before);
        cr_assert_eq(now, before, "prepare(%u) -j%u: %u threads after reap, %u before", prepared, jobs,
                     now, before);
        wsrt_pool_destroy(pool);
    }
    for (int k = 0; k < 3; k++) { /* no run comes: ended at once, or after they slept */
        wsrt_pool *pool = wsrt_pool_create(6);
        cr_assert_not_null(pool);
        if (k == 2)
            nanosleep(&(struct timespec){0, 20000000}, NULL);
        wsrt_pool_destroy(pool);
        unsigned now = test_threads_settle(before);
        cr_assert_eq(now, before, "prepare(6), no run: %u threads after reap, %u before", now, before);
    }
}

/* A worker thread that cannot start (here: no address space left for its
 * stack, as under a `ulimit -v`) stops the run, and wsrt_pool_run returns
 * -1 printing nothing (issue 23: up to jobs/2+1 threads fail at once, and
 * one line per thread, in no order, buried the cause); the result says
 * how many workers started and why, and wsrt_pool_start_error words it as
 * one line naming the reservation against the limit.  With threads
 * prepared ahead, the prepared one fails quietly and the run's own
 * attempt counts. */
static unsigned long long vm_size_bytes(void)
{
    unsigned long long kb = 0;
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %llu kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb * 1024;
}

static void thread_start_fails(int prepared, unsigned abi_minor, const char *want)
{
#ifdef WSTEST_SANITIZED
    (void)prepared;
    (void)abi_minor;
    (void)want;
    (void)vm_size_bytes;
    cr_skip_test("sanitizers reserve terabytes of address space: no RLIMIT_AS fits");
#else
    unsigned long long now = vm_size_bytes(), mib = 1ull << 20;
    cr_assert_gt(now, 0);
    /* Room for two workers' frame stacks and worker 0's stack (where it
     * runs on the caller: ABI 1.2 on), not for a thread's stack on top. */
    unsigned long long frames =
        (WSRT_WORKER_STACK_BYTES / WSRT_FRAME_STACK_SHARE / sizeof(ws_frame) + 1) * sizeof(ws_frame);
    unsigned long long splits = (1ull << 16) * sizeof(ws_frame); /* sched_internal.h */
    unsigned long long own = abi_minor >= 2 ? WSRT_WORKER_STACK_BYTES : 0;
    /* 16 MiB of slack for the run's small allocations: less than a
     * thread's stack (WSRT_WORKER_STACK_BYTES), which must not fit. */
    struct rlimit lim = {now + 2 * (frames + splits) + own + 16 * mib, RLIM_INFINITY};
    lim.rlim_max = lim.rlim_cur;
    cr_assert_eq(setrlimit(RLIMIT_AS, &lim), 0);
    cr_redirect_stderr();
    /* A pool for one worker starts no thread ahead: the run's own start
     * of worker 1's thread is the one that fails. */
    wsrt_pool *pool = wsrt_pool_create(prepared ? 2 : 1);
    cr_assert_not_null(pool);
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "nostart", 1000, 2, nothing_run_one, NULL);
    run.desc.abi_minor = abi_minor;
    cr_assert_eq(wsrt_pool_run(pool, &run, &res), -1);
    cr_assert(res.start_failed);
    char line[512];
    wsrt_pool_start_error(&res, line, sizeof line);
    cr_assert_eq(strncmp(line, want, strlen(want)), 0, "want '%s...', got: %s", want, line);
    cr_assert_not_null(strstr(line, "against the address-space limit (ulimit -v) of "), "%s",
                       line);
    free(res.workers);
    wsrt_pool_destroy(pool);
    fflush(stderr);
    char buf[512] = "";
    FILE *err = cr_get_redirected_stderr();
    size_t n = fread(buf, 1, sizeof buf - 1, err);
    buf[n] = '\0';
    cr_assert_eq(n, 0, "the pool printed: %s", buf);
#endif
}

Test(sched, a_worker_thread_that_cannot_start_fails_the_run)
{
    thread_start_fails(0, WS_ABI_MINOR, "only 1 of 2 workers could start (");
}

Test(sched, a_prepared_thread_that_cannot_start_is_started_again_and_reported)
{
    thread_start_fails(1, WS_ABI_MINOR, "only 1 of 2 workers could start (");
}

/* An ABI 1.1 plugin's worker 0 needs a thread of its own; when that one
 * cannot start, no other was started either (worker 0 starts worker 1). */
Test(sched, worker_0s_own_thread_that_cannot_start_fails_the_run)
{
    thread_start_fails(0, 1, "only 0 of 2 workers could start (");
}

/* A plugin built for ABI 1.1 was promised threads of their own for all
 * its workers: worker 0 must not run on the caller. */
Test(sched, worker_0_of_an_abi_1_1_plugin_has_its_own_thread)
{
    for (unsigned jobs = 1; jobs <= 3; jobs++) {
        thread_probe probe = {.caller = pthread_self()};
        ws_run run;
        wsrt_pool_result res;
        test_run_init(&run, "abi11", 1000, jobs, thread_probe_run_one, &probe);
        run.desc.abi_minor = 1;
        cr_assert_eq(test_pool_run(&run, &res), 0);
        cr_assert_eq(atomic_load(&probe.calls), 1000);
        cr_assert_not(atomic_load(&probe.worker0_on_caller), "-j%u: worker 0 ran on the caller",
                      jobs);
        cr_assert_eq(atomic_load(&probe.others_on_caller), 0);
        free(res.workers);
    }
}

/* A plugin may pin its workers; worker 0's pin must not outlive the run on
 * the caller's thread (where worker 0 runs). */
static int pin_self_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    (void)state;
    (void)index;
    (void)ctx;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    pthread_setaffinity_np(pthread_self(), sizeof one, &one);
    return WS_OK;
}

Test(sched, caller_gets_its_affinity_back)
{
    cpu_set_t before, after;
    cr_assert_eq(pthread_getaffinity_np(pthread_self(), sizeof before, &before), 0);
    if (CPU_COUNT(&before) < 2)
        cr_skip_test("one CPU allowed: pinning changes nothing");
    for (unsigned jobs = 1; jobs <= 2; jobs++) {
        ws_run run;
        wsrt_pool_result res;
        test_run_init(&run, "pin", 100, jobs, pin_self_run_one, NULL);
        cr_assert_eq(test_pool_run(&run, &res), 0);
        free(res.workers);
        cr_assert_eq(pthread_getaffinity_np(pthread_self(), sizeof after, &after), 0);
        cr_assert(CPU_EQUAL(&before, &after), "-j%u: the caller has %d CPUs after the run, %d before",
                  jobs, CPU_COUNT(&after), CPU_COUNT(&before));
    }
}

Test(sched, workers_are_not_left_pinned)
{
    _Atomic int narrow = 0;
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "affinity", 10000, 3, affinity_run_one, &narrow);
    cr_assert_eq(test_pool_run(&run, &res), 0);
    cr_assert_eq(res.indices_done, 10000);
    cr_assert_eq(atomic_load(&narrow), 0, "%d indices ran on a thread with fewer CPUs than the process",
                 atomic_load(&narrow));
    free(res.workers);
}
