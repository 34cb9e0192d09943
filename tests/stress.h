/*
 * stress.h - concurrency checks shared by the Criterion tests and the
 * standalone ThreadSanitizer programs (Criterion cannot start under TSan on
 * this machine).  Each check returns 0 when every item or index was taken
 * exactly once and results are exact, or prints what went wrong and returns
 * non-zero.  Must never rely on timing to pass.
 */
#ifndef WSTEST_STRESS_H
#define WSTEST_STRESS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deque.h"
#include "pool.h"
#include "pool_util.h"
#include "run.h"
#include "wsrun.h"

#pragma GCC diagnostic ignored "-Wunused-function"

/* ------------------------------------------------------------ deque */

typedef struct deque_stress {
    wsrt_deque q;
    uint64_t items;
    _Atomic uint8_t *taken; /* taken[i] counts how often item i+1 came out */
    _Atomic int owner_done;
    _Atomic uint64_t stolen;
} deque_stress;

static void *deque_thief(void *arg)
{
    deque_stress *s = arg;
    uint64_t mine = 0;
    for (;;) {
        uintptr_t x;
        int r = wsrt_deque_steal(&s->q, &x);
        if (r == WSRT_DEQUE_GOT) {
            atomic_fetch_add_explicit(&s->taken[x - 1], 1, memory_order_relaxed);
            mine++;
        } else if (r == WSRT_DEQUE_EMPTY && atomic_load_explicit(&s->owner_done, memory_order_acquire)) {
            /* The owner pushes nothing more and emptied its end: stop once
             * the deque reads empty after its last push. */
            if (wsrt_deque_steal(&s->q, &x) == WSRT_DEQUE_GOT) {
                atomic_fetch_add_explicit(&s->taken[x - 1], 1, memory_order_relaxed);
                mine++;
                continue;
            }
            break;
        }
    }
    atomic_fetch_add(&s->stolen, mine);
    return NULL;
}

/* One owner pushes `items` items in bursts and takes some back while
 * `thieves` threads steal; the deque starts tiny so it grows many times. */
static int deque_stress_run(uint64_t items, int thieves)
{
    deque_stress s;
    memset(&s, 0, sizeof s);
    s.items = items;
    s.taken = calloc(items, 1);
    if (!s.taken || wsrt_deque_init(&s.q, 1) != 0)
        return 1;
    pthread_t th[64];
    for (int i = 0; i < thieves; i++)
        pthread_create(&th[i], NULL, deque_thief, &s);
    uint64_t next = 1, owner_took = 0, rng = 12345;
    while (next <= items) {
        rng = rng * 6364136223846793005u + 1442695040888963407u;
        unsigned burst = 1 + (unsigned)((rng >> 33) % 300);
        for (unsigned k = 0; k < burst && next <= items; k++)
            if (wsrt_deque_push(&s.q, (uintptr_t)next++) != 0)
                return 1;
        unsigned takes = (unsigned)((rng >> 20) % (burst + 1));
        for (unsigned k = 0; k < takes; k++) {
            uintptr_t x;
            if (wsrt_deque_take(&s.q, &x) != WSRT_DEQUE_GOT)
                break;
            atomic_fetch_add_explicit(&s.taken[x - 1], 1, memory_order_relaxed);
            owner_took++;
        }
    }
    for (;;) {
        uintptr_t x;
        if (wsrt_deque_take(&s.q, &x) != WSRT_DEQUE_GOT)
            break;
        atomic_fetch_add_explicit(&s.taken[x - 1], 1, memory_order_relaxed);
        owner_took++;
    }
    atomic_store_explicit(&s.owner_done, 1, memory_order_release);
    for (int i = 0; i < thieves; i++)
        pthread_join(th[i], NULL);
    int bad = 0;
    for (uint64_t i = 0; i < items; i++)
        if (atomic_load(&s.taken[i]) != 1) {
            if (bad++ < 5)
                fprintf(stderr, "deque stress: item %llu taken %u times\n",
                        (unsigned long long)i + 1, (unsigned)atomic_load(&s.taken[i]));
        }
    if (owner_took + atomic_load(&s.stolen) != items) {
        fprintf(stderr, "deque stress: %llu taken by owner + %llu stolen != %llu\n",
                (unsigned long long)owner_took, (unsigned long long)atomic_load(&s.stolen),
                (unsigned long long)items);
        bad++;
    }
    wsrt_deque_destroy(&s.q);
    free(s.taken);
    return bad;
}

/* ------------------------------------------------------- pool runs */

typedef struct count_state {
    _Atomic uint8_t *hits;
    uint64_t fail_at; /* UINT64_MAX: never */
} count_state;

static int count_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    count_state *s = state;
    atomic_fetch_add_explicit(&s->hits[index], 1, memory_order_relaxed);
    if (index == s->fail_at)
        return ws_fail(ctx, "asked to fail at %llu", (unsigned long long)index);
    return WS_OK;
}

static void test_run_init(ws_run *run, const char *name, uint64_t count, unsigned jobs,
                          int (*run_one)(void *, uint64_t, ws_ctx *), void *state)
{
    memset(run, 0, sizeof *run);
    run->desc.abi_major = WS_ABI_MAJOR;
    run->desc.abi_minor = WS_ABI_MINOR; /* as a plugin built now */
    run->desc.struct_size = sizeof(ws_plugin);
    run->desc.name = name;
    run->desc.run_one = run_one;
    run->plugin = &run->desc;
    run->count = count;
    run->jobs = jobs;
    run->seed = 1;
    run->quiet = 1;
    run->state = state;
}

/* Every index of [0, count) runs exactly once at `jobs` workers, on
 * `pool` (NULL: a pool of its own) and not stopped. */
static int pool_count_run_on(wsrt_pool *pool, uint64_t count, unsigned jobs)
{
    count_state s = {calloc(count ? count : 1, 1), UINT64_MAX};
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "count", count, jobs, count_run_one, &s);
    if ((pool ? wsrt_pool_run(pool, &run, &res) : test_pool_run(&run, &res)) != 0)
        return 1;
    int bad = 0;
    for (uint64_t i = 0; i < count; i++)
        if (atomic_load(&s.hits[i]) != 1 && bad++ < 5)
            fprintf(stderr, "count %llu -j%u: index %llu ran %u times\n", (unsigned long long)count,
                    jobs, (unsigned long long)i, (unsigned)atomic_load(&s.hits[i]));
    if (res.indices_done != count || res.failed != 0) {
        fprintf(stderr, "count %llu -j%u: result says %llu done, %llu failed\n",
                (unsigned long long)count, jobs, (unsigned long long)res.indices_done,
                (unsigned long long)res.failed);
        bad++;
    }
    free(res.workers);
    free(s.hits);
    return bad;
}

static int pool_count_run(uint64_t count, unsigned jobs)
{
    return pool_count_run_on(NULL, count, jobs);
}

/* ------------------------------------------------------- fork-join */

typedef struct tree_state {
    uint64_t seed;
    unsigned max_depth;
    unsigned chain_depth; /* >0: every node has exactly one child until this depth */
    uint64_t fail_node;   /* node id whose task fails; 0: none */
    unsigned api;         /* TREE_IMPLICIT, TREE_AT or TREE_MIXED */
    _Atomic uint64_t executed;
    char first_error[256];
    pthread_mutex_t lock;
} tree_state;

static tree_state *g_tree; /* the tree being run (one at a time) */

/* How nodes spawn and sync their children.  TREE_IMPLICIT: ws_frame_new,
 * ws_spawn, ws_sync.  TREE_AT: the _at calls, a popped child running
 * inline on its own slot.  TREE_MIXED: tasks the runtime starts (stolen,
 * or synced through it) at even depths use the implicit calls, all other
 * nodes the _at calls: both crossings of the two forms. */
enum { TREE_IMPLICIT, TREE_AT, TREE_MIXED };

/* Children of a node, derived from its id only, so the serial count and
 * the parallel run see the same tree. */
static unsigned tree_children(const tree_state *t, uint64_t id, unsigned depth)
{
    if (t->chain_depth)
        return depth < t->chain_depth ? 1 : 0;
    if (depth >= t->max_depth)
        return 0;
    uint64_t h = ws_mix64(id ^ t->seed);
    /* mean branching just under 2 with a long tail of wide nodes */
    unsigned k = (unsigned)(h % 8);
    return k < 3 ? 0 : k < 6 ? 2 : k < 7 ? 3 : 6;
}

static uint64_t tree_child_id(uint64_t id, unsigned k)
{
    return ws_mix64(id * 31 + k + 1) | 1;
}

static uint64_t tree_count_serial(const tree_state *t, uint64_t id, unsigned depth)
{
    uint64_t n = 1;
    unsigned k = tree_children(t, id, depth);
    for (unsigned c = 0; c < k; c++)
        n += tree_count_serial(t, tree_child_id(id, c), depth + 1);
    return n;
}

static int tree_node_at(ws_ctx *ctx, ws_frame *top, uint64_t id, unsigned depth, uint64_t *nodes);

/* A node task: arg0 = id, arg1 = depth; ret = nodes in the subtree. */
static int tree_task(ws_ctx *ctx, ws_frame *self)
{
    tree_state *t = g_tree;
    uint64_t id = self->arg[0].u;
    unsigned depth = (unsigned)self->arg[1].u;
    if (t->api == TREE_AT || (t->api == TREE_MIXED && depth % 2 == 1)) {
        uint64_t nodes = 0;
        int rc = tree_node_at(ctx, self + 1, id, depth, &nodes);
        self->ret.u = nodes;
        return rc;
    }
    atomic_fetch_add_explicit(&t->executed, 1, memory_order_relaxed);
    if (id == t->fail_node)
        return ws_fail(ctx, "node %llu at depth %u failed", (unsigned long long)id, depth);
    unsigned k = tree_children(t, id, depth);
    ws_frame *kids[8];
    for (unsigned c = 0; c < k; c++) {
        kids[c] = ws_frame_new(ctx, tree_task);
        kids[c]->arg[0].u = tree_child_id(id, c);
        kids[c]->arg[1].u = depth + 1;
        ws_spawn(ctx, kids[c]);
    }
    uint64_t n = 1;
    int rc = WS_OK;
    for (unsigned c = k; c-- > 0;) {
        int r = ws_sync(ctx, kids[c]);
        if (r != WS_OK && rc == WS_OK)
            rc = r;
        n += kids[c]->ret.u;
    }
    self->ret.u = n;
    return rc;
}

/* The node with the _at calls: children at top, top + 1, ..., a poll after
 * each spawn, synced newest first; a child nobody took runs here, inline,
 * with its own slot as the top (its frame is free once popped). */
static int tree_node_at(ws_ctx *ctx, ws_frame *top, uint64_t id, unsigned depth, uint64_t *nodes)
{
    tree_state *t = g_tree;
    atomic_fetch_add_explicit(&t->executed, 1, memory_order_relaxed);
    *nodes = 1;
    if (id == t->fail_node)
        return ws_fail(ctx, "node %llu at depth %u failed", (unsigned long long)id, depth);
    unsigned k = tree_children(t, id, depth);
    ws_frame *kids[8];
    for (unsigned c = 0; c < k; c++) {
        kids[c] = ws_frame_at(ctx, top + c, tree_task);
        kids[c]->arg[0].u = tree_child_id(id, c);
        kids[c]->arg[1].u = depth + 1;
        ws_spawn_at(ctx, kids[c]);
        ws_poll_at(ctx, top + c + 1);
    }
    int rc = WS_OK;
    for (unsigned c = k; c-- > 0;) {
        uint64_t sub = 0;
        int r;
        if (ws_pop_at(ctx, kids[c])) {
            uint64_t child_id = kids[c]->arg[0].u;
            r = tree_node_at(ctx, kids[c], child_id, depth + 1, &sub);
        } else {
            r = ws_join_at(ctx, kids[c]);
            sub = kids[c]->ret.u;
        }
        if (r != WS_OK && rc == WS_OK)
            rc = r;
        *nodes += sub;
    }
    return rc;
}

typedef struct tree_run_state {
    uint64_t roots_nodes[64];
} tree_run_state;

static int tree_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    tree_run_state *s = state;
    ws_frame *f = ws_frame_new(ctx, tree_task);
    f->arg[0].u = index + 1;
    f->arg[1].u = 0;
    ws_spawn(ctx, f);
    int rc = ws_sync(ctx, f);
    s->roots_nodes[index] = f->ret.u;
    if (rc != WS_OK) {
        pthread_mutex_lock(&g_tree->lock);
        if (!g_tree->first_error[0])
            snprintf(g_tree->first_error, sizeof g_tree->first_error, "%s", wsrt_ctx_error(ctx));
        pthread_mutex_unlock(&g_tree->lock);
    }
    return rc;
}

/* Run `roots` trees (one per index) at `jobs` workers; check node counts
 * against the serial count and that every node ran exactly once. */
static int forkjoin_tree_run(tree_state *t, unsigned roots, unsigned jobs, wsrt_pool_result *out)
{
    tree_run_state s;
    memset(&s, 0, sizeof s);
    atomic_store(&t->executed, 0);
    t->first_error[0] = '\0';
    pthread_mutex_init(&t->lock, NULL);
    g_tree = t;
    ws_run run;
    test_run_init(&run, "tree", roots, jobs, tree_run_one, &s);
    run.policy.keep_going = 1;
    if (test_pool_run(&run, out) != 0)
        return 1;
    if (t->fail_node)
        return 0; /* the caller checks the error */
    uint64_t expect_total = 0;
    int bad = 0;
    for (unsigned r = 0; r < roots; r++) {
        uint64_t expect = t->chain_depth ? t->chain_depth + 1 : tree_count_serial(t, r + 1, 0);
        expect_total += expect;
        if (s.roots_nodes[r] != expect && bad++ < 5)
            fprintf(stderr, "tree %u -j%u: %llu nodes, expected %llu\n", r, jobs,
                    (unsigned long long)s.roots_nodes[r], (unsigned long long)expect);
    }
    if (atomic_load(&t->executed) != expect_total) {
        fprintf(stderr, "tree -j%u: %llu tasks executed, expected %llu\n", jobs,
                (unsigned long long)atomic_load(&t->executed), (unsigned long long)expect_total);
        bad++;
    }
    return bad;
}

/* Random trees (seed + jobs, depth up to max_depth, `roots` per run) with
 * each of the three APIs at -j1..max_jobs; returns the number of bad runs. */
static int forkjoin_trees_every_api(uint64_t seed, unsigned max_depth, unsigned roots,
                                    unsigned max_jobs)
{
    static const char *const names[] = {"implicit", "_at", "mixed"};
    int bad = 0;
    for (unsigned api = TREE_IMPLICIT; api <= TREE_MIXED; api++)
        for (unsigned jobs = 1; jobs <= max_jobs; jobs++) {
            tree_state t;
            memset(&t, 0, sizeof t);
            t.seed = seed + jobs;
            t.max_depth = max_depth;
            t.api = api;
            wsrt_pool_result res;
            int b = forkjoin_tree_run(&t, roots, jobs, &res) + (res.failed != 0);
            if (b)
                fprintf(stderr, "trees with the %s calls at -j%u went wrong\n", names[api], jobs);
            bad += b;
            free(res.workers);
        }
    return bad;
}

/* fib with the explicit-top fast path (ws_frame_at / ws_pop / ws_join),
 * counting calls so duplicates or losses show. */
static _Atomic uint64_t fib_calls;
static int fib_top_task(ws_ctx *ctx, ws_frame *self);

static int64_t fib_top(ws_ctx *ctx, ws_frame *top, int n)
{
    atomic_fetch_add_explicit(&fib_calls, 1, memory_order_relaxed);
    if (n < 2)
        return n;
    ws_frame *f = ws_frame_at(ctx, top, fib_top_task);
    f->arg[0].i = n - 1;
    ws_spawn(ctx, f);
    int64_t b = fib_top(ctx, top + 1, n - 2);
    int64_t a;
    if (ws_pop(ctx, f))
        a = fib_top(ctx, top, n - 1);
    else {
        ws_join(ctx, f);
        a = f->ret.i;
    }
    return a + b;
}

static int fib_top_task(ws_ctx *ctx, ws_frame *self)
{
    self->ret.i = fib_top(ctx, self + 1, (int)self->arg[0].i);
    return WS_OK;
}

/* fib with the _at calls, in the plugin's shape (plugins/fib.c): spawn
 * fib(n-2), call fib(n-1), take the child back with ws_pop_at. */
static int fib_at_task(ws_ctx *ctx, ws_frame *self);

static inline int64_t fib_at(ws_ctx *ctx, ws_frame *top, int n)
{
    atomic_fetch_add_explicit(&fib_calls, 1, memory_order_relaxed);
    if (n < 2)
        return n;
    ws_frame *f = ws_frame_at(ctx, top, fib_at_task);
    f->arg[0].i = n - 2;
    ws_spawn_at(ctx, f);
    int64_t a = fib_at(ctx, top + 1, n - 1);
    if (ws_pop_at(ctx, f))
        return a + fib_at(ctx, top, n - 2);
    ws_join_at(ctx, f);
    return a + f->ret.i;
}

static int fib_at_task(ws_ctx *ctx, ws_frame *self)
{
    self->ret.i = fib_at(ctx, self + 1, (int)self->arg[0].i);
    return WS_OK;
}

typedef struct fib_run_state {
    int n;
    int use_at; /* the _at calls instead of ABI 1.0's ws_spawn/ws_pop/ws_join */
    int64_t result[16];
} fib_run_state;

static int fib_top_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    fib_run_state *s = state;
    ws_frame *top = ws_frame_top(ctx);
    s->result[index] = s->use_at ? fib_at(ctx, top, s->n) : fib_top(ctx, top, s->n);
    /* Both forms leave ctx's record of the top where run_one found it. */
    if (ws_frame_top(ctx) != top)
        return ws_fail(ctx, "the frame stack top moved");
    return WS_OK;
}

/* fib(n) in `roots` indices at `jobs` workers: exact value, exact calls. */
static int fib_check(int n, unsigned roots, unsigned jobs, int use_at)
{
    fib_run_state s = {n, use_at, {0}};
    int64_t a = 0, b = 1;
    for (int i = 0; i < n; i++) {
        int64_t t = a + b;
        a = b;
        b = t;
    }
    uint64_t calls_one = 2 * (uint64_t)b - 1; /* 2 fib(n+1) - 1 */
    atomic_store(&fib_calls, 0);
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "fib", roots, jobs, fib_top_run_one, &s);
    if (test_pool_run(&run, &res) != 0)
        return 1;
    int bad = res.failed != 0;
    free(res.workers);
    for (unsigned r = 0; r < roots; r++)
        if (s.result[r] != a && bad++ < 3)
            fprintf(stderr, "fib(%d) -j%u = %lld, expected %lld\n", n, jobs, (long long)s.result[r],
                    (long long)a);
    if (atomic_load(&fib_calls) != calls_one * roots) {
        fprintf(stderr, "fib(%d) -j%u: %llu calls, expected %llu\n", n, jobs,
                (unsigned long long)atomic_load(&fib_calls), (unsigned long long)(calls_one * roots));
        bad++;
    }
    return bad;
}

#endif
