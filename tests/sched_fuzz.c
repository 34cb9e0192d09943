/*
 * sched_fuzz.c - schedule fuzzing (`make sched-fuzz`; a short run in `make
 * test` through soak-ci, plain and under TSan).  The runtime's WSRT_HOOK
 * points (runtime/base/test_hooks.h) yield or spin by a seeded random stream,
 * and each round, at -j2..8, checks:
 *  - ranges: every index of a (sub-)range exactly once, with ws_poll
 *    splits inside run_one and failed first attempts that a retry fixes;
 *  - poll-then-fork: run_one reads ws_frame_top, polls, forks _at there;
 *  - random fork-join trees mixing the implicit and _at calls: a hash of
 *    every node against the serial one, each node once, a waiting worker
 *    runs only descendants of what it waits for, and a task's message
 *    survives the stolen tasks its worker runs while it waits;
 *  - a stop requested at a random moment (also while the pool starts):
 *    once the request returned at most one index per worker starts, and
 *    it never stops the next run.
 * SCHED_FUZZ_ONLY=ranges|pollfork|trees|stops runs one kind of round.
 * Prints the seed of a failing round (SCHED_FUZZ_SEED replays from it).
 * Never relies on timing to pass: time only bounds how many rounds run.
 */
#include <sched.h>
#include <time.h>

#include "stress.h"
#include "test_hooks.h"

static uint64_t rng = 1;
static uint64_t next_random(void)
{
    rng = rng * 6364136223846793005u + 1442695040888963407u;
    return ws_mix64(rng);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------ ranges */

typedef struct range_fuzz {
    _Atomic uint8_t *hits, *tries;
    uint64_t salt;
    int fork; /* poll-then-fork shape */
} range_fuzz;

static int rf_child(ws_ctx *ctx, ws_frame *self)
{
    (void)ctx;
    self->ret.u = ws_mix64(self->arg[0].u);
    return WS_OK;
}

static int range_fuzz_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    range_fuzz *s = state;
    uint64_t h = ws_mix64(index ^ s->salt);
    unsigned attempt = atomic_fetch_add(&s->tries[index], 1);
    if (attempt == 0 && h % 13 == 0)
        return ws_fail(ctx, "first attempt at %llu", (unsigned long long)index);
    ws_frame *top = ws_frame_top(ctx);
    for (unsigned k = 0; k < (unsigned)(h % 4); k++)
        ws_poll(ctx); /* may hand the rest of the range to a thief */
    if (s->fork) {
        /* forks at the top read before the polls (issue 14, item 1) */
        unsigned n = 1 + (unsigned)(h % 3);
        uint64_t sum = 0, expect = 0;
        for (unsigned c = 0; c < n; c++) {
            ws_frame *f = ws_frame_at(ctx, top + c, rf_child);
            f->arg[0].u = index * 4 + c;
            ws_spawn_at(ctx, f);
            expect += ws_mix64(index * 4 + c);
        }
        for (unsigned c = n; c-- > 0;) {
            ws_frame *f = top + c;
            if (ws_pop_at(ctx, f))
                rf_child(ctx, f);
            else
                ws_join_at(ctx, f);
            sum += f->ret.u;
        }
        if (sum != expect)
            return WS_OK; /* not counted: the check below reports it */
    }
    atomic_fetch_add(&s->hits[index], 1);
    return WS_OK;
}

static int range_round(unsigned jobs, int fork)
{
    uint64_t count = next_random() % 5000;
    range_fuzz s = {calloc(count + 1, 1), calloc(count + 1, 1), next_random(), fork};
    ws_run run;
    test_run_init(&run, fork ? "pollfork" : "ranges", count, jobs, range_fuzz_run_one, &s);
    run.policy.retries = 1;
    uint64_t begin = 0, end = count;
    if (count && next_random() % 2) { /* a sub-range (--range / a shard) */
        begin = next_random() % count;
        end = begin + next_random() % (count - begin + 1);
        run.ranged = 1;
        run.range_begin = begin;
        run.range_end = end;
    }
    wsrt_pool_result res;
    int bad = test_pool_run(&run, &res) != 0;
    for (uint64_t i = 0; i < count; i++) {
        unsigned want = i >= begin && i < end;
        if (atomic_load(&s.hits[i]) != want && bad++ < 5)
            fprintf(stderr, "sched_fuzz %s -j%u: index %llu counted %u times\n", run.desc.name,
                    jobs, (unsigned long long)i, (unsigned)atomic_load(&s.hits[i]));
    }
    if (res.indices_done != end - begin || res.failed) {
        fprintf(stderr, "sched_fuzz %s -j%u: %llu done, %llu failed, expected %llu\n",
                run.desc.name, jobs, (unsigned long long)res.indices_done,
                (unsigned long long)res.failed, (unsigned long long)(end - begin));
        bad++;
    }
    free(res.workers);
    free(s.hits);
    free(s.tries);
    return bad;
}

/* ------------------------------------------------------------- trees */

/* A node: arg0 id, arg1 depth, arg2 preorder number; its subtree is
 * [pre, pre + size) in the serial preorder, which lets a task check that
 * it is a descendant of what the thread it runs on is waiting for. */
static uint64_t ft_seed;
static unsigned ft_max_depth;
static _Atomic uint64_t ft_hash, ft_nodes;
static _Atomic int ft_bad_leapfrog, ft_bad_message;

static unsigned ft_children(uint64_t id, unsigned depth)
{
    if (depth >= ft_max_depth)
        return 0;
    unsigned k = (unsigned)(ws_mix64(id ^ ft_seed) % 8);
    return k < 3 ? 0 : k < 6 ? 2 : k < 7 ? 3 : 5;
}

static uint64_t ft_child(uint64_t id, unsigned c)
{
    return ws_mix64(id * 31 + c + 1) | 1;
}

static uint64_t ft_size(uint64_t id, unsigned depth)
{
    uint64_t n = 1;
    for (unsigned c = 0, k = ft_children(id, depth); c < k; c++)
        n += ft_size(ft_child(id, c), depth + 1);
    return n;
}

static uint64_t ft_serial_hash(uint64_t id, unsigned depth)
{
    uint64_t h = ws_mix64(id);
    for (unsigned c = 0, k = ft_children(id, depth); c < k; c++)
        h += ft_serial_hash(ft_child(id, c), depth + 1);
    return h;
}

/* What this thread waits for: the preorder intervals of the frames it is
 * syncing, innermost last. */
static _Thread_local uint64_t wait_lo[512], wait_hi[512];
static _Thread_local unsigned n_waits;

static void check_descendant(uint64_t pre)
{
    if (n_waits && (pre < wait_lo[n_waits - 1] || pre >= wait_hi[n_waits - 1]))
        atomic_store(&ft_bad_leapfrog, 1);
}

static int ft_task(ws_ctx *ctx, ws_frame *self);

/* may_implicit: ctx's record of the top is right here (run_one, or a task
 * the runtime started); a child run inline after ws_pop_at is not such a
 * place (its parent's older _at frames are pending), so it uses the _at
 * calls only. */
static void ft_node(ws_ctx *ctx, ws_frame *top, uint64_t id, unsigned depth, uint64_t pre,
                    int may_implicit)
{
    check_descendant(pre);
    for (volatile unsigned spin = 0; spin < (unsigned)(id % 512); spin++)
        ; /* some work, so that thieves find frames to take */
    atomic_fetch_add(&ft_hash, ws_mix64(id));
    atomic_fetch_add(&ft_nodes, 1);
    unsigned k = ft_children(id, depth);
    if (!k)
        return;
    /* A message recorded before waiting must survive the wait.  Only the
     * roots record one: a child run inline shares its parent's buffer. */
    char msg[64];
    int with_msg = depth == 0;
    if (with_msg) {
        snprintf(msg, sizeof msg, "node %llx", (unsigned long long)id);
        ws_fail(ctx, "%s", msg);
    }
    int implicit = may_implicit && (id >> 8) % 2;
    ws_frame *kids[5];
    uint64_t child_pre = pre + 1;
    for (unsigned c = 0; c < k; c++) {
        uint64_t cid = ft_child(id, c);
        kids[c] = implicit ? ws_frame_new(ctx, ft_task) : ws_frame_at(ctx, top + c, ft_task);
        kids[c]->arg[0].u = cid;
        kids[c]->arg[1].u = depth + 1;
        kids[c]->arg[2].u = child_pre;
        child_pre += ft_size(cid, depth + 1);
        if (implicit) {
            ws_spawn(ctx, kids[c]);
            ws_poll(ctx);
        } else {
            ws_spawn_at(ctx, kids[c]);
            ws_poll_at(ctx, top + c + 1);
        }
    }
    for (unsigned c = k; c-- > 0;) {
        uint64_t cpre = kids[c]->arg[2].u, cid = kids[c]->arg[0].u;
        if (!implicit && ws_pop_at(ctx, kids[c])) {
            ft_node(ctx, kids[c], cid, depth + 1, cpre, 0);
            continue;
        }
        wait_lo[n_waits] = cpre;
        wait_hi[n_waits] = cpre + ft_size(cid, depth + 1);
        n_waits++;
        if (implicit)
            ws_sync(ctx, kids[c]);
        else
            ws_join_at(ctx, kids[c]);
        n_waits--;
    }
    if (with_msg) {
        if (strcmp(wsrt_ctx_error(ctx), msg) != 0)
            atomic_store(&ft_bad_message, 1);
        wsrt_ctx_clear_error(ctx);
    }
}

static int ft_task(ws_ctx *ctx, ws_frame *self)
{
    ft_node(ctx, self + 1, self->arg[0].u, (unsigned)self->arg[1].u, self->arg[2].u, 1);
    return WS_OK;
}

static int ft_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    (void)state;
    if (n_waits) /* a range run by a worker that waits for a tree node */
        atomic_store(&ft_bad_leapfrog, 1);
    /* The roots are the trees' ids index + 1; preorder numbers are per
     * tree, shifted so trees do not overlap. */
    ft_node(ctx, ws_frame_top(ctx), index + 1, 0, index << 40, 1);
    return WS_OK;
}

static int tree_round(unsigned jobs)
{
    ft_seed = next_random();
    ft_max_depth = 6 + (unsigned)(next_random() % 6);
    unsigned roots = 1 + (unsigned)(next_random() % 6);
    uint64_t expect_hash = 0, expect_nodes = 0;
    for (unsigned r = 0; r < roots; r++) {
        expect_hash += ft_serial_hash(r + 1, 0);
        expect_nodes += ft_size(r + 1, 0);
    }
    atomic_store(&ft_hash, 0);
    atomic_store(&ft_nodes, 0);
    atomic_store(&ft_bad_leapfrog, 0);
    atomic_store(&ft_bad_message, 0);
    ws_run run;
    test_run_init(&run, "trees", roots, jobs, ft_run_one, NULL);
    wsrt_pool_result res;
    int bad = test_pool_run(&run, &res) != 0 || res.failed;
    free(res.workers);
    if (atomic_load(&ft_hash) != expect_hash || atomic_load(&ft_nodes) != expect_nodes) {
        fprintf(stderr, "sched_fuzz trees -j%u: %llu nodes (expected %llu), hash %s\n", jobs,
                (unsigned long long)atomic_load(&ft_nodes), (unsigned long long)expect_nodes,
                atomic_load(&ft_hash) == expect_hash ? "right" : "wrong");
        bad++;
    }
    if (atomic_load(&ft_bad_leapfrog)) {
        fprintf(stderr, "sched_fuzz trees -j%u: a waiting worker ran a task that is not a "
                        "descendant of the frame it waits for\n", jobs);
        bad++;
    }
    if (atomic_load(&ft_bad_message)) {
        fprintf(stderr, "sched_fuzz trees -j%u: a task's message was lost while it waited\n",
                jobs);
        bad++;
    }
    return bad;
}

/* -------------------------------------------------------------- stops */

typedef struct stop_fuzz {
    _Atomic uint8_t *hits;
    _Atomic int returned;      /* the request has returned */
    _Atomic unsigned late;     /* indices started after that */
    unsigned yields;
    wsrt_pool *pool;           /* whose run is stopped */
} stop_fuzz;

static int stop_fuzz_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    (void)ctx;
    stop_fuzz *s = state;
    if (atomic_load(&s->returned))
        atomic_fetch_add(&s->late, 1);
    atomic_fetch_add(&s->hits[index], 1);
    return WS_OK;
}

static void *stop_requester(void *arg)
{
    stop_fuzz *s = arg;
    for (unsigned k = 0; k < s->yields; k++)
        for (volatile unsigned spin = 0; spin < 100; spin++)
            ;
    wsrt_pool_request_stop(s->pool);
    atomic_store(&s->returned, 1);
    return NULL;
}

static int stop_round(unsigned jobs)
{
    uint64_t count = 20000;
    stop_fuzz s = {calloc(count, 1), 0, 0, (unsigned)(next_random() % 512), NULL};
    if (!(s.pool = wsrt_pool_create(jobs)))
        return 1;
    ws_run run;
    test_run_init(&run, "stops", count, jobs, stop_fuzz_run_one, &s);
    pthread_t t;
    pthread_create(&t, NULL, stop_requester, &s);
    wsrt_pool_result res;
    int bad = wsrt_pool_run(s.pool, &run, &res) != 0;
    pthread_join(t, NULL);
    uint64_t ran = 0;
    for (uint64_t i = 0; i < count; i++)
        ran += atomic_load(&s.hits[i]);
    if (ran != res.indices_done || atomic_load(&s.late) > jobs) {
        fprintf(stderr, "sched_fuzz stops -j%u: %llu ran, %llu done, %u started after the stop\n",
                jobs, (unsigned long long)ran, (unsigned long long)res.indices_done,
                atomic_load(&s.late));
        bad++;
    }
    free(res.workers);
    free(s.hits);
    /* A run that ran every index did not stop early, even when the stop
     * came after its last index (then the run used the request up). */
    if (res.stopped_early && ran == count) {
        fprintf(stderr, "sched_fuzz stops -j%u: every index ran, yet 'stopped early'\n", jobs);
        bad++;
    }
    if (!res.stop_seen) {
        /* The run ended before the request: it is for the pool's next
         * run, which must run nothing (a stop asked while no run runs). */
        count_state c = {calloc(1000, 1), UINT64_MAX};
        test_run_init(&run, "stops", 1000, jobs, count_run_one, &c);
        bad += wsrt_pool_run(s.pool, &run, &res) != 0 || !res.stopped_early;
        free(res.workers);
        free(c.hits);
    }
    /* Now no request is pending: a run of the same pool must not stop. */
    bad += pool_count_run_on(s.pool, 100, jobs);
    wsrt_pool_destroy(s.pool);
    return bad;
}

int main(void)
{
    const char *env = getenv("SCHED_FUZZ_SECONDS");
    double seconds = env ? atof(env) : 20;
    env = getenv("SCHED_FUZZ_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
    rng = seed;
    const char *only = getenv("SCHED_FUZZ_ONLY"); /* one kind of round */
    double t0 = now_s();
    unsigned long rounds = 0;
    int bad = 0;
    while (!bad && now_s() - t0 < seconds) {
        uint64_t round_seed = next_random() | 1;
        rng = round_seed;
        wsrt_test_fuzz_set(round_seed);
        unsigned jobs = 2 + (unsigned)(next_random() % 7); /* 2..8 */
        if (!only || !strcmp(only, "ranges"))
            bad += range_round(jobs, 0);
        if (!only || !strcmp(only, "pollfork"))
            bad += range_round(jobs, 1);
        if (!only || !strcmp(only, "trees"))
            bad += tree_round(jobs);
        if (!only || !strcmp(only, "stops"))
            bad += stop_round(jobs);
        if (bad) /* the sizes and injected delays repeat; the OS schedule does not */
            fprintf(stderr, "sched_fuzz: round %lu failed (SCHED_FUZZ_SEED=%llu)\n", rounds,
                    (unsigned long long)seed);
        rounds++;
    }
    wsrt_test_fuzz_set(0);
    printf("sched_fuzz: %lu rounds at -j 2..8 in %.0f s (seed %llu): %s\n", rounds, now_s() - t0,
           (unsigned long long)seed, bad ? "FAILED" : "ok");
    return bad != 0;
}
