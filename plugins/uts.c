/*
 * uts.c - benchmark plugin: Unbalanced Tree Search, counting the nodes of a
 * tree generated on the fly from SHA-1 node ids (plugins/uts_tree.h).
 *
 *   wsrun --plugin uts -o tree=T1         prints "uts(T1) = 4130071 nodes"
 *   wsrun --plugin uts -o tree=T3 -o b0=1000    (a preset with a change)
 *
 * Every child of a node is a task, the last one run by the parent itself,
 * so the work is as unbalanced as the tree and only stealing spreads it.
 * A preset run that counts a size other than the published one fails.
 * Must never keep tree nodes beyond the path being searched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "uts_tree.h"
#include "bench_timing.h"
#include "wsrun.h"

typedef struct uts_state {
    uts_params params;
    const uts_preset *preset;
    int changed; /* a parameter option overrode the preset */
    int timing;
    uint64_t nodes;
    bench_clock started;
} uts_state;

/* In the order of uts_presets[]: the enum's index picks the preset. */
#define UTS_PRESET_NAMES "T1|T2|T3|T4|T5|T1L|T3L|small|small-bin|tiny"

static const ws_option uts_options[] = {
    {"tree", WS_OPT_ENUM, "T1", "preset tree (sizes in docs/benchmarks.md)", UTS_PRESET_NAMES, 0,
     0},
    {"type", WS_OPT_INT, NULL, "override: 0 binomial, 1 geometric, 2 hybrid (UTS -t)", NULL, 0, 2},
    {"shape", WS_OPT_INT, NULL, "override: geometric shape 0 linear, 1 expdec, 2 cyclic, 3 fixed (-a)",
     NULL, 0, 3},
    {"gen-mx", WS_OPT_INT, NULL, "override: geometric depth scale (-d)", NULL, 1, 100000},
    {"b0", WS_OPT_DOUBLE, NULL, "override: root / expected branching factor (-b)", NULL, 0, 1e6},
    {"root-id", WS_OPT_INT, NULL, "override: root seed (-r)", NULL, 0, 2147483647},
    {"nonleaf-bf", WS_OPT_INT, NULL, "override: binomial children of a non-leaf (-m)", NULL, 1,
     UTS_MAX_CHILDREN},
    {"nonleaf-prob", WS_OPT_DOUBLE, NULL, "override: binomial non-leaf probability (-q)", NULL, 0,
     1},
    {"shift-depth", WS_OPT_DOUBLE, NULL, "override: hybrid geometric fraction of gen-mx (-f)",
     NULL, 0, 1},
    {"timing", WS_OPT_BOOL, "off", "also print time_s, cpu_s and spawns on stdout", NULL, 0, 0},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

/* Typed tasks (wsrun.h): uts_count counts the subtree of a node it is
 * given; each child but the last is spawned as uts_child_count, which
 * makes the child node from its parent (the hashing runs in the child, on
 * whichever worker takes it) and counts it.  The parent awaits its
 * children, so its node outlives them. */
WS_DECLARE_TASK_3(uint64_t, uts_child_count, const uts_params *, p, const uts_node *, parent,
                  uint32_t, index);

/* Nodes in the subtree of `node`, node included. */
WS_TASK_2(uint64_t, uts_count, const uts_params *, p, const uts_node *, node)
{
    int k = uts_num_children(p, node);
    if (k <= 0)
        return 1;
    for (int i = 0; i < k - 1; i++)
        WS_SPAWN(uts_child_count, p, node, (uint32_t)i);
    uint64_t total = 1 + WS_CALL(uts_child_count, p, node, (uint32_t)(k - 1));
    for (int i = k - 2; i >= 0; i--)
        total += WS_AWAIT(uts_child_count);
    return total;
}

WS_TASK_3(uint64_t, uts_child_count, const uts_params *, p, const uts_node *, parent, uint32_t,
          index)
{
    uts_node node;
    uts_child(parent, index, &node);
    return WS_CALL(uts_count, p, &node);
}

static uint64_t uts_spawns(const uts_params *p, const uts_node *n)
{
    int k = uts_num_children(p, n);
    uint64_t spawns = k > 0 ? (uint64_t)(k - 1) : 0;
    for (int i = 0; i < k; i++) {
        uts_node c;
        uts_child(n, (uint32_t)i, &c);
        spawns += uts_spawns(p, &c);
    }
    return spawns;
}

static int uts_init(ws_ctx *ctx, void **state)
{
    uts_state *st = calloc(1, sizeof *st);
    if (!st)
        return ws_fail(ctx, "out of memory");
    st->preset = &uts_presets[ws_opt_enum(ctx, "tree")];
    st->params = st->preset->params;
    st->timing = ws_opt_bool(ctx, "timing");
    if (ws_opt_given(ctx, "type"))
        st->params.type = (int)ws_opt_int(ctx, "type"), st->changed = 1;
    if (ws_opt_given(ctx, "shape"))
        st->params.shape = (int)ws_opt_int(ctx, "shape"), st->changed = 1;
    if (ws_opt_given(ctx, "gen-mx"))
        st->params.gen_mx = (int)ws_opt_int(ctx, "gen-mx"), st->changed = 1;
    if (ws_opt_given(ctx, "b0"))
        st->params.b0 = ws_opt_double(ctx, "b0"), st->changed = 1;
    if (ws_opt_given(ctx, "root-id"))
        st->params.root_id = (int)ws_opt_int(ctx, "root-id"), st->changed = 1;
    if (ws_opt_given(ctx, "nonleaf-bf"))
        st->params.nonleaf_bf = (int)ws_opt_int(ctx, "nonleaf-bf"), st->changed = 1;
    if (ws_opt_given(ctx, "nonleaf-prob"))
        st->params.nonleaf_prob = ws_opt_double(ctx, "nonleaf-prob"), st->changed = 1;
    if (ws_opt_given(ctx, "shift-depth"))
        st->params.shift_depth = ws_opt_double(ctx, "shift-depth"), st->changed = 1;
    if (ws_count_given(ctx) && ws_run_count(ctx) != 1) {
        free(st);
        return ws_fail(ctx, "uts searches one tree: --count must be 1 (or left out)");
    }
    ws_set_count(ctx, 1);
    *state = st;
    bench_clock_start(&st->started);
    return WS_OK;
}

static int uts_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    uts_state *st = state;
    uts_node root;
    (void)index;
    uts_root(&st->params, &root);
    st->nodes = WS_RUN(ctx, uts_count, &st->params, &root);
    return WS_OK;
}

static int uts_finish(void *state, int run_status, ws_ctx *ctx)
{
    uts_state *st = state;
    double wall_s, cpu_s;
    int rc = WS_OK;
    bench_clock_elapsed(&st->started, &wall_s, &cpu_s);
    if (run_status == 0) {
        const char *name = st->changed ? "custom" : st->preset->name;
        printf("uts(%s) = %llu nodes\n", name, (unsigned long long)st->nodes);
        if (st->timing) {
            bench_clock_print(wall_s, cpu_s);
            uts_node root;
            uts_root(&st->params, &root);
            printf("spawns %llu\n",
                   (unsigned long long)uts_spawns(&st->params, &root));
        }
        fflush(stdout);
        if (!st->changed && st->nodes != st->preset->nodes)
            rc = ws_fail(ctx, "tree %s: counted %llu nodes, expected %llu (%s)", st->preset->name,
                         (unsigned long long)st->nodes, (unsigned long long)st->preset->nodes,
                         st->preset->source);
    }
    free(st);
    return rc;
}

static const ws_plugin uts_plugin = {
    WS_PLUGIN_HEADER,
    .name = "uts",
    .version = "1.0",
    .description = "Unbalanced Tree Search: count a SHA-1 generated tree by fork-join",
    .options = uts_options,
    .init = uts_init,
    .run_one = uts_run_one,
    .finish = uts_finish,
};

WS_PLUGIN_DEFINE(uts_plugin)
