/*
 * tsan_embed.c - the embedding API (wsrun_embed.h) under ThreadSanitizer
 * (standalone: Criterion does not start under TSan here): ws_pool_for with
 * fork-join inside runs every index exactly once with exact sums; a second
 * thread's call on a pool that is running is refused (it waits for the
 * run to be inside its work, an event, and the run waits for the refusal);
 * a failing descriptor run, then pools made one after another, then two
 * pools running at the same time from two threads; ws_pool_stop from a
 * second thread stops a run whose indices wait for ws_stopping, and a
 * thread calling ws_pool_stop over and over while runs come and go stops
 * them and never leaves a stop behind for the next run.  Non-zero
 * exit on any failure; no timing is measured or asserted.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wsrun_embed.h"

WS_TASK_2(uint64_t, span_sum, uint64_t, lo, uint64_t, hi)
{
    if (hi - lo <= 2) {
        uint64_t s = 0;
        for (uint64_t v = lo; v < hi; v++)
            s += v;
        return s;
    }
    uint64_t mid = lo + (hi - lo) / 2;
    WS_SPAWN(span_sum, lo, mid);
    uint64_t upper = WS_CALL(span_sum, mid, hi);
    return upper + WS_AWAIT(span_sum);
}

typedef struct each {
    _Atomic unsigned *seen;
    _Atomic uint64_t total;
} each;

static int count_index(void *arg, uint64_t index, ws_ctx *ctx)
{
    each *e = arg;
    /* relaxed: counters read after the run, which joins every worker. */
    atomic_fetch_add_explicit(&e->seen[index], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&e->total, WS_RUN(ctx, span_sum, 0, index % 97),
                              memory_order_relaxed);
    return WS_OK;
}

static int every_index_once(ws_pool *pool, uint64_t n)
{
    each e = {calloc(n, sizeof(unsigned)), 0};
    if (!e.seen)
        return 1;
    int bad = ws_pool_for(pool, n, count_index, &e, NULL) != WS_POOL_OK;
    for (uint64_t i = 0; i < n; i++) {
        if (atomic_load(&e.seen[i]) != 1) {
            printf("tsan_embed: index %llu ran %u times\n", (unsigned long long)i,
                   atomic_load(&e.seen[i]));
            bad = 1;
            break;
        }
    }
    uint64_t want = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t k = i % 97; /* 0 + 1 + ... + k-1 */
        want += k * (k ? k - 1 : 0) / 2;
    }
    if (atomic_load(&e.total) != want) {
        printf("tsan_embed: fork-join total %llu, want %llu\n",
               (unsigned long long)atomic_load(&e.total), (unsigned long long)want);
        bad = 1;
    }
    free(e.seen);
    return bad;
}

/* The busy pool: index 0 holds the run until the other thread's call on
 * the same pool has come back. */
typedef struct busy {
    ws_pool *pool;
    atomic_int inside, refused_rc, tried;
} busy;

static int noop(void *arg, uint64_t index, ws_ctx *ctx)
{
    (void)arg, (void)index, (void)ctx;
    return WS_OK;
}

static int hold_index_0(void *arg, uint64_t index, ws_ctx *ctx)
{
    busy *b = arg;
    (void)ctx;
    if (index != 0)
        return WS_OK;
    /* release/acquire: the flags order the other thread's call after our
     * run began, and our return after its call ended. */
    atomic_store_explicit(&b->inside, 1, memory_order_release);
    while (!atomic_load_explicit(&b->tried, memory_order_acquire))
        sched_yield();
    return WS_OK;
}

static void *try_same_pool(void *arg)
{
    busy *b = arg;
    while (!atomic_load_explicit(&b->inside, memory_order_acquire))
        sched_yield();
    atomic_store_explicit(&b->refused_rc, ws_pool_for(b->pool, 3, noop, NULL, NULL),
                          memory_order_relaxed);
    atomic_store_explicit(&b->tried, 1, memory_order_release);
    return NULL;
}

static int fail_at(void *arg, uint64_t index, ws_ctx *ctx)
{
    (void)arg;
    return index == 321 ? ws_fail(ctx, "no 321") : WS_OK;
}

/* Two pools at once, each run from a thread of its own: each run's index
 * 0 waits until the other pool's run is inside its work too, so the runs
 * overlap for certain (an event, not a delay). */
typedef struct side {
    ws_pool *pool;
    atomic_int *mine, *other;
    _Atomic unsigned *seen;
    _Atomic uint64_t total;
    uint64_t n;
    int rc;
} side;

static int meet_then_count(void *arg, uint64_t index, ws_ctx *ctx)
{
    side *s = arg;
    if (index == 0) {
        /* release/acquire: each side's flag is seen only after its run began. */
        atomic_store_explicit(s->mine, 1, memory_order_release);
        while (!atomic_load_explicit(s->other, memory_order_acquire))
            sched_yield();
    }
    /* relaxed: read after the run, which joins every worker. */
    atomic_fetch_add_explicit(&s->seen[index], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->total, WS_RUN(ctx, span_sum, 0, index % 31),
                              memory_order_relaxed);
    return WS_OK;
}

static void *run_side(void *arg)
{
    side *s = arg;
    s->rc = ws_pool_for(s->pool, s->n, meet_then_count, s, NULL);
    return NULL;
}

static int two_pools_at_once(void)
{
    atomic_int inside_a = 0, inside_b = 0;
    side a = {ws_pool_create(2, 1), &inside_a, &inside_b, NULL, 0, 5000, -1};
    side b = {ws_pool_create(2, 2), &inside_b, &inside_a, NULL, 0, 7000, -1};
    a.seen = calloc(a.n, sizeof(unsigned));
    b.seen = calloc(b.n, sizeof(unsigned));
    pthread_t ta, tb;
    if (!a.pool || !b.pool || !a.seen || !b.seen || pthread_create(&ta, NULL, run_side, &a) != 0)
        return 1;
    if (pthread_create(&tb, NULL, run_side, &b) != 0)
        return 1;
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    int bad = 0;
    side *sides[2] = {&a, &b};
    for (int k = 0; k < 2; k++) {
        side *s = sides[k];
        uint64_t want = 0, wrong = 0;
        for (uint64_t i = 0; i < s->n; i++) {
            uint64_t m = i % 31;
            want += m * (m ? m - 1 : 0) / 2;
            wrong += atomic_load(&s->seen[i]) != 1;
        }
        if (s->rc != WS_POOL_OK || wrong || atomic_load(&s->total) != want) {
            printf("tsan_embed: pool %c of two at once: rc %d, %llu indices not run once, "
                   "total %llu want %llu\n",
                   'A' + k, s->rc, (unsigned long long)wrong,
                   (unsigned long long)atomic_load(&s->total), (unsigned long long)want);
            bad = 1;
        }
        free((void *)s->seen);
        ws_pool_destroy(s->pool);
    }
    return bad;
}

/* ------------------------------------------------------- ws_pool_stop */

typedef struct stopping {
    ws_pool *pool;
    atomic_int inside, done;
} stopping;

static int wait_for_stop(void *arg, uint64_t index, ws_ctx *ctx)
{
    (void)index;
    stopping *s = arg;
    atomic_store(&s->inside, 1);
    while (!ws_stopping(ctx))
        sched_yield();
    return WS_OK;
}

static void *stop_when_inside(void *arg)
{
    stopping *s = arg;
    while (!atomic_load(&s->inside))
        sched_yield();
    ws_pool_stop(s->pool);
    return NULL;
}

static void *stop_until_done(void *arg)
{
    stopping *s = arg;
    while (!atomic_load(&s->done)) {
        ws_pool_stop(s->pool);
        sched_yield(); /* let the run's thread in */
    }
    return NULL;
}

static int count_one(void *arg, uint64_t index, ws_ctx *ctx)
{
    (void)index;
    (void)ctx;
    atomic_fetch_add((atomic_ullong *)arg, 1);
    return WS_OK;
}

static int stops(void)
{
    int bad = 0;
    stopping s = {ws_pool_create(2, 3), 0, 0};
    pthread_t t;
    if (!s.pool || pthread_create(&t, NULL, stop_when_inside, &s) != 0)
        return 1;
    ws_pool_stats st = {.struct_size = sizeof st};
    int rc = ws_pool_for(s.pool, 1000000, wait_for_stop, &s, &st);
    pthread_join(t, NULL);
    if (rc != WS_POOL_FAILED || st.done == 0 || st.done >= 1000000 ||
        !strstr(ws_pool_error(s.pool), "stopped by ws_pool_stop")) {
        printf("tsan_embed: stopped run: %d, done %llu, '%s'\n", rc,
               (unsigned long long)st.done, ws_pool_error(s.pool));
        bad++;
    }
    if (pthread_create(&t, NULL, stop_until_done, &s) != 0)
        return 1;
    unsigned stopped = 0;
    for (int k = 0; k < 300 && !bad; k++) {
        atomic_ullong calls = 0;
        st.done = 0;
        rc = ws_pool_for(s.pool, 40, count_one, &calls, &st);
        if (rc == WS_POOL_OK && st.done == 40 && atomic_load(&calls) == 40)
            continue;
        if (rc == WS_POOL_FAILED && st.done < 40 &&
            strstr(ws_pool_error(s.pool), "stopped by ws_pool_stop")) {
            stopped++;
            continue;
        }
        printf("tsan_embed: run %d among stops: %d, done %llu, '%s'\n", k, rc,
               (unsigned long long)st.done, ws_pool_error(s.pool));
        bad++;
    }
    atomic_store(&s.done, 1);
    pthread_join(t, NULL);
    atomic_ullong calls = 0;
    rc = ws_pool_for(s.pool, 40, count_one, &calls, &st);
    if (rc != WS_POOL_OK || atomic_load(&calls) != 40) {
        printf("tsan_embed: the run after the stops: %d, %llu calls (a stop left over)\n", rc,
               (unsigned long long)atomic_load(&calls));
        bad++;
    }
    printf("tsan_embed: %u of 300 runs among stops were stopped\n", stopped);
    ws_pool_destroy(s.pool);
    return bad;
}

int main(void)
{
    int bad = 0;
    ws_pool *pool = ws_pool_create(3, 5);
    if (!pool)
        return 1;
    bad += every_index_once(pool, 20000);

    busy b = {pool, 0, -1, 0};
    pthread_t t;
    if (pthread_create(&t, NULL, try_same_pool, &b) != 0)
        return 1;
    int rc = ws_pool_for(pool, 100, hold_index_0, &b, NULL);
    pthread_join(t, NULL);
    if (rc != WS_POOL_OK || atomic_load(&b.refused_rc) != WS_POOL_REFUSED) {
        printf("tsan_embed: busy pool: run %d, second call %d (want 0 and 2)\n", rc,
               atomic_load(&b.refused_rc));
        bad++;
    }

    /* The failing index is reported on stderr too: captured and checked. */
    char err_path[] = "/tmp/wsrun-tsan-embed.XXXXXX";
    int err_fd = mkstemp(err_path);
    int saved_stderr = dup(2);
    fflush(stderr);
    dup2(err_fd, 2);
    rc = ws_pool_for(pool, 1000, fail_at, NULL, NULL);
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    char err_text[512] = "";
    ssize_t err_len = pread(err_fd, err_text, sizeof err_text - 1, 0);
    err_text[err_len > 0 ? err_len : 0] = '\0';
    close(err_fd);
    unlink(err_path);
    if (rc != WS_POOL_FAILED || !strstr(ws_pool_error(pool), "index 321 failed: no 321")) {
        printf("tsan_embed: failing run: %d, '%s'\n", rc, ws_pool_error(pool));
        bad++;
    }
    if (!strstr(err_text, "wsrun: ws_pool_for: index 321 failed (worker ") ||
        !strstr(err_text, "): no 321\n")) {
        printf("tsan_embed: the failing index's stderr line: '%s'\n", err_text);
        bad++;
    }
    ws_pool_destroy(pool);

    for (unsigned jobs = 1; jobs <= 4; jobs++) {
        ws_pool *p = ws_pool_create(jobs, 0);
        if (!p)
            return 1;
        bad += every_index_once(p, 3000);
        ws_pool_destroy(p);
    }
    bad += two_pools_at_once();
    bad += stops();
    printf("tsan_embed: %s\n", bad ? "FAILED" : "ok");
    return bad != 0;
}
