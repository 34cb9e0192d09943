/*
 * treesum_serial.c - benchmark peer: the serial version of the fork-join
 * tutorial's tree sum (docs/tutorial/treesum.c): the same perfect binary
 * tree of `depth` levels below the root, summed by plain recursion.  Built
 * with the plugin's flags by bench/spawn-forms.sh; must stay the very
 * recursion the plugin's task does, without the spawns.
 *
 *   treesum_serial depth=21   prints "sum of N nodes: S" and "time_s ..."
 */
#include "peer.h"

typedef struct node {
    struct node *left, *right;
    uint64_t value;
} node;

static uint64_t tree_sum(const node *t)
{
    if (!t->left)
        return t->value;
    uint64_t right = tree_sum(t->right);
    uint64_t left = tree_sum(t->left);
    return t->value + left + right;
}

int main(int argc, char **argv)
{
    peer_args a = peer_parse(argc, argv);
    uint64_t count = (UINT64_C(2) << peer_int(&a, "depth", 21)) - 1;
    node *nodes = calloc(count, sizeof *nodes);
    if (!nodes)
        return 1;
    for (uint64_t i = 0; i < count; i++) {
        nodes[i].value = i;
        nodes[i].left = 2 * i + 1 < count ? &nodes[2 * i + 1] : NULL;
        nodes[i].right = 2 * i + 2 < count ? &nodes[2 * i + 2] : NULL;
    }
    peer_clock span = peer_start();
    uint64_t sum = tree_sum(nodes);
    peer_stop(&span);
    printf("sum of %llu nodes: %llu\n", (unsigned long long)count, (unsigned long long)sum);
    peer_report(&span);
    free(nodes);
    return 0;
}
