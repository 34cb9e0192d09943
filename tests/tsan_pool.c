/*
 * tsan_pool.c - two pool objects under ThreadSanitizer (standalone:
 * Criterion does not start under TSan here): each runs rounds of its own
 * on a thread of its own, at the same time, while a third thread polls
 * both pools' progress and busy workers, and the registry's, and keeps
 * asking pool A (registered, as wsrun's is) to stop.  Pool B is never
 * stopped: every index of its runs exactly once.  A's runs may stop
 * early: no index twice, and each result counts what ran.  Non-zero exit
 * on any failure.  Must never destroy a pool while the poller may read it.
 */
#include <pthread.h>
#include <sched.h>

#include "pool_registry.h"
#include "stress.h"

#define ROUNDS 12
#define COUNT 20000

typedef struct pool_runner {
    wsrt_pool *pool;
    unsigned jobs;
    int may_stop;
    int bad;
} pool_runner;

static _Atomic int runners_done;

static void *runner(void *arg)
{
    pool_runner *r = arg;
    for (int round = 0; round < ROUNDS; round++) {
        count_state s = {calloc(COUNT, 1), UINT64_MAX};
        ws_run run;
        wsrt_pool_result res;
        test_run_init(&run, "tsan_pool", COUNT, r->jobs, count_run_one, &s);
        if (!s.hits || wsrt_pool_run(r->pool, &run, &res) != 0) {
            r->bad++;
            free(s.hits);
            continue;
        }
        uint64_t ran = 0;
        for (uint64_t i = 0; i < COUNT; i++) {
            unsigned h = atomic_load(&s.hits[i]);
            if (h > 1 || (!r->may_stop && h != 1)) {
                fprintf(stderr, "tsan_pool: -j%u round %d: index %llu ran %u times\n", r->jobs,
                        round, (unsigned long long)i, h);
                r->bad++;
                break;
            }
            ran += h;
        }
        if (res.indices_done != ran || (!r->may_stop && res.stopped_early)) {
            fprintf(stderr, "tsan_pool: -j%u round %d: %llu ran, %llu done, stopped %d\n", r->jobs,
                    round, (unsigned long long)ran, (unsigned long long)res.indices_done,
                    res.stopped_early);
            r->bad++;
        }
        free(res.workers);
        free(s.hits);
    }
    atomic_fetch_add(&runners_done, 1);
    return NULL;
}

typedef struct poller_args {
    wsrt_pool *a, *b;
} poller_args;

static void *poller(void *arg)
{
    poller_args *p = arg;
    uint64_t sum = 0;
    for (unsigned k = 0; atomic_load(&runners_done) < 2; k++) {
        sum += wsrt_pool_progress(p->a) + wsrt_pool_progress(p->b);
        sum += wsrt_pool_busy_workers(p->a) + wsrt_pool_busy_workers(p->b);
        sum += wsrt_registry_progress() + wsrt_registry_busy_workers();
        if (k % 64 == 0)
            wsrt_registry_request_stop(); /* pool A: registered */
        if (k % 97 == 0)
            wsrt_pool_request_stop(p->a);
        sched_yield();
    }
    return (void *)(uintptr_t)(sum & 1); /* keep the reads */
}

int main(void)
{
    pool_runner a = {wsrt_pool_create(2), 2, 1, 0};
    pool_runner b = {wsrt_pool_create(3), 3, 0, 0};
    if (!a.pool || !b.pool || wsrt_registry_register(a.pool) != 0) {
        fprintf(stderr, "tsan_pool: cannot create the pools\n");
        return 1;
    }
    poller_args pa = {a.pool, b.pool};
    pthread_t ta, tb, tp;
    pthread_create(&tp, NULL, poller, &pa);
    pthread_create(&ta, NULL, runner, &a);
    pthread_create(&tb, NULL, runner, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_join(tp, NULL); /* no reader of the pools is left */
    int bad = a.bad + b.bad;
    if (wsrt_registry_unregister() != a.pool) {
        fprintf(stderr, "tsan_pool: the registry lost pool A\n");
        bad++;
    }
    wsrt_pool_destroy(a.pool);
    wsrt_pool_destroy(b.pool);
    printf("tsan_pool: %s\n", bad ? "FAILED" : "ok");
    return bad != 0;
}
