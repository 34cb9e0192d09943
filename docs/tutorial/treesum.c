/* treesum.c - a wsrun plugin: sums the values of a binary tree by fork-join. */
#include <stdio.h>
#include <stdlib.h>
#include "wsrun.h"
typedef struct node {
    struct node *left, *right;
    uint64_t value;
} node;
typedef struct treesum {
    node *nodes; /* node i's children are 2i+1 and 2i+2 */
    uint64_t count, sum;
} treesum;
static const ws_option treesum_options[] = {
    {"depth", WS_OPT_INT, "16", "levels below the root", NULL, 0, 24},
    {NULL}};
/* One task: the sum of the subtree under t.  Both children are spawned;
 * WS_AWAIT syncs the last one spawned and hands back its value. */
WS_TASK_1(uint64_t, tree_sum, const node *, t)
{
    if (!t->left) /* a leaf: the tree is perfect, two children or none */
        return t->value;
    WS_SPAWN(tree_sum, t->left);
    WS_SPAWN(tree_sum, t->right);
    uint64_t right = WS_AWAIT(tree_sum); /* the last spawn comes back first */
    uint64_t left = WS_AWAIT(tree_sum);
    return t->value + left + right;
}
static int treesum_init(ws_ctx *ctx, void **state)
{
    treesum *s = calloc(1, sizeof *s);
    if (!s)
        return ws_fail(ctx, "out of memory");
    s->count = (UINT64_C(2) << ws_opt_int(ctx, "depth")) - 1;
    s->nodes = calloc(s->count, sizeof(node));
    if (!s->nodes) {
        free(s);
        return ws_fail(ctx, "out of memory for the tree");
    }
    for (uint64_t i = 0; i < s->count; i++) {
        s->nodes[i].value = i;
        s->nodes[i].left = 2 * i + 1 < s->count ? &s->nodes[2 * i + 1] : NULL;
        s->nodes[i].right = 2 * i + 2 < s->count ? &s->nodes[2 * i + 2] : NULL;
    }
    ws_set_count(ctx, 1); /* one index: the whole tree */
    *state = s;
    return WS_OK;
}
static int treesum_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    treesum *s = state;
    (void)index;
    s->sum = WS_RUN(ctx, tree_sum, s->nodes); /* from run_one: WS_RUN */
    return WS_OK;
}
static int treesum_finish(void *state, int run_status, ws_ctx *ctx)
{
    treesum *s = state;
    (void)ctx;
    if (run_status == 0)
        printf("sum of %llu nodes: %llu\n", (unsigned long long)s->count,
               (unsigned long long)s->sum);
    free(s->nodes);
    free(s);
    return WS_OK;
}
static const ws_plugin treesum_plugin = {
    WS_PLUGIN_HEADER,
    .name = "treesum",
    .version = "1.0",
    .description = "sum a binary tree by fork-join",
    .options = treesum_options,
    .init = treesum_init,
    .run_one = treesum_run_one,
    .finish = treesum_finish,
};
WS_PLUGIN_DEFINE(treesum_plugin)
