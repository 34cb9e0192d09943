/*
 * uts_omp.c - benchmark peer: Unbalanced Tree Search with OpenMP tasks
 * (libgomp), one task per child like the uts plugin.  Must use the plugin's
 * tree code (plugins/uts_tree.h) unchanged.
 *
 *   uts_omp -j 2 tree=T1
 */
#include <omp.h>

#include "peer.h"
#include "uts_tree.h"
#include "peer_omp.h"

static uint64_t uts_tasks(const uts_params *p, const uts_node *node)
{
    int k = uts_num_children(p, node);
    if (k == 0)
        return 1;
    uint64_t *counts = malloc((size_t)k * sizeof *counts);
    if (!counts) {
        fprintf(stderr, "uts_omp: out of memory\n");
        exit(2);
    }
    for (int i = 0; i < k; i++) {
#pragma omp task shared(counts) firstprivate(i)
        {
            uts_node c;
            uts_child(node, (uint32_t)i, &c);
            counts[i] = uts_tasks(p, &c);
        }
    }
#pragma omp taskwait
    uint64_t total = 1;
    for (int i = 0; i < k; i++)
        total += counts[i];
    free(counts);
    return total;
}

int main(int argc, char **argv)
{
    peer_args a = peer_parse(argc, argv);
    const char *name = peer_str(&a, "tree", "T1");
    const uts_preset *p = uts_find_preset(name);
    if (!p)
        peer_die(&a, "unknown tree preset", name);
    uts_node root;
    uts_root(&p->params, &root);
    uint64_t nodes = 0;
    omp_set_num_threads(a.jobs);
    peer_omp_start_pool();
    peer_clock span = peer_start();
#pragma omp parallel
#pragma omp single
    nodes = uts_tasks(&p->params, &root);
    peer_stop(&span);
    printf("uts(%s) = %llu nodes\n", p->name, (unsigned long long)nodes);
    peer_report(&span);
    return nodes == p->nodes ? 0 : 1;
}
