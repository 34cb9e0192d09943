/*
 * forktree.c - stress plugin for fork-join: each index is a tree of tasks
 * of random shape and depth, spawned and synced through wsrun.h, checked
 * against a serial walk of the same tree.
 *
 *   wsrun --plugin forktree --count 16 -j 8
 *   wsrun --plugin forktree --count 1 -o chain=100000 -o fail-depth=99999
 *
 * Index 0 is a chain `chain` tasks deep (each task spawns one child).  Any
 * other index draws a node budget in [1, nodes] and a branching limit in
 * [1, max-children]; a node keeps one unit and splits the rest among a
 * random number of children, so sizes are exact and shapes range from
 * chains to bushes.  Every task counts itself and XORs its key into
 * run-wide totals: finish fails unless every task ran exactly once, and an
 * index fails unless the checksum its tasks returned matches the serial
 * walk.  With fail-depth=D every node at depth D fails (it marks its tree
 * failed and spawns nothing; the index then fails), to check that an
 * error from deep inside a tree reaches the user.  Must never be used
 * to measure speed: the shared counters are contended on purpose.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "wsrun.h"

#define FORKTREE_DEFAULT_COUNT 16
#define GOLDEN UINT64_C(0x9e3779b97f4a7c15)

typedef struct forktree_state {
    uint64_t count;
    int64_t chain, nodes, max_children, fail_depth;
    _Atomic uint64_t executions;   /* tasks run, all trees */
    _Atomic uint64_t executed_xor; /* XOR of the mixed keys of tasks run */
    _Atomic uint64_t expected_nodes;
    _Atomic uint64_t expected_xor;
    _Atomic uint64_t checksum_sum; /* sum of the per-tree checksums */
} forktree_state;

/* What every node of one tree needs; lives in run_one's frame. */
typedef struct tree_ctx {
    forktree_state *st;
    uint64_t max_children;
    uint64_t index;
    atomic_int failed; /* a node at fail-depth ran */
} tree_ctx;

static const ws_option forktree_options[] = {
    {"chain", WS_OPT_INT, "100000", "depth of the chain tree (index 0)", NULL, 1, 1000000},
    {"nodes", WS_OPT_INT, "20000", "largest budget of a random tree", NULL, 1, 10000000},
    {"max-children", WS_OPT_INT, "8", "largest branching limit of a random tree", NULL, 1, 1000},
    {"fail-depth", WS_OPT_INT, "-1", "make the nodes at this depth fail (-1: none)", NULL, -1,
     1000000},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

/* How many children a node has and the budget of child j: both pure
 * functions of the node's key, shared by the parallel and serial walks. */
static uint64_t node_children(uint64_t key, uint64_t budget, uint64_t max_children)
{
    uint64_t rest = budget - 1;
    if (rest == 0)
        return 0;
    uint64_t limit = rest < max_children ? rest : max_children;
    return 1 + ws_mix64(key ^ GOLDEN) % limit;
}

/* Split the node's rest among k children, each at least 1; the shares of
 * children 0..j-1 come first, so callers walk j upwards. */
static uint64_t child_share(uint64_t key, uint64_t j, uint64_t k, uint64_t *rest)
{
    uint64_t share;
    if (j == k - 1) {
        share = *rest;
    } else {
        uint64_t most = *rest - (k - 1 - j);
        share = 1 + ws_mix64(key + (j + 2) * GOLDEN) % most;
    }
    *rest -= share;
    return share;
}

static uint64_t child_key(uint64_t key, uint64_t j)
{
    return ws_mix64(key ^ ((j + 1) * GOLDEN + 0x2545f4914f6cdd1dULL));
}

/* A typed task (wsrun.h's WS_TASK_4): a node's checksum is the sum of
 * the mixed keys of its subtree.  Typed tasks cannot fail, so a node at
 * fail-depth records the failure in its tree and stops there (no
 * children); run_one reports it once the whole tree is synced. */
WS_TASK_4(uint64_t, visit, tree_ctx *, t, uint64_t, key, uint64_t, budget, uint64_t, depth)
{
    forktree_state *st = t->st;
    uint64_t mixed = ws_mix64(key);
    /* relaxed: totals read by finish after the pool has joined. */
    atomic_fetch_add_explicit(&st->executions, 1, memory_order_relaxed);
    atomic_fetch_xor_explicit(&st->executed_xor, mixed, memory_order_relaxed);
    if ((int64_t)depth == st->fail_depth) {
        /* relaxed: run_one reads it after syncing every task of the tree,
         * and each sync orders the child's work before what follows it. */
        atomic_store_explicit(&t->failed, 1, memory_order_relaxed);
        return mixed;
    }
    uint64_t k = node_children(key, budget, t->max_children);
    uint64_t rest = budget - 1, sum = mixed;
    if (k == 0)
        return sum;
    for (uint64_t j = 0; j + 1 < k; j++)
        WS_SPAWN(visit, t, child_key(key, j), child_share(key, j, k, &rest), depth + 1);
    uint64_t last_budget = child_share(key, k - 1, k, &rest);
    sum += WS_CALL(visit, t, child_key(key, k - 1), last_budget, depth + 1);
    for (uint64_t j = k - 1; j-- > 0;)
        sum += WS_AWAIT(visit);
    return sum;
}

/* The same tree walked serially with an explicit stack (a 10^5-deep chain
 * would not fit a recursion here): checksum and XOR of its mixed keys. */
typedef struct walk_item {
    uint64_t key, budget;
} walk_item;

static int walk_serial(uint64_t key, uint64_t budget, uint64_t max_children, uint64_t *sum,
                       uint64_t *xor_keys)
{
    size_t cap = 1024, top = 0;
    walk_item *stack = malloc(cap * sizeof *stack);
    if (!stack)
        return -1;
    stack[top++] = (walk_item){key, budget};
    *sum = 0;
    *xor_keys = 0;
    while (top > 0) {
        walk_item it = stack[--top];
        uint64_t mixed = ws_mix64(it.key);
        *sum += mixed;
        *xor_keys ^= mixed;
        uint64_t k = node_children(it.key, it.budget, max_children), rest = it.budget - 1;
        for (uint64_t j = 0; j < k; j++) {
            if (top == cap) {
                walk_item *bigger = realloc(stack, 2 * cap * sizeof *stack);
                if (!bigger) {
                    free(stack);
                    return -1;
                }
                stack = bigger;
                cap *= 2;
            }
            uint64_t share = child_share(it.key, j, k, &rest);
            stack[top++] = (walk_item){child_key(it.key, j), share};
        }
    }
    free(stack);
    return 0;
}

static int forktree_init(ws_ctx *ctx, void **state)
{
    forktree_state *st = calloc(1, sizeof *st);
    if (!st)
        return ws_fail(ctx, "out of memory");
    st->chain = ws_opt_int(ctx, "chain");
    st->nodes = ws_opt_int(ctx, "nodes");
    st->max_children = ws_opt_int(ctx, "max-children");
    st->fail_depth = ws_opt_int(ctx, "fail-depth");
    if (!ws_count_given(ctx))
        ws_set_count(ctx, FORKTREE_DEFAULT_COUNT);
    st->count = ws_count_given(ctx) ? ws_run_count(ctx) : FORKTREE_DEFAULT_COUNT;
    *state = st;
    return WS_OK;
}

static int forktree_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    forktree_state *st = state;
    ws_rng rng = ws_rng_for(ctx, index);
    uint64_t key = ws_rng_next(&rng), budget;
    tree_ctx t = {st, 1, index, 0};
    if (index == 0) {
        budget = (uint64_t)st->chain;
    } else {
        budget = 1 + ws_rng_next(&rng) % (uint64_t)st->nodes;
        t.max_children = 1 + ws_rng_next(&rng) % (uint64_t)st->max_children;
    }
    uint64_t want_sum, want_xor, got_sum;
    if (walk_serial(key, budget, t.max_children, &want_sum, &want_xor) != 0)
        return ws_fail(ctx, "out of memory walking tree %llu", (unsigned long long)index);
    atomic_fetch_add_explicit(&st->expected_nodes, budget, memory_order_relaxed);
    atomic_fetch_xor_explicit(&st->expected_xor, want_xor, memory_order_relaxed);
    got_sum = WS_RUN(ctx, visit, &t, key, budget, 0);
    if (atomic_load_explicit(&t.failed, memory_order_relaxed))
        return ws_fail(ctx, "tree %llu: node at depth %lld failed on purpose",
                       (unsigned long long)index, (long long)st->fail_depth);
    if (got_sum != want_sum)
        return ws_fail(ctx, "tree %llu (%llu nodes, branching <= %llu): checksum %016llx, serial walk %016llx",
                       (unsigned long long)index, (unsigned long long)budget,
                       (unsigned long long)t.max_children, (unsigned long long)got_sum,
                       (unsigned long long)want_sum);
    atomic_fetch_add_explicit(&st->checksum_sum, got_sum, memory_order_relaxed);
    return WS_OK;
}

static int forktree_finish(void *state, int run_status, ws_ctx *ctx)
{
    forktree_state *st = state;
    int rc = WS_OK;
    if (run_status == 0) {
        uint64_t ran = atomic_load(&st->executions), want = atomic_load(&st->expected_nodes);
        uint64_t ran_xor = atomic_load(&st->executed_xor), want_xor = atomic_load(&st->expected_xor);
        if (ran != want || ran_xor != want_xor) {
            rc = ws_fail(ctx, "%llu tasks ran for %llu nodes (key XOR %016llx, expected %016llx)",
                         (unsigned long long)ran, (unsigned long long)want,
                         (unsigned long long)ran_xor, (unsigned long long)want_xor);
        } else {
            printf("forktree = %llu trees, %llu tasks, checksum %016llx\n",
                   (unsigned long long)st->count, (unsigned long long)ran,
                   (unsigned long long)atomic_load(&st->checksum_sum));
            fflush(stdout);
        }
    }
    free(st);
    return rc;
}

static const ws_plugin forktree_plugin = {
    WS_PLUGIN_HEADER,
    .name = "forktree",
    .version = "1.0",
    .description = "fork-join stress: random task trees checked against a serial walk",
    .options = forktree_options,
    .init = forktree_init,
    .run_one = forktree_run_one,
    .finish = forktree_finish,
};

WS_PLUGIN_DEFINE(forktree_plugin)
